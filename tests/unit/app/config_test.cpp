#define BOOST_TEST_MODULE unit_app
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "gateway/app/config.hpp"
#include "tests/support/test_env.hpp"

using vkhid::app::loadConfig;

namespace {

vkhid::app::EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string writeToml(const std::string& text) {
  static int n = 0;
  auto path = std::filesystem::path(vkhid::testing::varDir()) / ("config-" + std::to_string(++n) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_point_at_the_private_servers) {
  auto c = loadConfig(std::nullopt, envOf({}));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->database.url == "postgresql://vkhid@127.0.0.1:54329/vkhid");
  BOOST_TEST(c->broker.url == "amqp://guest:guest@127.0.0.1:56729/%2f");
  BOOST_TEST(c->admin.listen == "127.0.0.1:8081");
  BOOST_TEST(!c->gateway.instance.empty());
}

BOOST_AUTO_TEST_CASE(file_values_are_read) {
  auto path = writeToml(
      "[gateway]\ninstance = \"gw-7\"\nshutdown_timeout_s = 5\n"
      "[database]\nurl = \"postgresql://u@db:5432/x\"\nmigrate_on_start = false\n"
      "[admin]\nlisten = \"0.0.0.0:9000\"\n");
  auto c = loadConfig(path, envOf({}));
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->gateway.instance == "gw-7");
  BOOST_TEST(c->gateway.shutdown_timeout_s == 5);
  BOOST_TEST(c->database.url == "postgresql://u@db:5432/x");
  BOOST_TEST(c->database.migrate_on_start == false);
  BOOST_TEST(c->admin.listen == "0.0.0.0:9000");
}

BOOST_AUTO_TEST_CASE(unknown_key_is_refused_with_its_name) {
  auto c = loadConfig(writeToml("[database]\nurll = \"postgresql://x\"\n"), envOf({}));
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == "config.unknown_key");
  BOOST_TEST(c.error().message.find("database.urll") != std::string::npos);

  auto section = loadConfig(writeToml("[datbase]\nurl = \"postgresql://x\"\n"), envOf({}));
  BOOST_REQUIRE(!section.ok());
  BOOST_TEST(section.error().message.find("datbase.url") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_type_is_refused_with_key_and_expectation) {
  auto c = loadConfig(writeToml("[gateway]\nshutdown_timeout_s = \"soon\"\n"), envOf({}));
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == "config.bad_value");
  BOOST_TEST(c.error().message.find("gateway.shutdown_timeout_s") != std::string::npos);
  BOOST_TEST(c.error().message.find("integer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(out_of_range_is_refused) {
  auto c = loadConfig(writeToml("[gateway]\nshutdown_timeout_s = 0\n"), envOf({}));
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().message.find("from 1 to 600") != std::string::npos);
  auto level = loadConfig(writeToml("[log]\nlevel = \"loud\"\n"), envOf({}));
  BOOST_REQUIRE(!level.ok());
  BOOST_TEST(level.error().message.find("log.level") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(syntax_error_names_line) {
  auto c = loadConfig(writeToml("[gateway]\n\ninstance = \n"), envOf({}));
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == "config.syntax");
  BOOST_TEST(c.error().message.find(":3:") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(environment_overrides_the_file) {
  auto path = writeToml("[log]\nlevel = \"warn\"\n[broker]\nheartbeat_s = 10\n");
  auto c = loadConfig(path, envOf({{"VKHID_LOG_LEVEL", "debug"}, {"VKHID_BROKER_HEARTBEAT_S", "0"}}));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->log.level == "debug");
  BOOST_TEST(c->broker.heartbeat_s == 0);
}

BOOST_AUTO_TEST_CASE(service_urls_from_scripts_services_are_accepted) {
  auto c =
      loadConfig(std::nullopt, envOf({{"VKHID_PG_URL", "postgresql://a@h:1/d"}, {"VKHID_AMQP_URL", "amqp://b@h:2/v"}}));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->database.url == "postgresql://a@h:1/d");
  BOOST_TEST(c->broker.url == "amqp://b@h:2/v");
  // The specific form wins over the alias.
  auto both = loadConfig(
      std::nullopt, envOf({{"VKHID_PG_URL", "postgresql://a@h:1/d"}, {"VKHID_DATABASE_URL", "postgresql://c@h:3/e"}}));
  BOOST_REQUIRE(both.ok());
  BOOST_TEST(both->database.url == "postgresql://c@h:3/e");
}

BOOST_AUTO_TEST_CASE(bad_environment_value_names_the_variable) {
  auto c = loadConfig(std::nullopt, envOf({{"VKHID_DATABASE_MIGRATE_ON_START", "maybe"}}));
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().message.find("VKHID_DATABASE_MIGRATE_ON_START") != std::string::npos);
  auto url = loadConfig(std::nullopt, envOf({{"VKHID_PG_URL", "mysql://x"}}));
  BOOST_REQUIRE(!url.ok());
  BOOST_TEST(url.error().message.find("database.url") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_key_has_an_environment_name) {
  // The documented example file must name every key the gateway knows (and nothing else).
  std::ifstream in(vkhid::testing::sourceDir() + "/config/vkhid.toml");
  std::string example((std::istreambuf_iterator<char>(in)), {});
  for (const auto& key : vkhid::app::knownConfigKeys()) {
    auto name = key.substr(key.find('.') + 1);
    BOOST_TEST_INFO("key " << key);
    BOOST_TEST(example.find(name) != std::string::npos);
  }
  BOOST_TEST(vkhid::app::envNameFor("database.url") == "VKHID_DATABASE_URL");
  BOOST_TEST(vkhid::app::envNameFor("delivery.retry_delays") == "VKHID_DELIVERY_RETRY_DELAYS");
  auto parsed = loadConfig(vkhid::testing::sourceDir() + "/config/vkhid.toml", envOf({}));
  BOOST_TEST(parsed.ok(), (parsed.ok() ? std::string() : parsed.error().message));
}

BOOST_AUTO_TEST_SUITE_END()
