// `vkhid bench`: the load benchmark of docs/performance.md. Against the private servers of
// scripts/services it sets up a fresh database and broker virtual host, onboards P participants on the
// amqp adapter (the development PKI's p1…p3), starts one gateway and P participant simulators as
// child processes, measures this machine's bounds (seal and verify with the same keys; committed
// PostgreSQL transactions; persistent RabbitMQ publish-and-consume), then drives N cases through the
// intake API and follows each to closed. Reports full-lifecycle cases per second, intake latency,
// intake-to-delivered and intake-to-closed, CPU seconds per 1,000 cases and peak RSS of the gateway,
// the CPU of PostgreSQL, RabbitMQ, the simulators and the load clients over the same window (when the
// servers run on this machine), messages lost or duplicated, and the pipeline efficiency against the
// lowest bound. A second phase then offers half the saturated rate and reports its latencies: the
// gateway's with room to spare. The overhead ratios set the machine's and the gateway's CPU per case
// against the CPU its signatures need (issue 25). With --slow-participant MS one participant more, on the
// http adapter, answers each package MS after it came, with one case in ten: its cases are reported
// apart, and the others' latencies show whether it held them back (issue 25, no head-of-line blocking).
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
#include <set>
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
#include "tools/bench_preload.hpp"
#include "tools/bench_report.hpp"
#include "tools/bench_support.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

using namespace bench;

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid bench: %s\n", what.c_str());
  return 2;
}

std::string withDatabase(const std::string& url, const std::string& db) {
  return url.substr(0, url.rfind('/') + 1) + db;
}

// The example appeal as the n-th applicant's, addressed to `org`: the example's surname with a second
// part of its own, an e-mail and a phone of its own (those the example has). The UCC's appeals come from as many
// people; one person posting them all would make every appeal after the first a likely repeat of the one before (issue
// 30), and the intake's look-up of that person's earlier appeals grow with the run.
std::string caseBody(boost::json::object body, long long n, const std::string& org) {
  static constexpr std::string_view kLetters[] = {"а", "б", "в", "г", "д", "е", "є", "ж", "з", "и", "і",
                                                  "ї", "й", "к", "л", "м", "н", "о", "п", "р", "с", "т",
                                                  "у", "ф", "х", "ц", "ч", "ш", "щ", "ю", "я", "ґ"};
  constexpr long long kBase = std::size(kLetters);
  if (auto* applicant = body.if_contains("applicant"); applicant && applicant->is_object()) {
    auto& a = applicant->as_object();
    // Each of the example's fields made this applicant's; what it leaves out stays out.
    if (auto* surname = a.if_contains("surname"); surname && surname->is_string()) {
      std::string second = "-Б";
      long long k = n;
      do {
        second += kLetters[k % kBase];
        k /= kBase;
      } while (k > 0);
      *surname = std::string(surname->as_string()) + second;
    }
    if (a.contains("email")) a["email"] = "applicant." + std::to_string(n) + "@example.org";
    if (a.contains("phone")) {
      char phone[16];
      std::snprintf(phone, sizeof phone, "+38050%07lld", n % 10000000);
      a["phone"] = phone;
    }
  }
  body["addressee_org_id"] = org;
  return boost::json::serialize(body);
}

// One benchmark run: set-up, the processes, the machine's bounds, the load, the figures.
class BenchRun {
 public:
  explicit BenchRun(const BenchOptions& o) : o_(o), pki_(o.var + "/pki"), dir_(o.var + "/bench") {}

