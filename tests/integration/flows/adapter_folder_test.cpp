// The `folder` adapter against real folders: a case both ways through shared folders, and a malformed
// file that lands in rejected/ with its reason.
#define BOOST_TEST_MODULE integration_adapter_folder
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>

#include "gateway/app/digest.hpp"
#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;

namespace {

long filesIn(const fs::path& dir, const std::string& extension) {
  long n = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) n += f.path().extension() == extension ? 1 : 0;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adapter_folder, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(adapter_folder_case_end_to_end_both_directions) {
  ExchangeHarness x;
  x.setUp();
  int f = x.addFolderParticipant();
  x.runVkhid({"route", "add", "--target", x.org(f), "--addressee", x.org(f), "--priority", "1"});
  x.startGateway();
  x.startFolderSimulator(f);
  BOOST_REQUIRE(x.submitTo(f, "f1").status == 201);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s));
  BOOST_TEST(x.simStats(f)["appeals"] == 1);
  // Everything it wrote was taken once and moved to done/; nothing is left half-way.
  fs::path from = fs::path(x.dir()) / ("from-" + x.org(f));
  BOOST_TEST(eventually([&] { return filesIn(from / "done", ".xml") == 4; }, 10s));
  BOOST_TEST(filesIn(from, ".xml") == 0);
  BOOST_TEST(filesIn(from / "rejected", ".xml") == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'applied'") == 4);
}

BOOST_AUTO_TEST_CASE(adapter_folder_malformed_file_lands_in_rejected_with_its_reason) {
  ExchangeHarness x;
  x.setUp();
  int f = x.addFolderParticipant();
  x.startGateway();
  fs::path from = fs::path(x.dir()) / ("from-" + x.org(f));
  fs::create_directories(from);
  writeFile((from / ".half-written.xml.tmp").string(), "<Header");  // not yet renamed in: left alone
  writeFile((from / "bad.xml").string(), "<Header standart=\"1207\"><Document>");
  BOOST_REQUIRE(eventually([&] { return fs::exists(from / "rejected" / "bad.xml"); }, 30s));
  std::string why = readFile((from / "rejected" / "bad.xml.error.txt").string());
  BOOST_TEST(why.find("code 100") != std::string::npos, why);
  BOOST_TEST(fs::exists(from / ".half-written.xml.tmp"));
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'in' AND status = 'rejected'") == 1);
}

BOOST_AUTO_TEST_CASE(adapter_folder_gateway_killed_while_writing_leaves_no_partial_file) {
  // Twenty packages on their way out when the gateway is killed (SIGKILL) in the middle: every file
  // under a final name is a whole package, byte for byte what the database holds; after a restart
  // each of the twenty is there exactly once.
  ExchangeHarness x;
  x.setUp();
  int f = x.addFolderParticipant();
  x.runVkhid({"route", "add", "--target", x.org(f), "--addressee", x.org(f), "--priority", "1"});
  x.startGateway();
  for (int i = 0; i < 20; ++i) BOOST_REQUIRE(x.submitTo(f, "w" + std::to_string(i)).status == 201);
  fs::path to = fs::path(x.dir()) / ("to-" + x.org(f));
  BOOST_REQUIRE(eventually([&] { return filesIn(to, ".xml") >= 1; }, 30s));
  x.killGateway(0, SIGKILL);
  auto whole = [&] {
    long checked = 0;
    for (const auto& file : fs::directory_iterator(to)) {
      if (file.path().extension() != ".xml") continue;
      std::string id = file.path().stem().string();
      std::string db = vkhid::app::sha256Hex(x.openedPackage(id));
      BOOST_TEST(db == vkhid::app::sha256Hex(readFile(file.path().string())),
                 file.path().filename() << " differs from the stored package");
      ++checked;
    }
    return checked;
  };
  long before = whole();
  BOOST_TEST(before >= 1);
  x.startGateway();
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND status = 'sent'", 20, 60s));
  BOOST_TEST(whole() == 20);
  BOOST_TEST(filesIn(to, ".xml") == 20);
}

BOOST_AUTO_TEST_CASE(adapter_folder_restart_reads_each_file_exactly_once) {
  // The participant's contact centre writes ten appeals while the gateway is down; the gateway starts,
  // is killed while taking them, and starts again: ten cases, each file in done/ once, no receipt twice.
  ExchangeHarness x;
  x.setUp();
  int f = x.addFolderParticipant("own_channel = true");
  x.startFolderSimulator(f, {"--send-appeals", "10"});
  fs::path from = fs::path(x.dir()) / ("from-" + x.org(f));
  BOOST_REQUIRE(eventually([&] { return filesIn(from, ".xml") == 10; }, 30s));
  x.startGateway();
  BOOST_REQUIRE(eventually([&] { return filesIn(from / "done", ".xml") >= 1; }, 60s));
  x.killGateway(0, SIGKILL);
  x.startGateway();
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE channel = 'participant:" + x.org(f) + "'", 10, 60s));
  BOOST_TEST(eventually([&] { return filesIn(from / "done", ".xml") == 10; }, 30s));
  BOOST_TEST(filesIn(from, ".xml") == 0);
  BOOST_TEST(x.count("SELECT count(DISTINCT msg_id) FROM message WHERE direction = 'in' AND msg_type = 1") == 10);
  // One registration receipt per appeal went back, never two.
  BOOST_TEST(x.count("SELECT count(*) FROM (SELECT ref_msg_id FROM message WHERE direction = 'out' AND ack_type = 3 "
                     "GROUP BY ref_msg_id HAVING count(*) > 1) d") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
