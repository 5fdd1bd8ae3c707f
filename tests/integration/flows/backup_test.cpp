// The backup-and-restore drill (issue 28, docs/operations.md "Back up and restore"), as an operator
// runs it: a backup taken mid-run, both servers' data destroyed, and the exchange restored onto empty
// ones: with the WAL archive to its end, to a point in time, and without it.
#define BOOST_TEST_MODULE integration_backup
#include <unistd.h>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

std::string firstLine(const std::string& command) {
  std::string out;
  if (FILE* f = ::popen(command.c_str(), "r")) {
    char buf[4096];
    if (std::fgets(buf, sizeof buf, f)) out = buf;
    ::pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A PostgreSQL of the drill's own (scripts/services pg-instance), archiving its WAL as production does:
// the drill destroys its data, which the shared test server must never see.
struct Instance {
  std::string name = "drill" + std::to_string(::getpid());
  unsigned short port = freePort();
  std::string dir;
  Instance() {
    if (services("pg-instance start " + name + " " + std::to_string(port)) != 0) {
      throw std::runtime_error("the drill's PostgreSQL did not start");
    }
    dir = firstLine(sourceDir() + "/scripts/services pg-instance dir " + name);
  }
  ~Instance() { services("pg-instance remove " + name); }
  std::string url() const { return "postgresql://vkhid@127.0.0.1:" + std::to_string(port) + "/postgres"; }
};

std::string idOf(const HttpReply& r) {
  auto at = r.body.find("\"id\":\"");
  return at == std::string::npos ? "" : r.body.substr(at + 6, 36);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backup, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(ops_backup_restore_drill_with_and_without_the_wal_archive, *utf::timeout(400)) {
  Instance pg;
  ::setenv("VKHID_PG_URL", pg.url().c_str(), 1);  // the harness's database on the drill's server
  ExchangeHarness x;
  TsaSimulator tsa(x.dir());
  const std::map<std::string, std::string> audit{{"VKHID_AUDIT_TSA_URL", tsa.url()},
                                                 {"VKHID_AUDIT_BATCH_MAX_AGE_MS", "300"}};
  // The private broker's definitions, through rabbitmqctl (the defaults name it on the broker's host).
  const std::map<std::string, std::string> broker{
      {"VKHID_BACKUP_BROKER_EXPORT_COMMAND", sourceDir() + "/scripts/services export-definitions {file}"},
      {"VKHID_BACKUP_BROKER_IMPORT_COMMAND", sourceDir() + "/scripts/services import-definitions {file}"}};
  x.setUp();
  x.startGateway(0, audit);
  x.startSimulator();
  auto known = x.submitMany(3);
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s));
  BOOST_REQUIRE(x.waitEvidenceSealed(60s));

  // The backup, mid-run: the gateway serves on. Every evidence entry so far must be in it (those the
  // backup itself records, once its base backup has ended, are not).
  const long long entries_then = x.count("SELECT count(*) FROM audit_entry");
  const std::string entry_ids = x.sql("SELECT string_agg(id::text, ',') FROM audit_entry");
  const std::string backup = x.dir() + "/backup";
  auto taken = x.runVkhidStatus({"backup", "--to", backup}, broker);
  BOOST_REQUIRE_MESSAGE(taken.first == 0, taken.second);
  BOOST_TEST(taken.second.find("broker definitions of virtual host " + x.vhost()) != std::string::npos, taken.second);
  BOOST_TEST(x.runVkhidStatus({"backup", "--to", backup}, broker).first != 0);  // never over a backup
  // Its evidence verifies offline, on its own.
  ChildProcess evidence({binaryPath(), "audit", "verify", backup + "/evidence"}, {}, x.dir() + "/verify-backup.log");
  BOOST_TEST(evidence.wait(60s).value_or(-1) == 0, evidence.log());

  // Two cases after the backup, closed; their WAL archived (what archive_timeout does in production).
  const std::string before_them = x.sql(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  std::vector<std::string> after;
  for (int i = 0; i < 2; ++i) {
    auto r = x.submit("after-" + std::to_string(i));
    BOOST_REQUIRE(r.status == 201);
    after.push_back(idOf(r));
  }
  BOOST_REQUIRE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 5, 60s));
  const std::string segment = x.sql("SELECT pg_walfile_name(pg_switch_wal())");
  BOOST_REQUIRE(
      x.waitFor("SELECT count(*) FROM pg_stat_archiver WHERE last_archived_wal >= '" + segment + "'", 1, 60s));
  known.insert(known.end(), after.begin(), after.end());
  std::string known_text;
  for (const auto& id : known) known_text += id + "\n";
  writeFile(x.dir() + "/known.txt", known_text);

  // Both servers' data destroyed: the database's folder, and the broker's virtual host with its
  // queues and the participant's permissions.
  auto destroy = [&] {
    x.stopSimulator(0);
    x.killGateway(0, SIGTERM);
    BOOST_REQUIRE(services("pg-instance destroy " + pg.name) == 0);
    BOOST_REQUIRE(services("reset-vhost " + x.vhost()) == 0);
  };
  auto restore = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"restore", "--from", backup, "--pgdata", pg.dir + "/data"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto laid = x.runVkhidStatus(args, broker);
    BOOST_REQUIRE_MESSAGE(laid.first == 0, laid.second);
    BOOST_REQUIRE(services("pg-instance start " + pg.name + " " + std::to_string(pg.port)) == 0);
    return x.runVkhidStatus({"restore", "--from", backup, "--finish", "--known", x.dir() + "/known.txt"}, broker);
  };
  destroy();
  BOOST_TEST(x.runVkhidStatus({"restore", "--from", backup, "--pgdata", x.dir()}, broker).first != 0);  // not empty
  // A backup changed since it was taken is refused, naming the file, before the data folder is touched.
  const std::string definitions = readFile(backup + "/broker-definitions.json");
  writeFile(backup + "/broker-definitions.json", definitions + " ");
  auto changed = x.runVkhidStatus({"restore", "--from", backup, "--pgdata", pg.dir + "/data"}, broker);
  BOOST_TEST(changed.first != 0);
  BOOST_TEST(changed.second.find("broker-definitions.json differs from its manifest") != std::string::npos,
             changed.second);
  writeFile(backup + "/broker-definitions.json", definitions);
  // A manifest that names a file outside its folder, or lacks what a restore reads, is refused by name.
  const std::string manifest = readFile(backup + "/manifest.json");
  writeFile(backup + "/manifest.json", R"({"format":"vkhid-backup-1","label":"x","taken_at":"x","broker_vhost":"/",)"
                                       R"("wal":{"end_lsn":"0/0"},"files":{"../../etc/passwd":"00"}})");
  auto forged = x.runVkhidStatus({"restore", "--from", backup, "--pgdata", pg.dir + "/data"}, broker);
  BOOST_TEST(forged.first != 0);
  BOOST_TEST(forged.second.find("files: ../../etc/passwd: not a file of the backup") != std::string::npos,
             forged.second);
  writeFile(backup + "/manifest.json", R"({"format":"vkhid-backup-1"})");
  auto empty = x.runVkhidStatus({"restore", "--from", backup, "--pgdata", pg.dir + "/data"}, broker);
  BOOST_TEST(empty.first != 0);
  BOOST_TEST(empty.second.find("expected label, taken_at") != std::string::npos, empty.second);
  writeFile(backup + "/manifest.json", manifest);

  // With the WAL archive: everything comes back, the cases after the backup too.
  auto full = restore({"--wal-archive", pg.dir + "/wal-archive"});
  BOOST_TEST(full.first == 0, full.second);
  BOOST_TEST(full.second.find("lost since the backup: 0 of 5 known cases") != std::string::npos, full.second);
  BOOST_TEST(full.second.find("2 cases registered after it were recovered from the WAL archive") != std::string::npos,
             full.second);
  BOOST_TEST(x.count("SELECT count(*) FROM cases WHERE status = 'closed'") == 5);
  // The broker's definitions are back: the participant's user reaches its queue again, and a new case
  // goes all the way.
  x.startGateway(0, audit);
  x.startSimulator();
  BOOST_TEST(x.submit("after-restore").status == 201);
  BOOST_TEST(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 6, 60s), x.histogram());

  // To a point in time (--until): the archive replayed up to the moment before the two later cases.
  destroy();
  // A time that is not an instant is refused before anything is written (the restore below finds the
  // data folder empty).
  auto bad = x.runVkhidStatus({"restore", "--from", backup, "--pgdata", pg.dir + "/data", "--wal-archive",
                               pg.dir + "/wal-archive", "--until", "yesterday'"},
                              broker);
  BOOST_TEST(bad.first != 0);
  BOOST_TEST(bad.second.find("--until yesterday': expected an ISO 8601 instant") != std::string::npos, bad.second);
  auto until = restore({"--wal-archive", pg.dir + "/wal-archive", "--until", before_them});
  BOOST_TEST(until.first == 3, until.second);
  BOOST_TEST(until.second.find("lost since the backup: 2 of 5 known cases") != std::string::npos, until.second);
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 3);

  // Without it: the backup's point. The cases after it are reported lost, by id; the rest is there.
  destroy();
  auto point = restore({});
  BOOST_TEST(point.first == 3, point.second);
  BOOST_TEST(point.second.find("lost since the backup: 2 of 5 known cases") != std::string::npos, point.second);
  for (const auto& id : after) {
    BOOST_TEST(point.second.find("lost-since-backup " + id) != std::string::npos, point.second);
  }
  BOOST_TEST(x.count("SELECT count(*) FROM cases") == 3);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE id = ANY('{" + entry_ids + "}'::bigint[])") ==
             entries_then);
  // The restored log verifies: a gateway seals what was left open, and the export checks offline.
  x.startGateway(0, audit);
  BOOST_REQUIRE(x.waitEvidenceSealed(60s));
  auto exported = x.runVkhidStatus({"audit", "export", "--out", x.dir() + "/bundle"}, {});
  BOOST_REQUIRE_MESSAGE(exported.first == 0, exported.second);
  ChildProcess verify({binaryPath(), "audit", "verify", x.dir() + "/bundle"}, {}, x.dir() + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0, verify.log());
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'backup.restored'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
