#define BOOST_TEST_MODULE integration_serve
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/store/pg.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid::testing;
namespace utf = boost::unit_test;
using namespace std::chrono_literals;

namespace {

// A `vkhid serve` child on its own database and admin port, probing often so tests run quickly.
struct Gateway {
  TestDatabase db;
  unsigned short admin_port = freePort();
  std::unique_ptr<ChildProcess> process;

  Gateway() {
    std::string log = varDir() + "/serve-" + std::to_string(admin_port) + ".log";
    process = std::make_unique<ChildProcess>(
        std::vector<std::string>{binaryPath(), "serve"},
        std::map<std::string, std::string>{{"VKHID_DATABASE_URL", db.url()},
                                           {"VKHID_BROKER_URL", amqpUrl()},
                                           {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin_port)},
                                           {"VKHID_GATEWAY_INSTANCE", "test-" + std::to_string(admin_port)},
                                           {"VKHID_GATEWAY_HEALTH_INTERVAL_MS", "200"},
                                           {"VKHID_BROKER_RECONNECT_MAX_S", "1"},
                                           {"VKHID_GATEWAY_SHUTDOWN_TIMEOUT_S", "10"},
                                           {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(freePort())},
                                           {"VKHID_GATEWAY_SEAL_KEY", pkiDir() + "/ucc-seal.key"},
                                           {"VKHID_GATEWAY_SEAL_CERT", pkiDir() + "/ucc-seal.pem"},
                                           {"VKHID_AT_REST_MASTER_KEY", pkiDir() + "/master.key"}},
        log);
  }
  HttpReply readyz() const { return httpGet("127.0.0.1", admin_port, "/readyz"); }
  bool readyIs(int status) const { return readyz().status == status; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(serve)

// The production profile (issue 28): serve refuses the development configuration before it opens
// anything, naming each key and its fix; the same settings start under the development profile.
BOOST_AUTO_TEST_CASE(ops_serve_production_profile_refuses_the_development_configuration) {
  TestDatabase db;
  std::map<std::string, std::string> env{{"VKHID_DATABASE_URL", db.url()},
                                         {"VKHID_BROKER_URL", amqpUrl()},
                                         {"VKHID_GATEWAY_SEAL_KEY", pkiDir() + "/ucc-seal.key"},
                                         {"VKHID_GATEWAY_SEAL_CERT", pkiDir() + "/ucc-seal.pem"},
                                         {"VKHID_AT_REST_MASTER_KEY", pkiDir() + "/master.key"},
                                         {"VKHID_AUDIT_CA_FILE", pkiDir() + "/ca.pem"},
                                         {"VKHID_ADMIN_CONSOLE_TOKENS", "true"}};
  ChildProcess serve({binaryPath(), "serve", "--profile", "production"}, env, varDir() + "/serve-production.log");
  BOOST_REQUIRE(serve.wait(30s) == 2);
  const std::string log = serve.log();
  for (const char* key : {"broker.url", "intake.tls_cert", "audit.tsa_url", "gateway.seal_cert", "audit.ca_file",
                          "admin.console_tokens"}) {
    BOOST_TEST(log.find(std::string("the production profile refuses ") + key + ":") != std::string::npos, key);
  }
  BOOST_TEST(log.find("fix: ") != std::string::npos);
  // Nothing was opened: no migration ran.
  BOOST_TEST(db.query("SELECT count(*) FROM pg_tables WHERE tablename = 'cases'") == "0");
  // A profile that is neither is refused too.
  env["VKHID_GATEWAY_PROFILE"] = "staging";
  ChildProcess other({binaryPath(), "serve"}, env, varDir() + "/serve-staging.log");
  BOOST_REQUIRE(other.wait(30s) == 2);
  BOOST_TEST(other.log().find("gateway.profile: expected development or production") != std::string::npos);
}

// systemd's readiness protocol (Type=notify, issue 28): the gateway says READY=1 on $NOTIFY_SOCKET only
// once every check of /readyz passes, and STOPPING=1 when SIGTERM starts its drain.
BOOST_AUTO_TEST_CASE(ops_serve_tells_systemd_it_is_ready_and_then_stopping) {
  const std::string path = "/tmp/vkhid-notify-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  // The next datagram within `timeout`, or "".
  auto next = [fd](std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::string();
    char buf[512];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };
  TestDatabase db;
  const unsigned short admin = freePort();
  ChildProcess serve({binaryPath(), "serve"},
                     {{"VKHID_DATABASE_URL", db.url()},
                      {"VKHID_BROKER_URL", amqpUrl()},
                      {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin)},
                      {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(freePort())},
                      {"VKHID_GATEWAY_HEALTH_INTERVAL_MS", "200"},
                      {"VKHID_GATEWAY_SEAL_KEY", pkiDir() + "/ucc-seal.key"},
                      {"VKHID_GATEWAY_SEAL_CERT", pkiDir() + "/ucc-seal.pem"},
                      {"VKHID_AT_REST_MASTER_KEY", pkiDir() + "/master.key"},
                      {"NOTIFY_SOCKET", path}},
                     varDir() + "/serve-notify.log");
  const std::string ready = next(60s);
  BOOST_TEST(ready.find("READY=1") != std::string::npos, ready << serve.log());
  BOOST_TEST(httpGet("127.0.0.1", admin, "/readyz").status == 200);  // said only once true
  serve.signal(SIGTERM);
  const std::string stopping = next(15s);
  BOOST_TEST(stopping.find("STOPPING=1") != std::string::npos, stopping);
  BOOST_TEST(serve.wait(20s).value_or(-1) == 0);
  ::close(fd);
  ::unlink(path.c_str());
}

// The shipped units (ops/systemd) pass systemd-analyze verify without a warning, with the hardening the
// operator's guide promises.
BOOST_AUTO_TEST_CASE(ops_systemd_units_verify_clean_and_hardened) {
  const std::string dir = varDir() + "/units-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::vector<std::string> argv{"/usr/bin/systemd-analyze", "verify"};
  for (const char* unit : {"vkhid.service"}) {
    std::string text = readFile(sourceDir() + "/ops/systemd/" + unit);
    // The packaged path, here the binary under test (verify checks that it is executable).
    for (auto at = text.find("/usr/bin/vkhid"); at != std::string::npos; at = text.find("/usr/bin/vkhid", at)) {
      text.replace(at, 14, binaryPath());
    }
    writeFile(dir + "/" + unit, text);
    argv.push_back(dir + "/" + unit);
  }
  ChildProcess verify(argv, {}, dir + "/verify.log");
  BOOST_TEST(verify.wait(60s).value_or(-1) == 0);
  BOOST_TEST(verify.log().empty(), verify.log());
  const std::string service = readFile(sourceDir() + "/ops/systemd/vkhid.service");
  for (const char* line :
       {"Type=notify", "Restart=on-failure", "ProtectSystem=strict", "NoNewPrivileges=true", "PrivateTmp=true",
        "CapabilityBoundingSet=\n", "ReadWritePaths=/var/lib/vkhid /var/log/vkhid", "--profile production"}) {
    BOOST_TEST(service.find(line) != std::string::npos, line);
  }
}

BOOST_AUTO_TEST_CASE(migrate_command_twice_is_a_noop) {
  TestDatabase db;
  std::map<std::string, std::string> env{{"VKHID_DATABASE_URL", db.url()}};
  ChildProcess first({binaryPath(), "migrate"}, env, varDir() + "/migrate-1.log");
  BOOST_REQUIRE(first.wait(30s) == 0);
  BOOST_TEST(first.log().find("applied now") != std::string::npos);
  ChildProcess second({binaryPath(), "migrate"}, env, varDir() + "/migrate-2.log");
  BOOST_REQUIRE(second.wait(30s) == 0);
  BOOST_TEST(second.log().find("(0 applied now)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(serve_becomes_ready_and_stops_on_sigterm) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_TEST(httpGet("127.0.0.1", gw.admin_port, "/healthz").status == 200);
  auto metrics = httpGet("127.0.0.1", gw.admin_port, "/metrics");
  BOOST_TEST(metrics.body.find("vkhid_dependency_up{dependency=\"database\"} 1") != std::string::npos);
  BOOST_TEST(metrics.body.find("vkhid_dependency_up{dependency=\"broker\"} 1") != std::string::npos);
  BOOST_TEST(gw.db.query("SELECT count(*) FROM gateway_instance WHERE stopped_at IS NULL") == "1");

  gw.process->signal(SIGTERM);
  auto code = gw.process->wait(15s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), "serve did not stop within 15 s of SIGTERM");
  BOOST_TEST(*code == 0);
  BOOST_TEST(gw.db.query("SELECT count(*) FROM gateway_instance WHERE stopped_at IS NOT NULL") == "1");
  // Every log line is one JSON object.
  std::istringstream lines(gw.process->log());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    BOOST_TEST_INFO("line: " << line);
    BOOST_TEST((line.starts_with("{\"ts\":\"") && line.ends_with("}")));
    ++count;
  }
  BOOST_TEST(count > 3);
}

// `vkhid bench` with these options against the private servers, as docs/performance.md runs it; its JSON
// figures once it exited 0 (var/bench-<name>.json, its output in var/bench-<name>.log).
boost::json::object benchRun(const std::string& name, std::vector<std::string> options) {
  const std::string json = varDir() + "/bench-" + name + ".json";
  (void)pkiDir();  // the development PKI the bench's participants use, under varDir()
  std::vector<std::string> argv{binaryPath(), "bench", "--json", json, "--root", sourceDir(), "--var", varDir()};
  argv.insert(argv.end(), options.begin(), options.end());
  ChildProcess bench(argv, {{"VKHID_DATABASE_URL", pgUrl()}, {"VKHID_BROKER_URL", amqpUrl()}},
                     varDir() + "/bench-" + name + ".log");
  auto code = bench.wait(230s);
  BOOST_REQUIRE_MESSAGE(code.has_value(), "bench still running after 230 s:\n" << bench.log());
  BOOST_REQUIRE_MESSAGE(*code == 0, "bench exited " << *code << ":\n" << bench.log());
  return boost::json::parse(readFile(json)).as_object();
}

double figureOf(const boost::json::object& r, const char* key) {
  BOOST_TEST_INFO("key " << key);
  BOOST_REQUIRE(r.contains(key));
  return r.at(key).to_number<double>();
}

// The bench's own database, as it left it: a count from it.
struct BenchDatabase {
  vkhid::store::PgConnection db;
  static BenchDatabase open(const std::string& name) {
    std::string url = pgUrl();
    url = url.substr(0, url.rfind('/')) + "/vkhid_bench";
    auto db = vkhid::store::PgConnection::connect({url, 5, 30000, name});
    BOOST_REQUIRE(db.ok());
    return BenchDatabase{std::move(db).value()};
  }
  long long count(const std::string& sql) {
    auto q = db.exec(sql);
    BOOST_REQUIRE_MESSAGE(q.ok(), sql);
    return q->getInt(0, 0);
  }
};

BOOST_AUTO_TEST_CASE(bench_small_run_closes_every_case_and_reports_its_figures, *utf::precondition(servicesAreOurs)) {
  // `vkhid bench` as docs/performance.md runs it, small: every case closes, nothing is lost or
  // duplicated, and the JSON carries the figures the benchmark promises — with the CPU of the servers
  // on this machine measured beside the gateway's.
  auto r = benchRun("small", {"--cases", "40", "--soak", "2", "--warm-up", "10", "--timeout", "120"});
  auto number = [&](const char* key) { return figureOf(r, key); };
  BOOST_TEST(number("closed") == 40);  // the first phase's; `lost` counts every phase
  BOOST_TEST(number("lost") == 0);
  BOOST_TEST(number("duplicated") == 0);
  // Before the run, a warm-up through the exchange and the database's statistics taken (a new database has
  // none until autovacuum's first visit, a minute on); its cases are in none of the run's figures.
  BOOST_TEST(number("warm_up_cases") == 10);
  auto bench_db = BenchDatabase::open("bench-small-test");
  auto count = [&](const std::string& sql) { return bench_db.count(sql); };
  BOOST_TEST(count("SELECT count(*) FROM cases WHERE idempotency_key LIKE 'warm-%' AND status = 'closed'") == 10);
  // Taken by the bench itself (autovacuum's own would be last_autoanalyze, and may come during a run).
  BOOST_TEST(count("SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('cases', 'message', 'audit_entry') "
                   "AND last_analyze IS NOT NULL") == 3);
  // Each case its own applicant's, as the UCC's are: none taken for a likely repeat of the one before.
  BOOST_TEST(count("SELECT count(*) FROM cases") == 10 + 40 + 40 + 20);
  BOOST_TEST(count("SELECT count(DISTINCT applicant_key) FROM cases") == 10 + 40 + 40 + 20);
  BOOST_TEST(count("SELECT count(*) FROM cases WHERE repeat_of IS NOT NULL") == 0);
  BOOST_TEST(number("cases_per_s") > 0);
  BOOST_TEST(number("intake_p50_ms") > 0);
  BOOST_TEST(number("intake_p99_ms") >= number("intake_p50_ms"));
  BOOST_TEST(number("closed_p99_ms") >= number("delivered_p99_ms"));
  BOOST_TEST(number("cpu_s_per_1000") > 0);
  BOOST_TEST(number("peak_rss_mib") > 0);
  // The allocator its processes ran with: jemalloc when the binary links it (scripts/package checks the
  // release build does), the sanitizers' own in this build.
  BOOST_REQUIRE(r.contains("allocator"));
  const std::string allocator(r.at("allocator").as_string());
  BOOST_TEST((allocator == "default" || allocator.starts_with("jemalloc 5.")), allocator);
  // Counted from the server's statistics after the run: a case takes at least its token read, its
  // registration, a delivery's claim and outcome and a share of the arrivals' batches — 8 in a run this
  // small, 5 to 6 in a large one (a short run read before the backends report their commits counted two).
  BOOST_TEST(number("transactions_per_case") > 4);
  // The database's own record of the work (pg_stat_wal over the run): every transaction writes at least
  // its commit record, and a case's rows and index entries many more.
  BOOST_TEST(number("wal_records_per_case") > 4 * number("transactions_per_case"));
  BOOST_TEST(number("wal_kib_per_case") > 1);
  // The gateway's exchanges with PostgreSQL (its metric over the run): a case's statements go alone or in
  // pipelines, at least one for each of its transactions and its token's read, never one a statement —
  // fewer than its WAL records by far.
  BOOST_TEST(number("pg_round_trips_per_case") > number("transactions_per_case") - 1);
  BOOST_TEST(number("pg_round_trips_per_case") < number("wal_records_per_case") / 2);
  // Broker messages: the participant's four packages in, and what the outbox relay published — the
  // applicant's two notices, and the delivery jobs of our three packages (the appeal's, and our two
  // receipts for the answer as one), several to a message when a relay round took a participant's
  // together: more than the notices, no more than those four. A transaction's publications are one
  // outbox row (migration 0040): the registration's and the answer's, fewer when a batch of arrivals
  // held several answers.
  BOOST_TEST(number("outbox_rows_per_case") >= 1);
  BOOST_TEST(number("outbox_rows_per_case") <= 2);
  BOOST_TEST(number("broker_messages_per_case") > 4 + 2);
  BOOST_TEST(number("broker_messages_per_case") <= 4 + 4);
  BOOST_TEST(number("packages_sealed_per_case") == 3);
  BOOST_TEST(number("packages_verified_per_case") == 4);
  BOOST_TEST(number("pipeline_efficiency") > 0);
  BOOST_TEST(number("pipeline_efficiency") < 1);
  // The ceiling of this machine for this work per case: above what the run did, below the lowest bound
  // (it adds the participants' signatures and every bound's share together).
  BOOST_TEST(number("ceiling_cases_per_s") > number("cases_per_s"));
  BOOST_TEST(number("ceiling_cases_per_s") < number("bound_postgres_cases_per_s"));
  BOOST_TEST(number("ceiling_efficiency") > number("pipeline_efficiency"));
  BOOST_TEST(number("ceiling_efficiency") < 1);
  BOOST_TEST(number("ceiling_ratio") > 0);
  BOOST_TEST(number("ceiling_ratio") < 1);
  // Issue 25's ratios: the work of the case against its signatures' — both sides seal and verify every
  // package once, and everything else the machine and the gateway do comes on top.
  BOOST_TEST(number("seal_cpu_ms") > 0);
  BOOST_TEST(number("verify_cpu_ms") > 0);
  BOOST_TEST(number("signatures_cpu_ms_per_case") == 7 * (number("seal_cpu_ms") + number("verify_cpu_ms")),
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(number("overhead_ratio") > 1);
  BOOST_TEST(number("gateway_overhead_ratio") > 1);
  BOOST_TEST(number("overhead_ratio") > number("gateway_overhead_ratio") / 2);
  // The second phase: half the cases at half the first phase's rate, every one closed, with its own
  // latencies.
  BOOST_TEST(number("half_rate_cases") == 20);
  BOOST_TEST(number("half_rate_offered_per_s") > 0);
  BOOST_TEST(number("half_rate_offered_per_s") < number("cases_per_s"));
  BOOST_TEST(number("half_rate_intake_p99_ms") >= number("half_rate_intake_p50_ms"));
  BOOST_TEST(number("half_rate_intake_p50_ms") > 0);
  BOOST_TEST(number("half_rate_closed_p99_ms") >= number("half_rate_delivered_p99_ms"));
  BOOST_TEST(number("half_rate_closed_p50_ms") > 0);
  // Soak: the second batch of 40 on the same database, each batch's cost per case beside the first's.
  BOOST_TEST(number("soak_batches") == 2);
  BOOST_REQUIRE(r.at("soak").as_array().size() == 2u);
  for (const auto& batch : r.at("soak").as_array()) {
    for (const char* key : {"cases_per_s", "machine_cpu_ms_per_case", "postgres_cpu_ms_per_case",
                            "gateway_cpu_ms_per_case", "wal_records_per_case"}) {
      BOOST_TEST_INFO("soak key " << key);
      BOOST_TEST(batch.as_object().at(key).to_number<double>() > 0);
    }
  }
  const auto& soak = r.at("soak").as_array();
  BOOST_TEST(number("soak_cpu_growth") == soak[1].as_object().at("machine_cpu_ms_per_case").to_number<double>() /
                                              soak[0].as_object().at("machine_cpu_ms_per_case").to_number<double>(),
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(number("postgres_cpu_s_per_1000") > 0);
  BOOST_TEST(number("rabbitmq_cpu_s_per_1000") > 0);
  BOOST_TEST(number("simulators_cpu_s_per_1000") > 0);
  // The parts are the machine's: together no more than it was busy (a little slack for rounding).
  BOOST_TEST(number("cpu_s_per_1000") + number("postgres_cpu_s_per_1000") + number("rabbitmq_cpu_s_per_1000") +
                 number("simulators_cpu_s_per_1000") <=
             number("machine_cpu_s_per_1000") * 1.05);
}

BOOST_AUTO_TEST_CASE(bench_preload_copies_a_history_whose_rows_refer_to_one_another,
                     *utf::precondition(servicesAreOurs)) {
  // `vkhid bench --preload N`: N cases of history copied from the 200 template cases run through the
  // exchange (the warm-up's), each copy with every row a case has, under ids of its own that refer to one another, its
  // times spread back over a year — then the measured run on top.
  auto r = benchRun("preload", {"--preload", "600", "--cases", "20", "--half-rate-cases", "0", "--timeout", "150"});
  BOOST_TEST(figureOf(r, "preloaded_cases") == 600);
  BOOST_TEST(figureOf(r, "closed") == 20);
  BOOST_TEST(figureOf(r, "lost") == 0);
  auto bench_db = BenchDatabase::open("bench-preload-test");
  auto count = [&](const std::string& sql) { return bench_db.count(sql); };
  // The copies: 3 × 200 template cases, each row kind three times the template's (a copy's keys end in
  // its number).
  const std::string copy = "c.idempotency_key ~ '^template-.*-[0-9]+$'";
  BOOST_TEST(count("SELECT count(*) FROM cases c WHERE " + copy) == 600);
  BOOST_TEST(count("SELECT count(*) FROM cases c WHERE c.idempotency_key LIKE 'template-%' AND NOT (" + copy + ")") ==
             200);
  BOOST_TEST(count("SELECT count(DISTINCT applicant_key) FROM cases c WHERE c.idempotency_key LIKE 'template-%'") ==
             800);  // each case its own applicant's, a copy's too
  for (const char* table : {"message", "case_event", "timer"}) {
    BOOST_TEST_INFO("table " << table);
    const std::string of = std::string("SELECT count(*) FROM ") + table + " x JOIN cases c ON c.id = x.case_id WHERE ";
    BOOST_TEST(count(of + copy) == 3 * count(of + "c.idempotency_key LIKE 'template-%' AND NOT (" + copy + ")"));
    // Every case has packages and events; a timer row only once a step of its answer term came due
    // (migration 0038), which none of these, answered at once, reached.
    if (std::string_view(table) != "timer") BOOST_TEST(count(of + copy) >= 600);
  }
  // What refers to something finds it in the same copy: receipts their packages, answers their case.
  BOOST_TEST(count("SELECT count(*) FROM receipt r JOIN message m ON m.msg_id = r.receipt_msg_id JOIN cases c ON "
                   "c.id = m.case_id WHERE " +
                   copy + " AND NOT EXISTS (SELECT 1 FROM message p WHERE p.msg_id = r.msg_id AND p.case_id = c.id)") ==
             0);
  BOOST_TEST(count("SELECT count(*) FROM receipt r JOIN message m ON m.msg_id = r.receipt_msg_id JOIN cases c ON "
                   "c.id = m.case_id WHERE " +
                   copy) >= 3 * 600);
  BOOST_TEST(count("SELECT count(*) FROM cases c WHERE " + copy +
                   " AND answer_msg_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM message m WHERE m.msg_id = "
                   "c.answer_msg_id AND m.case_id = c.id)") == 0);
  // Spread back over a year, before the measured run; and their evidence entries copied with them: the
  // case's eight events (its term recorded with its registration) and its packages' states.
  BOOST_TEST(count("SELECT count(*) FROM cases c WHERE " + copy + " AND registered_at < now() - interval '300 days'") >
             0);
  BOOST_TEST(count("SELECT count(*) FROM audit_entry WHERE seq < 0 AND subject LIKE 'case:%'") >= 600 * 8);
  BOOST_TEST(count("SELECT count(*) FROM audit_entry WHERE seq < 0 AND subject LIKE 'msg:%'") >= 600 * 7);
}

BOOST_AUTO_TEST_CASE(bench_stopped_by_a_signal_leaves_no_gateway_or_simulator_behind,
                     *utf::precondition(servicesAreOurs)) {
  // A bench stopped mid-run (Ctrl-C, a timeout) takes its gateway and simulators with it: left behind,
  // they kept its ports and its database's connections, and the next run could not start.
  (void)pkiDir();
  ChildProcess bench({binaryPath(), "bench", "--cases", "100000", "--root", sourceDir(), "--var", varDir()},
                     {{"VKHID_DATABASE_URL", pgUrl()}, {"VKHID_BROKER_URL", amqpUrl()}}, varDir() + "/bench-stop.log");
  // Its processes are up once the load has begun.
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return bench.log().find("cases through the intake API") != std::string::npos; }, 120s),
      bench.log());
  auto children = [&] {
    std::string out;
    FILE* p = popen(("pgrep -P " + std::to_string(bench.pid())).c_str(), "r");
    char line[64];
    while (p && fgets(line, sizeof line, p)) out += line;
    if (p) pclose(p);
    return out;
  };
  const std::string before = children();
  BOOST_REQUIRE(!before.empty());
  bench.signal(SIGKILL);  // no handler of its own runs
  BOOST_REQUIRE(bench.wait(10s).has_value());
  // Each of them gone (their pids no longer alive).
  BOOST_TEST(eventually(
      [&] {
        std::istringstream pids(before);
        for (pid_t pid = 0; pids >> pid;) {
          // Alive: it exists and is not a zombie waiting for whoever adopted it to reap it.
          std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
          std::string text((std::istreambuf_iterator<char>(stat)), {});
          const auto state = text.rfind(") ");
          if (stat && state != std::string::npos && text.size() > state + 2 && text[state + 2] != 'Z') return false;
        }
        return true;
      },
      30s));
}