  int run() {
    if (o_.participants < 1 || o_.participants > 3)
      return complain("--participants: expected 1 to 3 (the PKI's p1…p3)");
    if (o_.slow_participant_ms > 0 && o_.participants > 2)
      return complain("--slow-participant: at most 2 --participants beside it (the slow one is the PKI's p3)");
    if (o_.preload > 0 && o_.warm_up < 1) return complain("--preload: the history is copied from --warm-up's cases");
    auto config = app::loadConfig(std::nullopt, app::processEnvironment());
    if (!config) return complain(config.error().message);
    std::filesystem::create_directories(dir_);
    for (int i = 1; i <= 3; ++i) std::filesystem::remove(dir_ + "/sim-p" + std::to_string(i) + ".json");  // afresh
    sev::initXml();
    if (auto s = setUp(*config); !s) return complain(s.error().message);
    if (auto s = startProcesses(); !s) return complain(s.error().message);
    std::printf("vkhid bench: measuring the bounds of this machine …\n");
    std::fflush(stdout);
    auto bounds = measureBounds(pki_, orgs_[0], db_url_, urlsFor("guest", "guest"), queueType());
    if (!bounds) {
      stopAll();
      return complain(bounds.error().message);
    }
    auto load = drive();
    if (!load) return complain(load.error().message);
    auto r = figures({o_, *db_, dir_, static_cast<long long>(bus::brokerNodes(broker_urls_).size())}, *bounds, *load);
    printFigures(r, o_.json);
    return r.at("lost").as_int64() == 0 && r.at("duplicated").as_int64() == 0 ? 0 : 1;
  }

 private:
  std::string queueType() const { return o_.cluster ? "quorum" : "classic"; }
  std::string urlsFor(const std::string& user, const std::string& password) const {
    return bus::brokerUrlsAs(broker_urls_, user, password, kVhost);
  }

  // A fresh database and virtual host; participants, routes, a channel token.
  Status setUp(const app::Config& config) {
    db_url_ = withDatabase(config.database.url, "vkhid_bench");
    {
      auto admin =
          store::PgConnection::connect({withDatabase(config.database.url, "postgres"), 5, 60000, "vkhid-bench"});
      if (!admin) return admin.error();
      (void)admin->exec("DROP DATABASE IF EXISTS vkhid_bench WITH (FORCE)");
      if (auto r = admin->exec("CREATE DATABASE vkhid_bench"); !r) return r.error();
    }
    auto db = store::PgConnection::connect({db_url_, 5, 600000, "vkhid-bench"});
    if (!db) return db.error();
    db_.emplace(std::move(db).value());
    if (auto m = store::migrate(*db_, store::embeddedMigrations()); !m) return m.error();
    if (auto s = findBroker(config); !s) return s;
    return onboard();
  }

  // The broker's node, or each node of the cluster (quorum queues everywhere then); its side starts empty
  // too, as the database does: nothing a previous run left (the applicants' notifications nobody consumes
  // here, queues of participants no longer configured).
  Status findBroker(const app::Config& config) {
    broker_urls_ = config.broker.url;
    if (o_.cluster) {
      broker_urls_.clear();
      if (FILE* f = ::popen((o_.root + "/scripts/services env").c_str(), "r")) {
        char buf[1024];
        while (std::fgets(buf, sizeof buf, f)) {
          std::string line(buf);
          if (line.rfind("VKHID_AMQP_CLUSTER_URL=", 0) == 0) broker_urls_ = line.substr(23, line.find('\n') - 23);
        }
        ::pclose(f);
      }
      if (broker_urls_.empty())
        return Error::unavailable("bench", "--cluster: no cluster runs (scripts/services start cluster)");
    }
    const std::string cluster = o_.cluster ? " --cluster" : "";
    if (std::system((o_.root + "/scripts/services reset-vhost " + kVhost + cluster + " >/dev/null").c_str()) != 0) {
      return Error::unavailable("bench", std::string("scripts/services reset-vhost failed for ") + kVhost);
    }
    return {};
  }

  // Registers the PKI's participant `p` (org `org`): the keys every participant has, then `rest` (its
  // transport and endpoint), and routes the appeals addressed to it there.
  Status registerParticipant(const std::string& p, const std::string& org, const std::string& rest) {
    std::string toml = "org_id = \"" + org + "\"\nsys_id = \"edms-" + p + "\"\nname = \"Учасник " + p +
                       "\"\nfull_name = \"Учасник " + p + "\"\nsystem_name = \"Симулятор СЕД\"\n" +
                       "memorandum_number = \"М-" + org + "\"\nmemorandum_date = 2026-11-01\n" + "trust_ca_file = \"" +
                       pki_ + "/ca.pem\"\nseal_cert_file = \"" + pki_ + "/" + p + "-seal.pem\"\n" + rest;
    if (auto s = flows::saveParticipant(*db_, toml, p, {true}); !s) return s.error();
    if (auto r = flows::addRoute(*db_, org, "", "", org, 10); !r) return r.error();
    return {};
  }

