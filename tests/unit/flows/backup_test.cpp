// The broker's part of a backup: the definitions of the gateway's virtual host, and nothing of another's.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "gateway/flows/backup.hpp"

namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(backup)

BOOST_AUTO_TEST_CASE(the_broker_backup_keeps_the_gateways_virtual_host_and_its_users_only) {
  // As `rabbitmqctl export_definitions` writes them: two virtual hosts, each with a user and a queue.
  const std::string all = R"({"rabbit_version":"3.10.8",
    "users":[{"name":"vkhid","password_hash":"h1","tags":[]},{"name":"other","password_hash":"h2","tags":[]},
             {"name":"both","password_hash":"h3","tags":[]}],
    "vhosts":[{"name":"/vkhid"},{"name":"/else"}],
    "permissions":[{"user":"vkhid","vhost":"/vkhid","configure":".*","write":".*","read":".*"},
                   {"user":"other","vhost":"/else","configure":".*","write":".*","read":".*"},
                   {"user":"both","vhost":"/vkhid","configure":"","write":".*","read":".*"},
                   {"user":"both","vhost":"/else","configure":"","write":".*","read":".*"}],
    "queues":[{"name":"vkhid.intake","vhost":"/vkhid","durable":true},{"name":"theirs","vhost":"/else","durable":true}],
    "exchanges":[],"bindings":[{"source":"vkhid.out","vhost":"/else","destination":"theirs"}],
    "policies":[{"vhost":"/vkhid","name":"ttl","pattern":".*","definition":{}}],
    "global_parameters":[{"name":"cluster_name","value":"rabbit@elsewhere"}]})";
  auto kept = vkhid::flows::definitionsOfVhost(all, "/vkhid");
  BOOST_REQUIRE(static_cast<bool>(kept));
  const auto out = json::parse(*kept).as_object();
  BOOST_TEST(out.at("vhosts").as_array().size() == 1u);
  BOOST_TEST(out.at("vhosts").at(0).at("name").as_string() == "/vkhid");
  std::vector<std::string> users;
  for (const auto& u : out.at("users").as_array()) users.emplace_back(u.at("name").as_string());
  BOOST_TEST(users == (std::vector<std::string>{"vkhid", "both"}));
  BOOST_TEST(out.at("permissions").as_array().size() == 2u);
  for (const auto& p : out.at("permissions").as_array()) BOOST_TEST(p.at("vhost").as_string() == "/vkhid");
  BOOST_TEST(out.at("queues").as_array().size() == 1u);
  BOOST_TEST(out.at("bindings").as_array().empty());
  BOOST_TEST(out.at("policies").as_array().size() == 1u);
  BOOST_TEST(!out.contains("global_parameters"));  // the other cluster's settings are not ours to restore
  // What is not definitions is refused, not half-kept.
  BOOST_TEST(!static_cast<bool>(vkhid::flows::definitionsOfVhost("not json", "/vkhid")));
}

BOOST_AUTO_TEST_SUITE_END()
