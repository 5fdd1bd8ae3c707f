// The `folder` adapter against real folders: a case both ways through shared folders, and a malformed
// file that lands in rejected/ with its reason.
#define BOOST_TEST_MODULE integration_adapter_folder
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;

namespace {

bool servicesAreOurs(utf::test_unit_id) { return servicesManaged(); }

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

BOOST_AUTO_TEST_SUITE_END()
