// Qualified signatures in the exchange, as a participant signing with DSTU 4145 and an auditor see the
// gateway: the participant's answers carry DSTU-signed files (keys from a test CA made with our own
// DSTU code) and no XML seal, as real SEV OVV 1.5 systems send them; the gateway really verifies them,
// records signer, provider and verdict, shows them in the answer API and the case view — and refuses an
// answer whose signature does not hold, or whose signer no trusted provider issued.
#define BOOST_TEST_MODULE integration_qualified
#include <boost/test/unit_test.hpp>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// The test CA and a DSTU signer for each organisation, made by `vkhid crypto test-pki`.
std::string makeDstuPki(ExchangeHarness& x, const std::vector<std::string>& orgs) {
  const std::string dir = x.dir() + "/dstu";
  std::vector<std::string> args{"crypto", "test-pki", dir};
  for (const auto& o : orgs) {
    args.push_back("--org");
    args.push_back(o);
  }
  x.runVkhid(args);
  return dir;
}

std::vector<std::string> dstuFlags(const std::string& dir, const std::string& org) {
  return {"--dstu-key", dir + "/dstu-" + org + ".key", "--dstu-cert", dir + "/dstu-" + org + ".cer", "--no-seal"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(qualified_exchange, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(qualified_dstu_signing_participant_end_to_end) {
  ExchangeHarness x;
  // The participant pins its provider's list at onboarding (here the test CA), and sends no seal.
  const std::string dir = x.dir() + "/dstu";
  x.runVkhid({"crypto", "test-pki", dir, "--org", x.org()});
  x.setUp("", "require_seal = false\ntrust_list_file = \"" + dir + "/dstu-ca.cer\"");
  auto shown = x.runVkhid({"participant", "show", x.org()});
  BOOST_TEST(shown.find("\"trust_list\":\"pinned: 1 certificates\"") != std::string::npos, shown);
  auto port = x.startGateway();
  x.startSimulator(dstuFlags(dir, x.org()));
  auto created = x.submit("dstu-1");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  const std::string id = jsonField(created.body, "id");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());

  // The answer's signatures as they were judged on arrival: DSTU, valid, with signer and provider.
  auto recorded = [&](const std::string& field) {
    return x.sql("SELECT m.signatures->0->>'" + field +
                 "' FROM cases c JOIN message m ON m.msg_id = c.answer_msg_id WHERE c.id = '" + id + "'");
  };
  BOOST_TEST(recorded("state") == "valid");
  BOOST_TEST(recorded("algorithm") == "DSTU 4145 with GOST 34.311");
  BOOST_TEST(recorded("key") == "DSTU 4145 curve 9 (m = 431)");
  BOOST_TEST(recorded("provider") == "Вхід — тестовий надавач (розробка)");
  BOOST_TEST(recorded("signer_org_id") == x.org());
  BOOST_TEST(recorded("judged_by") == "now");
  BOOST_TEST(x.sql("SELECT m.seal_verdict FROM cases c JOIN message m ON m.msg_id = c.answer_msg_id WHERE c.id = '" +
                   id + "'") == "missing");

  // What the channel (and so the applicant) gets: each file with its verdict, signer and provider.
  auto answer = httpRequest("GET", "127.0.0.1", port, "/api/v1/cases/" + id + "/answer",
                            {{"Authorization", "Bearer " + x.token()}}, "");
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.body);
  BOOST_TEST(answer.body.find("\"signature\":\"valid\"") != std::string::npos, answer.body);
  BOOST_TEST(answer.body.find("\"provider\":\"Вхід — тестовий надавач (розробка)\"") != std::string::npos);
  BOOST_TEST(answer.body.find("\"key\":\"DSTU 4145 curve 9 (m = 431)\"") != std::string::npos, answer.body);
  // And the operator's view of the case.
  auto view = x.runVkhid({"case", "show", id});
  BOOST_TEST(view.find("DSTU 4145") != std::string::npos, view);
  BOOST_TEST(view.find("valid") != std::string::npos, view);
}

BOOST_AUTO_TEST_CASE(qualified_answer_whose_dstu_signature_fails_is_refused) {
  // Two participants on the global list (trust.qualified_lists = the test CA): one signs with a key no
  // trusted provider issued (its own CA), one changes its file after signing.
  ExchangeHarness x;
  const std::string dir = makeDstuPki(x, {x.org()});
  x.setUp("", "require_seal = false");
  int other = x.addParticipant("require_seal = false");
  x.runVkhid({"route", "add", "--target", x.org(other), "--addressee", x.org(other), "--priority", "1"});
  const std::string rogue = x.dir() + "/rogue-dstu";
  x.runVkhid({"crypto", "test-pki", rogue, "--org", x.org(other)});
  x.startGateway(0, {{"VKHID_TRUST_QUALIFIED_LISTS", dir + "/dstu-ca.cer"}});
  auto flags = dstuFlags(dir, x.org());
  flags.push_back("--bad-signature");
  x.startSimulator(flags, 0);
  x.startSimulator(dstuFlags(rogue, x.org(other)), other);
  BOOST_REQUIRE(x.submitTo(0, "changed").status == 201);
  BOOST_REQUIRE(x.submitTo(other, "rogue").status == 201);
  // Each answer refused with its reason, the case left registered, the participant told with receipt 4.
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM message WHERE direction = 'in' AND msg_type = 3 AND "
                                  "status = 'rejected'",
                                  2, 60s),
                        x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND msg_type = 3 AND error_code = 120 "
                     "AND peer_org_id = '" +
                     x.org() + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND msg_type = 3 AND error_code = 114 "
                     "AND peer_org_id = '" +
                     x.org(other) + "'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE answer_msg_id IS NOT NULL") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND msg_type = 3 AND "
                     "signatures->0->>'state' = 'invalid'") == 1);
  BOOST_TEST(x.waitAtLeast("SELECT count(*) FROM message WHERE direction = 'out' AND ack_type = 4", 2, 30s),
             x.histogram());
}

BOOST_AUTO_TEST_CASE(qualified_participant_toml_with_the_old_switch_is_refused_naming_the_replacement) {
  ExchangeHarness x;
  x.setUp();
  const std::string file = x.dir() + "/old.toml";
  writeFile(file,
            "org_id = \"12345678\"\nsys_id = \"edms\"\nname = \"Старий учасник\"\n"
            "accept_unsupported_signatures = true\n");
  auto [status, output] = x.runVkhidStatus({"participant", "add", file});
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find("accept_unsupported_signatures") != std::string::npos, output);
  BOOST_TEST(output.find("trust_list_file") != std::string::npos, output);
  BOOST_TEST(x.count("SELECT count(*) FROM participant WHERE org_id = '12345678'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
