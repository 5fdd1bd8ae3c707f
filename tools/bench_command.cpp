// `vkhid bench`: the load benchmark of docs/performance.md. Against the private servers of
// scripts/services it sets up a fresh database and broker virtual host, onboards P participants on the
// amqp adapter (the development PKI's p1…p3), starts one gateway and P participant simulators as
// child processes, measures this machine's bounds (seal and verify with the same keys; committed
// PostgreSQL transactions; persistent RabbitMQ publish-and-consume), then drives N cases through the
// intake API and follows each to closed. Reports full-lifecycle cases per second, intake latency,
// intake-to-delivered and intake-to-closed, CPU seconds per 1,000 cases and peak RSS of the gateway,
// the CPU of PostgreSQL, RabbitMQ, the simulators and the load clients over the same window (when the
// servers run on this machine), messages lost or duplicated, and the pipeline efficiency against the
// lowest bound.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "gateway/app/config.hpp"
#include "gateway/bus/amqp.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/http/client.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/migrations.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  int cases = 2000, participants = 2, clients = 8;
  double rate = 0;  // cases per second offered; 0 = as fast as the clients go
  std::string json, root = ".", var = "var";
  int timeout_s = 600;
  bool cluster = false;  // the three-node broker cluster of `scripts/services start cluster`
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid bench: %s\n", what.c_str());
  return 2;
}

// Clock ticks (user + system) of a process from /proc/PID/stat; with `children`, also those of its
// children it has waited for. 0 for a process that is gone.
double cpuTicks(const std::string& pid, bool children, std::string* comm = nullptr) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  std::getline(in, line);
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return 0;
  if (comm) *comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 17 && rest >> field; ++i) {
    if (i == 14 || i == 15 || (children && (i == 16 || i == 17))) ticks += std::stod(field);
  }
  return ticks;
}

// CPU seconds so far of this machine's processes with these names, with the time of children they
// reaped: PostgreSQL's postmaster holds the time of its ended backends, so the difference over a
// window is the whole server's work in it. 0 when the server runs on another machine.
double cpuOfProcesses(const std::vector<std::string>& names) {
  double ticks = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    std::string comm;
    double t = cpuTicks(pid, true, &comm);
    if (std::find(names.begin(), names.end(), comm) != names.end()) ticks += t;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds the whole machine has been busy (all CPUs, everything but idle and I/O wait), from /proc/stat.
double machineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double busy = 0, v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    if (i != 3 && i != 4) busy += v;  // idle, iowait
  }
  return busy / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A child process of this binary, stderr and stdout to a log file.
struct Child {
  pid_t pid = -1;
  static Child spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     const std::string& log) {
    Child c;
    c.pid = fork();
    if (c.pid == 0) {
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      FILE* f = std::fopen(log.c_str(), "w");
      if (f) {
        dup2(fileno(f), STDOUT_FILENO);
        dup2(fileno(f), STDERR_FILENO);
      }
      std::vector<char*> argv;
      std::string self = std::filesystem::read_symlink("/proc/self/exe").string();  // its name in ps
      argv.push_back(self.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(self.c_str(), argv.data());
      _exit(127);
    }
    return c;
  }
  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (waitpid(pid, &status, WNOHANG) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    pid = -1;
  }
  // CPU seconds (user + system) and peak resident memory (MiB) so far, from /proc.
  double cpuSeconds() const { return cpuTicks(std::to_string(pid), false) / static_cast<double>(sysconf(_SC_CLK_TCK)); }
  double peakRssMiB() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
    }
    return 0;
  }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(at, v.size() - 1)];
}

// Runs `op` on `threads` threads for `seconds`; returns operations per second.
double rateOf(int threads, double seconds, const std::function<bool(int)>& op) {
  std::atomic<long long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!stop) {
        if (op(t)) done++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long long>(seconds * 1000)));
  stop = true;
  for (auto& th : pool) th.join();
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