BOOST_AUTO_TEST_CASE(bench_slow_participant_is_measured_apart_and_holds_back_no_other,
                     *utf::precondition(servicesAreOurs)) {
  // Issue 25: `vkhid bench --slow-participant MS` adds a participant on the http adapter whose endpoint
  // answers each package MS after it came, with one case in ten. Its cases are reported apart, and the
  // others' delivered p99 is theirs alone: were they held behind it, it would be at least MS.
  auto r = benchRun("slow", {"--cases", "30", "--half-rate-cases", "0", "--warm-up", "0", "--slow-participant", "1500",
                             "--timeout", "150"});
  auto number = [&](const char* key) { return figureOf(r, key); };
  BOOST_TEST(number("closed") == 30);
  BOOST_TEST(number("lost") == 0);
  BOOST_TEST(number("duplicated") == 0);
  BOOST_TEST(number("slow_participant_ms") == 1500);
  BOOST_TEST(number("slow_participant_cases") == 3);  // the 10th, 20th and 30th
  // Delivered only when its endpoint answered, and closed after that.
  BOOST_TEST(number("slow_participant_delivered_p99_ms") >= 1500);
  BOOST_TEST(number("slow_participant_closed_p99_ms") >= number("slow_participant_delivered_p99_ms"));
  // The other 27 went out beside it, not after it.
  BOOST_TEST(number("delivered_p99_ms") > 0);
  BOOST_TEST(number("delivered_p99_ms") < 1500, "the others' delivered p99: " << number("delivered_p99_ms") << " ms");
  // The slow participant's simulator got its appeals, each once (its counts are in the report's).
  BOOST_TEST(boost::json::parse(readFile(varDir() + "/bench/sim-p3.json")).as_object().at("appeals").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(serve_refuses_unknown_config_key) {
  std::string path = varDir() + "/bad.toml";
  std::ofstream(path) << "[admin]\nlisten = \"127.0.0.1:1\"\nport = 3\n";
  ChildProcess p({binaryPath(), "serve", "--config", path}, {}, varDir() + "/bad.log");
  BOOST_REQUIRE(p.wait(10s) == 2);
  BOOST_TEST(p.log().find("unknown key 'admin.port'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readyz_names_database_while_postgres_is_down, *utf::precondition(servicesAreOurs)) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_REQUIRE(services("stop postgres") == 0);
  std::string body_while_down;
  bool named = eventually(
      [&] {
        auto r = gw.readyz();
        body_while_down = r.body;
        return r.status == 503 && r.body.find("\"failing\":[\"database\"]") != std::string::npos;
      },
      20s);
  BOOST_REQUIRE(services("start postgres") == 0);
  BOOST_TEST(named, "readyz while postgres was down: " << body_while_down);
  BOOST_TEST(eventually([&] { return gw.readyIs(200); }, 30s));
}

BOOST_AUTO_TEST_CASE(readyz_names_broker_while_rabbitmq_is_down, *utf::precondition(servicesAreOurs)) {
  Gateway gw;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return gw.readyIs(200); }, 30s), gw.process->log());
  BOOST_REQUIRE(services("stop rabbitmq") == 0);
  std::string body_while_down;
  bool named = eventually(
      [&] {
        auto r = gw.readyz();
        body_while_down = r.body;
        return r.status == 503 && r.body.find("\"failing\":[\"broker\"]") != std::string::npos;
      },
      20s);
  BOOST_REQUIRE(services("start rabbitmq") == 0);
  BOOST_TEST(named, "readyz while rabbitmq was down: " << body_while_down);
  BOOST_TEST(eventually([&] { return gw.readyIs(200); }, 60s));
}

BOOST_AUTO_TEST_SUITE_END()