  Status onboard() {
    for (int i = 1; i <= o_.participants; ++i) {
      std::string p = "p" + std::to_string(i), org = "9999991" + std::to_string(i);
      orgs_.push_back(org);
      std::string cmd = o_.root + "/scripts/services add-user " + p + " " + p + "-bench-secret " + kVhost +
                        (o_.cluster ? " --cluster" : "") + " >/dev/null";
      if (std::system(cmd.c_str()) != 0)
        return Error::unavailable("bench", "scripts/services add-user failed for " + p);
      if (auto s = registerParticipant(p, org, "transport_user = \"" + p + "\"\n[[endpoint]]\nadapter = \"amqp\"\n");
          !s)
        return s;
    }
    if (o_.slow_participant_ms > 0) {
      // The slow one: p3 on the http adapter (mutual TLS both ways), its endpoint the simulator's.
      if (auto s = registerParticipant(
              "p3", kSlowOrg,
              "tls_cert_file = \"" + pki_ + "/p3-tls.pem\"\n[[endpoint]]\nadapter = \"http\"\nurl = " +
                  "\"https://localhost:" + std::to_string(kSlowPort) + "/edms\"\nca_file = \"" + pki_ + "/ca.pem\"\n");
          !s) {
        return s;
      }
    }
    auto token = flows::issueToken(*db_, "bench", "channel");
    if (!token) return token.error();
    token_ = *token;
    return {};
  }