std::string withDatabase(const std::string& url, const std::string& db) {
  return url.substr(0, url.rfind('/') + 1) + db;
}

int runBench(const BenchOptions& o) {
  if (o.participants < 1 || o.participants > 3) return complain("--participants: expected 1 to 3 (the PKI's p1…p3)");
  auto config = app::loadConfig(std::nullopt, app::processEnvironment());
  if (!config) return complain(config.error().message);
  const std::string pki = o.var + "/pki";
  const std::string dir = o.var + "/bench";
  std::filesystem::create_directories(dir);
  for (int i = 1; i <= 3; ++i) std::filesystem::remove(dir + "/sim-p" + std::to_string(i) + ".json");  // counts afresh
  sev::initXml();

  // --- set-up: a fresh database and virtual host; participants, routes, a channel token ---
  const std::string db_url = withDatabase(config->database.url, "vkhid_bench");
  {
    auto admin =
        store::PgConnection::connect({withDatabase(config->database.url, "postgres"), 5, 60000, "vkhid-bench"});
    if (!admin) return complain(admin.error().message);
    (void)admin->exec("DROP DATABASE IF EXISTS vkhid_bench WITH (FORCE)");
    if (auto r = admin->exec("CREATE DATABASE vkhid_bench"); !r) return complain(r.error().message);
  }
  auto db = store::PgConnection::connect({db_url, 5, 600000, "vkhid-bench"});
  if (!db) return complain(db.error().message);
  if (auto m = store::migrate(*db, store::embeddedMigrations()); !m) return complain(m.error().message);
  const std::string vhost = "bench";
  // The broker's node, or each node of the cluster (quorum queues everywhere then).
  std::string broker_urls = config->broker.url;
  if (o.cluster) {
    broker_urls.clear();
    if (FILE* f = ::popen((o.root + "/scripts/services env").c_str(), "r")) {
      char buf[1024];
      while (std::fgets(buf, sizeof buf, f)) {
        std::string line(buf);
        if (line.rfind("VKHID_AMQP_CLUSTER_URL=", 0) == 0) broker_urls = line.substr(23, line.find('\n') - 23);
      }
      ::pclose(f);
    }
    if (broker_urls.empty()) return complain("--cluster: no cluster runs (scripts/services start cluster)");
  }
  const std::string queue_type = o.cluster ? "quorum" : "classic";
  auto urlsFor = [&](const std::string& user, const std::string& password) {
    return bus::brokerUrlsAs(broker_urls, user, password, vhost);
  };
  // The broker's side starts empty too, as the database does: nothing a previous run left (the
  // applicants' notifications nobody consumes here, queues of participants no longer configured).
  if (std::system((o.root + "/scripts/services reset-vhost " + vhost + (o.cluster ? " --cluster" : "") + " >/dev/null")
                      .c_str()) != 0) {
    return complain("scripts/services reset-vhost failed for " + vhost);
  }
  std::vector<std::string> orgs;
  for (int i = 1; i <= o.participants; ++i) {
    std::string p = "p" + std::to_string(i), org = "9999991" + std::to_string(i);
    orgs.push_back(org);
    std::string cmd = o.root + "/scripts/services add-user " + p + " " + p + "-bench-secret " + vhost +
                      (o.cluster ? " --cluster" : "") + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) return complain("scripts/services add-user failed for " + p);
    std::string toml = "org_id = \"" + org + "\"\nsys_id = \"edms-" + p + "\"\nname = \"Учасник " + p +
                       "\"\nfull_name = \"Учасник " + p + "\"\nsystem_name = \"Симулятор СЕД\"\n" +
                       "memorandum_number = \"М-" + org + "\"\nmemorandum_date = 2026-11-01\n" + "trust_ca_file = \"" +
                       pki + "/ca.pem\"\nseal_cert_file = \"" + pki + "/" + p + "-seal.pem\"\ntransport_user = \"" + p +
                       "\"\n[[endpoint]]\nadapter = \"amqp\"\n";
    if (auto s = flows::saveParticipant(*db, toml, p, {true}); !s) return complain(s.error().message);
    if (auto r = flows::addRoute(*db, org, "", "", org, 10); !r) return complain(r.error().message);
  }
  auto token = flows::issueToken(*db, "bench", "channel");
  if (!token) return complain(token.error().message);

  // --- the gateway and the participants' simulators ---
  unsigned short intake_port = 18643, admin_port = 18681, edms_port = 18644;
  std::map<std::string, std::string> env{{"VKHID_DATABASE_URL", db_url},
                                         {"VKHID_BROKER_URL", urlsFor("guest", "guest")},
                                         {"VKHID_BROKER_QUEUE_TYPE", queue_type},
                                         {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(intake_port)},
                                         {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(admin_port)},
                                         {"VKHID_EDMS_LISTEN", "127.0.0.1:" + std::to_string(edms_port)},
                                         {"VKHID_GATEWAY_INSTANCE", "bench"},
                                         {"VKHID_GATEWAY_SEAL_KEY", pki + "/ucc-seal.key"},
                                         {"VKHID_GATEWAY_SEAL_CERT", pki + "/ucc-seal.pem"},
                                         {"VKHID_AUDIT_CA_FILE", pki + "/ca.pem"},
                                         {"VKHID_LOG_LEVEL", "warn"}};
  Child gateway = Child::spawn({"serve"}, env, dir + "/gateway.log");
  std::vector<Child> sims;
  for (int i = 1; i <= o.participants; ++i) {
    std::string p = "p" + std::to_string(i);
    sims.push_back(Child::spawn(
        {"sim", "participant", "--org", orgs[i - 1], "--key", pki + "/" + p + "-seal.key", "--cert",
         pki + "/" + p + "-seal.pem", "--trust", pki + "/ca.pem", "--broker-url", urlsFor(p, p + "-bench-secret"),
         "--queue-type", queue_type, "--stats", dir + "/sim-" + p + ".json"},
        {}, dir + "/sim-" + p + ".log"));
  }
  auto stopAll = [&] {
    for (auto& s : sims) s.stop();
    gateway.stop();
  };
  std::string admin = "http://127.0.0.1:" + std::to_string(admin_port);
  auto ready = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < ready) {
    auto r = http::get(admin + "/readyz", std::chrono::seconds(2));
    if (r && r->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  int status = 0;
  if (waitpid(gateway.pid, &status, WNOHANG) != 0) {
    gateway.pid = -1;
    stopAll();
    return complain("the gateway exited at start (another on its ports?); see " + dir + "/gateway.log");
  }

  // --- this machine's bounds, measured before the load ---
  std::printf("vkhid bench: measuring the bounds of this machine …\n");
  std::fflush(stdout);
  auto signer = crypto::FileSigner::load(pki + "/ucc-seal.key", pki + "/ucc-seal.pem");
  if (!signer) return complain(signer.error().message);
  auto trust_file = crypto::TrustStore::fromFile(pki + "/ca.pem");
  if (!trust_file) return complain(trust_file.error().message);
  const crypto::TrustStore& trust = *trust_file;
  const std::string to_org = orgs[0];
  auto receiptBytes = [&] {  // each call its own envelope: called from two threads at once
    sev::Envelope e{{"99999901", "УКЦ", "ucc", "Vkhid"},
                    {to_org, "Учасник", "edms-p1", "СЕД"},
                    flows::newUuid(),
                    formatIsoUtc(std::time(nullptr))};
    return crypto::sealedPackage(sev::buildReceipt(e, flows::newUuid(), sev::AckType::Delivered), *signer);
  };
  auto first_sample = receiptBytes();
  if (!first_sample) return complain(first_sample.error().message);
  const std::string sample = *first_sample;
  double seal_rate = rateOf(2, 2.0, [&](int) { return receiptBytes().ok(); });
  double verify_rate = rateOf(2, 2.0, [&](int) { return crypto::verifyPackage(sample, trust, {}).ok(); });
  std::vector<store::PgConnection> pgs;
  for (int i = 0; i < 8; ++i) {
    auto c = store::PgConnection::connect({db_url, 5, 60000, "vkhid-bench-bound"});
    if (!c) return complain(c.error().message);
    pgs.push_back(std::move(c).value());
  }
  (void)pgs[0].exec("CREATE TABLE bench_tx (id bigserial PRIMARY KEY, payload text)");
  double pg_rate = rateOf(8, 2.0, [&](int t) {
    return pgs[static_cast<std::size_t>(t)].exec("INSERT INTO bench_tx (payload) VALUES ('x')").ok();
  });
  double mq_rate = 0, mq_confirm_ms = 0;
  double pg_commit_ms = 0;
  {
    auto t0 = Clock::now();
    for (int i = 0; i < 100; ++i) (void)pgs[0].exec("INSERT INTO bench_tx (payload) VALUES ('y')");
    pg_commit_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 100.0;
  }
  {
    bus::AmqpSettings s{urlsFor("guest", "guest"), 5, 0, std::chrono::milliseconds(10000), queue_type};
    auto pub = bus::AmqpConnection::connect(s);
    auto sub = bus::AmqpConnection::connect(s);
    if (pub && sub && bus::declarePeerQueue(*pub, "bench.bound") && sub->setPrefetch(200) &&
        sub->consume("bench.bound")) {
      std::atomic<bool> stop{false};
      std::atomic<long long> consumed{0};
      std::thread consumer([&] {
        while (!stop) {
          auto d = sub->next(std::chrono::milliseconds(50));
          if (d && d->has_value() && sub->ack((*d)->tag)) consumed++;
        }
      });
      auto start = Clock::now();
      bus::PublishProperties props;
      while (Clock::now() - start < std::chrono::seconds(2)) {
        for (int i = 0; i < 50; ++i) (void)pub->publish("", "bench.bound", std::string(1200, 'x'), props);
        (void)pub->waitForConfirms(std::chrono::seconds(5));
      }
      auto published = std::chrono::duration<double>(Clock::now() - start).count();
      while (consumed.load() == 0 && Clock::now() - start < std::chrono::seconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      stop = true;
      consumer.join();
      mq_rate = static_cast<double>(consumed) / published;
      // One persistent message at a time, each waiting for its confirm: what a sequential hop costs.
      auto t0 = Clock::now();
      for (int i = 0; i < 100; ++i) {
        (void)pub->publish("", "bench.bound", std::string(1200, 'x'), props);
        (void)pub->waitForConfirms(std::chrono::seconds(5));
      }
      mq_confirm_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 100.0;
    }
  }

  // --- the load ---
  std::printf("vkhid bench: %d cases through the intake API (%d clients, %s) …\n", o.cases, o.clients,
              o.rate > 0 ? (std::to_string(static_cast<int>(o.rate)) + "/s offered").c_str() : "as fast as possible");
  std::fflush(stdout);
  auto example_file = crypto::readFile(o.root + "/config/examples/case-appeal.json");
  if (!example_file) return complain(example_file.error().message);
  const std::string example = *example_file;
  std::atomic<int> next{0};
  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<int> refused{0};
  auto commits = [&]() -> long long {
    auto r = db->exec("SELECT xact_commit FROM pg_stat_database WHERE datname = 'vkhid_bench'");
    return r ? r->getInt(0, 0) : 0;
  };
  // What the database wrote for the run (the whole cluster's WAL; nothing else runs on it): records and
  // bytes per case — a figure of the work per case that does not vary with the machine's speed.
  auto wal = [&]() -> std::pair<long long, long long> {
    auto r = db->exec("SELECT wal_records, wal_bytes FROM pg_stat_wal");
    return r ? std::pair{r->getInt(0, 0), r->getInt(0, 1)} : std::pair{0LL, 0LL};
  };
  (void)db->exec("SELECT pg_stat_clear_snapshot()");
  const long long commits_before = commits();
  const auto wal_before = wal();
  double cpu_before = gateway.cpuSeconds();
  // Where the machine's CPU goes over the same window: the servers, the simulators, this process's
  // load clients (and its polling).
  const std::vector<std::string> kPostgres{"postgres"}, kRabbitmq{"beam.smp", "erl_child_setup", "epmd"};
  auto simsCpu = [&] {
    double s = 0;
    for (const auto& sim : sims) s += sim.cpuSeconds();
    return s;
  };
  auto selfCpu = [] { return cpuTicks("self", false) / static_cast<double>(sysconf(_SC_CLK_TCK)); };
  const double pg_cpu_before = cpuOfProcesses(kPostgres), mq_cpu_before = cpuOfProcesses(kRabbitmq);
  const double sims_cpu_before = simsCpu(), self_cpu_before = selfCpu(), machine_before = machineBusySeconds();
  auto load_start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&] {
      std::vector<double> mine;
      for (int i = next++; i < o.cases; i = next++) {
        if (o.rate > 0) {
          auto due = load_start + std::chrono::microseconds(static_cast<long long>(1e6 * i / o.rate));
          std::this_thread::sleep_until(due);
        }
        std::string body = example;
        auto at = body.find("\"99999911\"");
        if (at != std::string::npos) {
          body.replace(at, 10, "\"" + orgs[static_cast<std::size_t>(i) % orgs.size()] + "\"");
        }
        auto t0 = Clock::now();
        auto r = http::post("http://127.0.0.1:" + std::to_string(intake_port) + "/api/v1/cases", "application/json",
                            body, std::chrono::seconds(30), nullptr,
                            {{"Authorization", "Bearer " + *token}, {"Idempotency-Key", "bench-" + std::to_string(i)}});
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r || r->status != 201) refused++;
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : clients) t.join();
  double offered_s = std::chrono::duration<double>(Clock::now() - load_start).count();
  auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  long long closed = 0;
  while (Clock::now() < deadline) {
    auto r = db->exec("SELECT count(*) FROM cases WHERE status = 'closed'");
    closed = r ? r->getInt(0, 0) : 0;
    if (closed >= o.cases - refused) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  double cpu = gateway.cpuSeconds() - cpu_before;
  const double pg_cpu = cpuOfProcesses(kPostgres) - pg_cpu_before, mq_cpu = cpuOfProcesses(kRabbitmq) - mq_cpu_before;
  const double sims_cpu = simsCpu() - sims_cpu_before, self_cpu = selfCpu() - self_cpu_before;
  const double machine_cpu = machineBusySeconds() - machine_before;
  double rss = gateway.peakRssMiB();
  // PostgreSQL counts a backend's commits in pg_stat_database when it reports them — at most once a
  // second, or when it ends: the gateway and the simulators stop first and their backends are gone
  // before the count is read (a short run would otherwise miss most of its transactions).
  stopAll();
  for (int i = 0; i < 50; ++i) {
    auto left =
        db->exec("SELECT count(*) FROM pg_stat_activity WHERE datname = 'vkhid_bench' AND pid <> pg_backend_pid()");
    if (!left || left->getInt(0, 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)db->exec("SELECT pg_stat_clear_snapshot()");
  const long long commits_during = commits() - commits_before;
  const auto wal_after = wal();

  // --- figures from what the gateway recorded ---
  auto spans = db->exec(
      "SELECT extract(epoch FROM min(c.registered_at)), extract(epoch FROM max(e.at)) FROM cases c JOIN case_event e "
      "ON e.case_id = c.id AND e.event = 'closed'");
  double first = spans && !spans->isNull(0, 0) ? std::stod(std::string(spans->get(0, 0))) : 0;
  double last = spans && !spans->isNull(0, 1) ? std::stod(std::string(spans->get(0, 1))) : 0;
  auto times = db->exec(
      "SELECT extract(epoch FROM (SELECT min(at) FROM case_event d WHERE d.case_id = c.id AND d.event = "
      "'delivered_to_transport') - c.registered_at) * 1000, extract(epoch FROM (SELECT min(at) FROM case_event d "
      "WHERE d.case_id = c.id AND d.event = 'closed') - c.registered_at) * 1000 FROM cases c");
  std::vector<double> delivered_ms, closed_ms;
  for (int i = 0; times && i < times->rows(); ++i) {
    if (!times->isNull(i, 0)) delivered_ms.push_back(std::stod(std::string(times->get(i, 0))));
    if (!times->isNull(i, 1)) closed_ms.push_back(std::stod(std::string(times->get(i, 1))));
  }
  auto counts = db->exec(
      "SELECT (SELECT count(*) FROM message WHERE direction = 'out'), (SELECT count(*) FROM message WHERE direction = "
      "'in'), (SELECT count(*) FROM outbox), (SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1)");
  double n = std::max(1.0, static_cast<double>(o.cases - refused));
  double out_per_case = counts ? static_cast<double>(counts->getInt(0, 0)) / n : 0;
  double in_per_case = counts ? static_cast<double>(counts->getInt(0, 1)) / n : 0;
  double mq_per_case =
      counts ? (static_cast<double>(counts->getInt(0, 2)) + static_cast<double>(counts->getInt(0, 1))) / n : 0;
  long long packages = counts ? counts->getInt(0, 3) : 0;
  double tx_per_case = static_cast<double>(commits_during) / n;  // the gateway's, and our polling's (few)
  long long sim_appeals = 0;
  for (int i = 1; i <= o.participants; ++i) {
    auto text = crypto::readFile(dir + "/sim-p" + std::to_string(i) + ".json");
    if (!text) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (!ec && v.is_object() && v.as_object().contains("appeals"))
      sim_appeals += v.as_object().at("appeals").as_int64();
  }

  double cases_per_s = last > first ? static_cast<double>(closed) / (last - first) : 0;
  double seal_bound = 1.0 / (out_per_case / std::max(seal_rate, 1.0) + in_per_case / std::max(verify_rate, 1.0));
  double pg_bound = tx_per_case > 0 ? pg_rate / tx_per_case : 0;
  double mq_bound = mq_per_case > 0 ? mq_rate / mq_per_case : 0;
  double lowest = std::min({seal_bound, pg_bound > 0 ? pg_bound : 1e12, mq_bound > 0 ? mq_bound : 1e12});
  // The ceiling of any pipeline doing this run's work per case on this machine, everything sharing its
  // cores: the gateway's seals and verifications and the participants' own (they verify what it sealed
  // and seal what it verifies), the case's commits and broker messages — each at the rate measured
  // above with every core, so one after another. Nothing else (HTTP, XML, JSON, the gateway's own
  // logic) is counted: no code reaches it, and an efficiency above ceiling ÷ lowest bound is out of reach.
  const double packages_per_case = out_per_case + in_per_case;
  double floor_s = packages_per_case / std::max(seal_rate, 1.0) + packages_per_case / std::max(verify_rate, 1.0) +
                   (pg_rate > 0 ? tx_per_case / pg_rate : 0) + (mq_rate > 0 ? mq_per_case / mq_rate : 0);
  double ceiling = floor_s > 0 ? 1.0 / floor_s : 0;
  long long lost = static_cast<long long>(n) - closed;
  auto per1000 = [&](double seconds) { return closed > 0 ? seconds * 1000.0 / static_cast<double>(closed) : 0; };
  long long duplicated = std::max(0LL, packages - static_cast<long long>(n)) + std::max(0LL, sim_appeals - closed);

  boost::json::object r{{"cases", o.cases},
                        {"refused", refused.load()},
                        {"broker_nodes", static_cast<long long>(bus::brokerNodes(broker_urls).size())},
                        {"closed", closed},
                        {"cases_per_s", cases_per_s},
                        {"offered_per_s", o.cases / offered_s},
                        {"intake_p50_ms", percentile(latencies, 0.5)},
                        {"intake_p95_ms", percentile(latencies, 0.95)},
                        {"intake_p99_ms", percentile(latencies, 0.99)},
                        {"delivered_p50_ms", percentile(delivered_ms, 0.5)},
                        {"delivered_p99_ms", percentile(delivered_ms, 0.99)},
                        {"closed_p50_ms", percentile(closed_ms, 0.5)},
                        {"closed_p99_ms", percentile(closed_ms, 0.99)},
                        {"cpu_s_per_1000", per1000(cpu)},
                        {"postgres_cpu_s_per_1000", per1000(pg_cpu)},
                        {"rabbitmq_cpu_s_per_1000", per1000(mq_cpu)},
                        {"simulators_cpu_s_per_1000", per1000(sims_cpu)},
                        {"load_cpu_s_per_1000", per1000(self_cpu)},
                        {"machine_cpu_s_per_1000", per1000(machine_cpu)},
                        {"peak_rss_mib", rss},
                        {"bound_seal_verify_cases_per_s", seal_bound},
                        {"bound_postgres_cases_per_s", pg_bound},
                        {"bound_rabbitmq_cases_per_s", mq_bound},
                        {"seal_per_s", seal_rate},
                        {"verify_per_s", verify_rate},
                        {"postgres_commits_per_s", pg_rate},
                        {"rabbitmq_messages_per_s", mq_rate},
                        {"rabbitmq_confirm_ms", mq_confirm_ms},
                        {"postgres_commit_ms", pg_commit_ms},
                        {"transactions_per_case", tx_per_case},
                        {"wal_records_per_case", static_cast<double>(wal_after.first - wal_before.first) / n},
                        {"wal_kib_per_case", static_cast<double>(wal_after.second - wal_before.second) / 1024.0 / n},
                        {"broker_messages_per_case", mq_per_case},
                        {"packages_sealed_per_case", out_per_case},
                        {"packages_verified_per_case", in_per_case},
                        {"pipeline_efficiency", lowest > 0 ? cases_per_s / lowest : 0},
                        {"ceiling_cases_per_s", ceiling},
                        {"ceiling_efficiency", lowest > 0 ? ceiling / lowest : 0},
                        {"lost", lost},
                        {"duplicated", duplicated}};
  std::printf("\n%-34s %12s\n", "measure", "value");
  for (const auto& [k, v] : r) {
    if (v.is_double()) {
      std::printf("%-34s %12.2f\n", std::string(k).c_str(), v.as_double());
    } else {
      std::printf("%-34s %12lld\n", std::string(k).c_str(), static_cast<long long>(v.as_int64()));
    }
  }
  if (!o.json.empty()) std::ofstream(o.json) << boost::json::serialize(r) << "\n";
  return lost == 0 && duplicated == 0 ? 0 : 1;
}

}  // namespace

void addBenchCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  auto* bench = app.add_subcommand("bench", "The load benchmark against the private servers (docs/performance.md)");
  bench->add_option("--cases", o->cases, "cases to drive through")->default_val(2000);
  bench->add_option("--rate", o->rate, "cases per second to offer (0: as fast as possible)")->default_val(0);
  bench->add_option("--participants", o->participants, "simulated participants on amqp (1-3)")->default_val(2);
  bench->add_option("--clients", o->clients, "intake client threads")->default_val(8);
  bench->add_option("--json", o->json, "write the figures as one JSON object here");
  bench->add_option("--root", o->root, "the checkout (scripts/, config/)")->default_val(".");
  bench->add_option("--var", o->var, "the var folder (pki/, bench/)")->default_val("var");
  bench->add_flag("--cluster", o->cluster,
                  "against the three-node RabbitMQ cluster of `scripts/services start cluster` (quorum queues)");
  bench->add_option("--timeout", o->timeout_s, "seconds to wait for every case to close")->default_val(600);
  bench->callback([o, &exit_code] { exit_code = runBench(*o); });
}

}  // namespace vkhid::tools
