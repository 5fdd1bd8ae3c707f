// The production profile (issue 28): what `vkhid serve --profile production` refuses, each with its key
// and fix, judged on real files — the development PKI of certs/make-dev-pki, and a key file's mode.
#define BOOST_TEST_MODULE unit_service
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "gateway/service/profile.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;
using namespace vkhid::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> keysOf(const std::vector<service::Refusal>& refusals) {
  std::vector<std::string> keys;
  for (const auto& r : refusals) {
    BOOST_TEST(!r.problem.empty(), r.key);
    BOOST_TEST(!r.fix.empty(), r.key);
    keys.push_back(r.key);
  }
  return keys;
}

bool has(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A copy of a PKI file with this mode, in a folder of its own.
std::string copyWithMode(const std::string& name, mode_t mode) {
  const std::string dir = varDir() + "/profile-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const std::string to = dir + "/" + name + "-" + std::to_string(mode);
  fs::copy_file(pkiDir() + "/" + name, to, fs::copy_options::overwrite_existing);
  ::chmod(to.c_str(), mode);
  return to;
}

// What an operator following docs/operations.md writes: the UCC's own certificates (here a CA that is
// not the development one), TLS, its own broker user, no password in the URL, a time-stamp authority.
app::Config safeConfig() {
  app::Config c;
  c.database.url = "postgresql://vkhid@db.ucc.internal:5432/vkhid";
  c.broker.url = "amqps://vkhid-gateway@mq.ucc.internal:5671/%2f";
  c.intake.tls_cert = "/etc/vkhid/intake.pem";
  c.intake.tls_key = "/etc/vkhid/intake.key";
  c.audit.tsa_url = "http://tsa.ucc.internal/";
  c.gateway.seal_key = copyWithMode("rogue-seal.key", 0600);
  c.gateway.seal_cert = pkiDir() + "/rogue-seal.pem";
  c.audit.ca_file = pkiDir() + "/rogue-ca.pem";
  c.edms.client_ca = pkiDir() + "/rogue-ca.pem";
  c.admin.console_tokens = false;
  c.at_rest.master_key = copyWithMode("master.key", 0600);
  c.at_rest.master_key_id = "ucc-master-2026";
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(profile)

BOOST_AUTO_TEST_CASE(ops_production_profile_accepts_a_safe_configuration) {
  const auto refusals = service::productionRefusals(safeConfig());
  BOOST_TEST(refusals.empty(), (refusals.empty() ? "" : refusals.front().key + ": " + refusals.front().problem));
}

BOOST_AUTO_TEST_CASE(ops_production_profile_refuses_each_unsafe_setting) {
  // The development configuration as shipped: every convenience it has is refused.
  app::Config dev;
  dev.database.url = "postgresql://vkhid:secret@127.0.0.1:54329/vkhid";
  dev.gateway.seal_key = copyWithMode("ucc-seal.key", 0644);
  dev.gateway.seal_cert = pkiDir() + "/ucc-seal.pem";
  dev.audit.ca_file = pkiDir() + "/ca.pem";
  dev.edms.client_ca = pkiDir() + "/ca.pem";
  dev.admin.console_tokens = true;
  dev.at_rest.master_key = copyWithMode("master.key", 0644);
  const auto keys = keysOf(service::productionRefusals(dev));
  for (const char* key :
       {"database.url", "broker.url", "intake.tls_cert", "audit.tsa_url", "gateway.seal_key", "gateway.seal_cert",
        "audit.ca_file", "edms.client_ca", "admin.console_tokens", "at_rest.master_key", "at_rest.master_key_id"}) {
    BOOST_TEST(has(keys, key), key);
  }
  // And one at a time: each unsafe setting alone is refused, naming its key only.
  auto alone = [](const std::function<void(app::Config&)>& spoil) {
    app::Config c = safeConfig();
    spoil(c);
    return keysOf(service::productionRefusals(c));
  };
  BOOST_TEST(alone([](auto& c) { c.database.url = "host=db user=vkhid password=secret"; }) ==
             std::vector<std::string>{"database.url"});
  BOOST_TEST(alone([](auto& c) { c.database.read_url = "postgresql://vkhid:secret@replica/vkhid"; }) ==
             std::vector<std::string>{"database.url"});
  BOOST_TEST(alone([](auto& c) { c.broker.url = "amqp://127.0.0.1:5672/%2f"; }) ==  // no user: guest
             std::vector<std::string>{"broker.url"});
  BOOST_TEST(alone([](auto& c) { c.broker.url = "amqp://guest:guest@127.0.0.1:5672/%2f"; }) ==
             std::vector<std::string>{"broker.url"});
  BOOST_TEST(alone([](auto& c) { c.intake.tls_key.clear(); }) == std::vector<std::string>{"intake.tls_cert"});
  BOOST_TEST(alone([](auto& c) { c.audit.tsa_url.clear(); }) == std::vector<std::string>{"audit.tsa_url"});
  BOOST_TEST(alone([](auto& c) { c.gateway.seal_key = copyWithMode("rogue-seal.key", 0604); }) ==
             std::vector<std::string>{"gateway.seal_key"});
  BOOST_TEST(alone([](auto& c) { c.gateway.seal_key = "/nonexistent/seal.key"; }) ==
             std::vector<std::string>{"gateway.seal_key"});
  BOOST_TEST(alone([](auto& c) { c.at_rest.master_key = "/nonexistent/master.key"; }) ==
             std::vector<std::string>{"at_rest.master_key"});
  // A seal key on a PKCS#11 token has no file to judge.
  BOOST_TEST(alone([](auto& c) {
               c.gateway.seal_key = "pkcs11:token=ucc;object=seal";
               c.gateway.pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
             }).empty());
  BOOST_TEST(alone([](auto& c) { c.gateway.seal_cert = pkiDir() + "/ucc-seal.pem"; }) ==
             std::vector<std::string>{"gateway.seal_cert"});
  BOOST_TEST(alone([](auto& c) { c.admin.client_ca = pkiDir() + "/ca.pem"; }) ==
             std::vector<std::string>{"admin.client_ca"});
  BOOST_TEST(alone([](auto& c) { c.admin.console_tokens = true; }) == std::vector<std::string>{"admin.console_tokens"});
  BOOST_TEST(alone([](auto& c) { c.at_rest.master_key = copyWithMode("master.key", 0640); }) ==
             std::vector<std::string>{"at_rest.master_key"});
  BOOST_TEST(alone([](auto& c) { c.at_rest.master_key_id = "dev-master-1"; }) ==
             std::vector<std::string>{"at_rest.master_key_id"});
}

BOOST_AUTO_TEST_SUITE_END()