  // The gateway and the participants' simulators, as child processes; waits for the gateway's /readyz.
  Status startProcesses() {
    std::map<std::string, std::string> env{{"VKHID_DATABASE_URL", db_url_},
                                           {"VKHID_BROKER_URL", urlsFor("guest", "guest")},
                                           {"VKHID_BROKER_QUEUE_TYPE", queueType()},
                                           {"VKHID_INTAKE_LISTEN", "127.0.0.1:" + std::to_string(kIntakePort)},
                                           {"VKHID_ADMIN_LISTEN", "127.0.0.1:" + std::to_string(kAdminPort)},
                                           {"VKHID_EDMS_LISTEN", "127.0.0.1:" + std::to_string(kEdmsPort)},
                                           {"VKHID_GATEWAY_INSTANCE", "bench"},
                                           {"VKHID_GATEWAY_SEAL_KEY", pki_ + "/ucc-seal.key"},
                                           {"VKHID_GATEWAY_SEAL_CERT", pki_ + "/ucc-seal.pem"},
                                           {"VKHID_AT_REST_MASTER_KEY", pki_ + "/master.key"},
                                           {"VKHID_AUDIT_CA_FILE", pki_ + "/ca.pem"},
                                           {"VKHID_LOG_LEVEL", "warn"}};
    if (o_.slow_participant_ms > 0) {
      // The EDMS endpoint the slow participant sends to (mutual TLS).
      env["VKHID_EDMS_TLS_CERT"] = pki_ + "/gateway-tls.pem";
      env["VKHID_EDMS_TLS_KEY"] = pki_ + "/gateway-tls.key";
      env["VKHID_EDMS_CLIENT_CA"] = pki_ + "/ca.pem";
    }
    gateway_ = Child::spawn({"serve"}, env, dir_ + "/gateway.log");
    for (int i = 1; i <= o_.participants; ++i) {
      std::string p = "p" + std::to_string(i);
      spawnSimulator(p, orgs_[static_cast<std::size_t>(i - 1)],
                     {"--broker-url", urlsFor(p, p + "-bench-secret"), "--queue-type", queueType()});
    }
    if (o_.slow_participant_ms > 0) {
      spawnSimulator("p3", kSlowOrg,
                     {"--via", "http", "--listen", "127.0.0.1:" + std::to_string(kSlowPort), "--tls-cert",
                      pki_ + "/p3-tls.pem", "--tls-key", pki_ + "/p3-tls.key", "--gateway-url",
                      "https://localhost:" + std::to_string(kEdmsPort) + "/edms/v1/messages", "--respond-after-ms",
                      std::to_string(o_.slow_participant_ms)});
    }
    const std::string admin = "http://127.0.0.1:" + std::to_string(kAdminPort);
    auto ready = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < ready) {
      auto r = http::get(admin + "/readyz", std::chrono::seconds(2));
      if (r && r->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    int status = 0;
    if (waitpid(gateway_.pid, &status, WNOHANG) != 0) {
      gateway_.pid = -1;
      stopAll();
      return Error::unavailable("bench",
                                "the gateway exited at start (another on its ports?); see " + dir_ + "/gateway.log");
    }
    return {};
  }

  // `vkhid sim participant` for the PKI's participant `p`: its keys, its counts in sim-<p>.json, and its
  // transport's options.
  void spawnSimulator(const std::string& p, const std::string& org, const std::vector<std::string>& transport) {
    std::vector<std::string> args{"sim",     "participant",
                                  "--org",   org,
                                  "--key",   pki_ + "/" + p + "-seal.key",
                                  "--cert",  pki_ + "/" + p + "-seal.pem",
                                  "--trust", pki_ + "/ca.pem",
                                  "--stats", dir_ + "/sim-" + p + ".json"};
    args.insert(args.end(), transport.begin(), transport.end());
    sims_.push_back(Child::spawn(args, {}, dir_ + "/sim-" + p + ".log"));
  }

  void stopAll() {
    for (auto& s : sims_) s.stop();
    gateway_.stop();
  }

  // A counter of the gateway's metrics so far: what its outbox relay has published
  // (vkhid_outbox_broker_messages_total), its exchanges with PostgreSQL (vkhid_pg_round_trips_total).
  long long gatewayCount(std::string_view name) {
    auto r = http::get("http://127.0.0.1:" + std::to_string(kAdminPort) + "/metrics", std::chrono::seconds(5));
    if (!r || r->status != 200) return 0;
    const std::string line = "\n" + std::string(name) + " ";
    const std::string body = "\n" + r->body;
    const auto at = body.find(line);
    return at == std::string::npos ? 0 : std::atoll(body.c_str() + at + line.size());
  }
  long long relayMessages() { return gatewayCount("vkhid_outbox_broker_messages_total"); }
  long long roundTrips() { return gatewayCount("vkhid_pg_round_trips_total"); }

  long long commits() {
    auto r = db_->exec("SELECT xact_commit FROM pg_stat_database WHERE datname = 'vkhid_bench'");
    return r ? r->getInt(0, 0) : 0;
  }
  // What the database wrote for the run (the whole cluster's WAL; nothing else runs on it): records and
  // bytes per case — a figure of the work per case that does not vary with the machine's speed.
  std::pair<long long, long long> wal() {
    auto r = db_->exec("SELECT wal_records, wal_bytes FROM pg_stat_wal");
    return r ? std::pair{r->getInt(0, 0), r->getInt(0, 1)} : std::pair{0LL, 0LL};
  }
  double simsCpu() const {
    double s = 0;
    for (const auto& sim : sims_) s += sim.cpuSeconds();
    return s;
  }

  // `count` cases through the intake API by o.clients threads, each case to its participant in turn,
  // `rate` a second (0: as fast as they go), under Idempotency-Keys `<prefix><i>`; returns how many
  // were refused and adds each latency to `latencies`.
  int post(const boost::json::object& example, int count, double rate, const std::string& prefix,
           std::vector<double>& latencies) {
    std::atomic<int> next{0}, refused{0};
    const auto load_start = Clock::now();
    std::mutex mutex;
    std::vector<std::thread> clients;
    for (int c = 0; c < o_.clients; ++c) {
      clients.emplace_back([&] {
        std::vector<double> mine;
        for (int i = next++; i < count; i = next++) {
          if (rate > 0) {
            std::this_thread::sleep_until(load_start +
                                          std::chrono::microseconds(static_cast<long long>(1e6 * i / rate)));
          }
          const bool slow = o_.slow_participant_ms > 0 && i % kSlowEvery == kSlowEvery - 1;
          const std::string body =
              caseBody(example, applicants_++, slow ? kSlowOrg : orgs_[static_cast<std::size_t>(i) % orgs_.size()]);
          auto t0 = Clock::now();
          auto r = http::post("http://127.0.0.1:" + std::to_string(kIntakePort) + "/api/v1/cases", "application/json",
                              body, std::chrono::seconds(30), nullptr,
                              {{"Authorization", "Bearer " + token_}, {"Idempotency-Key", prefix + std::to_string(i)}});
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!r || r->status != 201) {
            refused++;
          } else if (auto id = caseIdOf(r->body); !id.empty()) {
            std::lock_guard lock(open_mutex_);
            open_.push_back(std::move(id));
          }
        }
        std::lock_guard lock(mutex);
        latencies.insert(latencies.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : clients) t.join();
    return refused.load();
  }

  // Waits until `want` of the cases posted since the count was last reset are closed (or the timeout);
  // returns how many are. The cases still open are looked up by their ids, so a preloaded history is
  // neither counted nor scanned every 200 ms. A look asks about the oldest 256 still open and 256 more
  // taken in turn from the rest: while the intake ran ahead of the exchange each look (five a second)
  // had asked about every case still open, up to a thousand ids and 2,800 buffers, PostgreSQL's time
  // charged to the run's cases. Cases close about in the order they came; the turn reaches those behind
  // cases held long at a participant (--slow-participant), so none waits unseen.
  long long waitClosed(long long want) {
    constexpr std::size_t kLookedUp = 256;
    std::size_t turn = 0;  // where the next look's second part begins, past the oldest
    auto deadline = Clock::now() + std::chrono::seconds(o_.timeout_s);
    while (Clock::now() < deadline) {
      std::vector<std::string> open;
      {
        std::lock_guard lock(open_mutex_);
        const std::size_t oldest = std::min(open_.size(), kLookedUp);
        open.assign(open_.begin(), open_.begin() + static_cast<std::ptrdiff_t>(oldest));
        const std::size_t rest = open_.size() - oldest;
        for (std::size_t k = 0; k < std::min(rest, kLookedUp); ++k) open.push_back(open_[oldest + (turn + k) % rest]);
        turn = rest == 0 ? 0 : (turn + kLookedUp) % rest;
      }
      auto r = db_->exec("SELECT id::text FROM cases WHERE id = ANY ($1::uuid[]) AND status = 'closed'",
                         {store::textArrayLiteral(open)});
      if (r) {
        std::set<std::string> now_closed;
        for (int i = 0; i < r->rows(); ++i) now_closed.insert(std::string(r->get(i, 0)));
        std::lock_guard lock(open_mutex_);
        std::erase_if(open_, [&](const std::string& id) { return now_closed.contains(id); });
        closed_ += static_cast<long long>(now_closed.size());
      }
      if (closed_ >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return closed_;
  }

  static std::string caseIdOf(const std::string& body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    const auto* id = !ec && v.is_object() ? v.as_object().if_contains("id") : nullptr;
    return id && id->is_string() ? std::string(id->as_string()) : std::string();
  }

  // What the machine has done so far: the CPU of the whole, PostgreSQL and the gateway, and the WAL.
  struct Snapshot {
    Clock::time_point at;
    double machine = 0, postgres = 0, gateway = 0;
    long long wal_records = 0;
  };
  Snapshot snapshot() {
    return {Clock::now(), machineBusySeconds(), cpuOfProcesses({"postgres"}), gateway_.cpuSeconds(), wal().first};
  }
  static LoadFigures::Batch batchBetween(const Snapshot& a, const Snapshot& b, double cases) {
    const double n = std::max(1.0, cases);
    return {cases / std::max(1e-3, std::chrono::duration<double>(b.at - a.at).count()),
            (b.machine - a.machine) * 1000.0 / n, (b.postgres - a.postgres) * 1000.0 / n,
            (b.gateway - a.gateway) * 1000.0 / n, static_cast<double>(b.wal_records - a.wal_records) / n};
  }

  // Soak (issue 25: a case must cost the same whatever the size of the tables): batches 2…N of `cases`
  // after the first, on the same database and processes, each measured from its first post to its last
  // close.
  void soakBatches(const boost::json::object& example, LoadFigures& f) {
    long long expected = o_.cases - f.refused;
    for (int k = 2; k <= o_.soak; ++k) {
      std::printf("vkhid bench: soak batch %d of %d …\n", k, o_.soak);
      std::fflush(stdout);
      const auto before = snapshot();
      std::vector<double> latencies;
      const int refused = post(example, o_.cases, o_.rate, "soak" + std::to_string(k) + "-", latencies);
      f.soak_cases += o_.cases;
      f.soak_refused += refused;
      expected += o_.cases - refused;
      f.closed_all = waitClosed(expected);
      f.soak.push_back(batchBetween(before, snapshot(), o_.cases - refused));
    }
  }

  // Before the window: --warm-up cases through the exchange, then the database's statistics taken, as
  // autovacuum takes them within a minute of a database's first use (and every 10 % it grows). A database
  // this run created has none: the plans made without them (a scan of the whole table where a key would
  // find the row) stay cached for the run, and the cost of a case would be a new database's first minute,
  // growing with every case, rather than the service's. With --preload the warm-up's cases are the
  // template the history is copied from; that copy takes the statistics after it. Returns the history's
  // cases.
  Result<long long> warmUp(const boost::json::object& example) {
    if (o_.warm_up <= 0) return 0LL;
    std::printf("vkhid bench: %d cases to warm up%s …\n", o_.warm_up,
                o_.preload > 0
                    ? (", then " + std::to_string(o_.preload) + " cases of history generated from them").c_str()
                    : ", then the statistics");
    std::fflush(stdout);
    std::vector<double> latencies;
    const int refused = post(example, o_.warm_up, 0, o_.preload > 0 ? "template-" : "warm-", latencies);
    if (waitClosed(o_.warm_up - refused) < o_.warm_up - refused) {
      return Error::unavailable("bench.warm_up", "the warm-up's cases did not all close");
    }
    warm_up_cases_ = o_.warm_up - refused;
    Result<long long> history = 0LL;
    if (o_.preload > 0) {
      history = preloadHistory(*db_, o_.preload);
    } else if (auto r = db_->exec("ANALYZE"); !r) {
      history = r.error();
    }
    // The warm-up's WAL and commits counted before the window opens, not in it: a backend reports them to
    // the server's statistics at most once a second, and one that went idle within that second only 10 s
    // later (PGSTAT_IDLE_INTERVAL).
    std::this_thread::sleep_for(std::chrono::seconds(11));
    return history;
  }

  // The first phase's full-lifecycle rate: its closed cases over the span from its first registration
  // to its last close.
  double saturatedRate(long long closed) {
    auto spans = db_->exec(
        "SELECT extract(epoch FROM max(e.at) - min(c.registered_at)) FROM cases c JOIN case_event e ON e.case_id = "
        "c.id AND e.event = 'closed' WHERE c.idempotency_key LIKE 'bench-%'");
    double span = spans && !spans->isNull(0, 0) ? std::stod(std::string(spans->get(0, 0))) : 0;
    return span > 0 ? static_cast<double>(closed) / span : 0;
  }

  // The second phase (issue 25): half the saturated rate offered, to show the latencies of a gateway with
  // room to spare rather than of a queue.
  void halfRatePhase(const boost::json::object& example, LoadFigures& f) {
    f.half_cases = o_.half_rate_cases >= 0 ? o_.half_rate_cases : o_.cases / 2;
    const double rate = saturatedRate(f.closed) / 2;
    if (f.half_cases <= 0 || rate <= 0) {
      f.half_cases = 0;
      return;
    }
    std::printf("vkhid bench: %d more cases at half that rate (%.1f/s) …\n", f.half_cases, rate);
    std::fflush(stdout);
    f.half_offered_per_s = rate;
    f.half_refused = post(example, f.half_cases, rate, "half-", f.half_latencies);
    f.closed_all = waitClosed(static_cast<long long>(o_.cases - f.refused) + f.soak_cases - f.soak_refused +
                              f.half_cases - f.half_refused);
  }

  // The appeal every case is made from (config/examples/case-appeal.json), as a JSON object.
  Result<boost::json::object> exampleCase() const {
    const std::string path = o_.root + "/config/examples/case-appeal.json";
    auto text = crypto::readFile(path);
    if (!text) return text.error();
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (ec || !v.is_object()) return Error::invalid("bench.example", path + ": expected a JSON object");
    return std::move(v.as_object());
  }

  // The load, and what the machine did for it; the processes are stopped after it.
  Result<LoadFigures> drive() {
    std::printf(
        "vkhid bench: %d cases through the intake API (%d clients, %s) …\n", o_.cases, o_.clients,
        o_.rate > 0 ? (std::to_string(static_cast<int>(o_.rate)) + "/s offered").c_str() : "as fast as possible");
    std::fflush(stdout);
    auto example = exampleCase();
    if (!example) {
      stopAll();
      return example.error();
    }
    auto preloaded = warmUp(*example);
    if (!preloaded) {
      stopAll();
      return preloaded.error();
    }
    // Where the machine's CPU goes over the same window: the servers, the simulators, this process's
    // load clients (and its polling).
    const std::vector<std::string> kPostgres{"postgres"}, kRabbitmq{"beam.smp", "erl_child_setup", "epmd"};
    LoadFigures f;
    f.preloaded = *preloaded;
    f.warm_up_cases = warm_up_cases_;
    // Counted before the window opens: the counts scan every message of the history (with --preload,
    // millions), work of the bench's, not of the cases it measures.
    f.counted_before = messageCounts(*db_);
    (void)db_->exec("SELECT pg_stat_clear_snapshot()");
    const long long commits_before = commits();
    const auto wal_before = wal();
    const double cpu_before = gateway_.cpuSeconds(), pg_before = cpuOfProcesses(kPostgres);
    const double mq_before = cpuOfProcesses(kRabbitmq), sims_before = simsCpu(), self_before = selfCpuSeconds();
    const double machine_before = machineBusySeconds();
    const long long relay_before = relayMessages(), trips_before = roundTrips();
    closed_ = 0;  // the run's cases from here (the template's, if any, all closed)
    const auto first = snapshot();
    auto load_start = Clock::now();
    f.refused = post(*example, o_.cases, o_.rate, "bench-", f.latencies);
    f.offered_s = std::chrono::duration<double>(Clock::now() - load_start).count();
    f.closed = f.closed_all = waitClosed(o_.cases - f.refused);
    f.gateway_cpu = gateway_.cpuSeconds() - cpu_before;
    f.pg_cpu = cpuOfProcesses(kPostgres) - pg_before;
    f.mq_cpu = cpuOfProcesses(kRabbitmq) - mq_before;
    f.sims_cpu = simsCpu() - sims_before;
    f.self_cpu = selfCpuSeconds() - self_before;
    f.machine_cpu = machineBusySeconds() - machine_before;
    f.rss = gateway_.peakRssMiB();
    f.soak.push_back(batchBetween(first, snapshot(), static_cast<double>(f.closed)));
    soakBatches(*example, f);
    halfRatePhase(*example, f);
    // The last notices leave after their cases closed: counted once the relay has sent every row.
    for (int i = 0; i < 50; ++i) {
      auto unsent = db_->exec("SELECT count(*) FROM outbox WHERE sent_at IS NULL");
      if (!unsent || unsent->getInt(0, 0) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    f.relay_messages = relayMessages() - relay_before;
    f.round_trips = roundTrips() - trips_before;
    // PostgreSQL counts a backend's commits in pg_stat_database when it reports them — at most once a
    // second, or when it ends: the gateway and the simulators stop first and their backends are gone
    // before the count is read (a short run would otherwise miss most of its transactions).
    stopAll();
    for (int i = 0; i < 50; ++i) {
      auto left =
          db_->exec("SELECT count(*) FROM pg_stat_activity WHERE datname = 'vkhid_bench' AND pid <> pg_backend_pid()");
      if (!left || left->getInt(0, 0) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    (void)db_->exec("SELECT pg_stat_clear_snapshot()");
    f.commits = commits() - commits_before;
    const auto wal_after = wal();
    f.wal = {wal_after.first - wal_before.first, wal_after.second - wal_before.second};
    return f;
  }

  static constexpr const char* kVhost = "bench";
  static constexpr unsigned short kIntakePort = 18643, kAdminPort = 18681, kEdmsPort = 18644, kSlowPort = 18645;

  const BenchOptions& o_;
  const std::string pki_, dir_;
  std::string db_url_, broker_urls_, token_;
  std::optional<store::PgConnection> db_;
  long long warm_up_cases_ = 0;
  std::mutex open_mutex_;
  std::vector<std::string> open_;         // the ids of the cases posted and not yet seen closed
  long long closed_ = 0;                  // the cases seen closed since the run's count began
  std::atomic<long long> applicants_{0};  // each case posted is its own applicant's
  std::vector<std::string> orgs_;
  Child gateway_;
  std::vector<Child> sims_;
};

int runBench(const BenchOptions& o) { return BenchRun(o).run(); }

}  // namespace

void addBenchCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  auto* bench = app.add_subcommand("bench", "The load benchmark against the private servers (docs/performance.md)");
  bench->add_option("--cases", o->cases, "cases to drive through")->default_val(2000);
  bench->add_option("--rate", o->rate, "cases per second to offer (0: as fast as possible)")->default_val(0);
  bench->add_option("--participants", o->participants, "simulated participants on amqp (1-3)")->default_val(2);
  bench->add_option("--clients", o->clients, "intake client threads")->default_val(8);
  bench
      ->add_option("--soak", o->soak,
                   "batches of --cases one after another on the same database, each one's cost per case reported")
      ->default_val(1)
      ->check(CLI::Range(1, 1000));
  bench
      ->add_option("--half-rate-cases", o->half_rate_cases,
                   "cases of the second phase, offered at half the first's rate (default: --cases / 2; 0: none)")
      ->default_val(-1);
  bench
      ->add_option("--warm-up", o->warm_up,
                   "cases run through before the measured run, then the database's statistics taken (with "
                   "--preload: the history's template)")
      ->default_val(200)
      ->check(CLI::Range(0, 100000));
  bench
      ->add_option("--preload", o->preload,
                   "cases of history generated before the run, copied from the --warm-up's (docs/performance.md)")
      ->default_val(0)
      ->check(CLI::Range(0LL, 10000000LL));
  bench
      ->add_option("--slow-participant", o->slow_participant_ms,
                   "MS: one participant more on http answering each package after MS, with one case in ten; the "
                   "others' latencies are reported apart from its own")
      ->default_val(0)
      ->check(CLI::Range(0, 600000));
  bench->add_option("--json", o->json, "write the figures as one JSON object here");
  bench->add_option("--root", o->root, "the checkout (scripts/, config/)")->default_val(".");
  bench->add_option("--var", o->var, "the var folder (pki/, bench/)")->default_val("var");
  bench->add_flag("--cluster", o->cluster,
                  "against the three-node RabbitMQ cluster of `scripts/services start cluster` (quorum queues)");
  bench->add_option("--timeout", o->timeout_s, "seconds to wait for every case to close")->default_val(600);
  bench->callback([o, &exit_code] { exit_code = runBench(*o); });
}

}  // namespace vkhid::tools
