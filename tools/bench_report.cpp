// `vkhid bench`'s report: what a case cost, from what the gateway recorded and the simulators counted,
// set against the machine's bounds — the figures of docs/performance.md.
#include "tools/bench_report.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "gateway/crypto/openssl.hpp"

namespace vkhid::tools::bench {

std::array<long long, 4> messageCounts(store::PgConnection& db) {
  auto counts = db.exec(
      "SELECT (SELECT count(*) FROM message WHERE direction = 'out'), (SELECT count(*) FROM message WHERE direction "
      "= 'in'), (SELECT count(*) FROM outbox), (SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = "
      "1)");
  if (!counts) return {};
  return {counts->getInt(0, 0), counts->getInt(0, 1), counts->getInt(0, 2), counts->getInt(0, 3)};
}

namespace {

// The allocator this binary's processes run with (the gateway, the simulators and the load are this
// binary): jemalloc, linked or preloaded, when it answers for its version; else the C library's (or a
// sanitizer's). A run's figures move with it: it allocates for the signatures as for the rest.
std::string allocatorName() {
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  if (void* symbol = dlsym(RTLD_DEFAULT, "mallctl")) {
    const char* version = nullptr;
    std::size_t length = sizeof version;
    if (reinterpret_cast<Mallctl>(symbol)("version", &version, &length, nullptr, 0) == 0 && version != nullptr) {
      return std::string("jemalloc ") + version;
    }
  }
  return "default";
}

// What a case cost, from what the gateway recorded and the simulators counted.
struct PerCase {
  double n = 1;  // cases taken in
  double out = 0, in = 0, broker = 0, outbox_rows = 0, transactions = 0;
  long long packages = 0, sim_appeals = 0;
  double first = 0, last = 0;                             // the first registration, the last close (epoch s)
  std::vector<double> delivered_ms, closed_ms;            // from intake
  std::vector<double> half_delivered_ms, half_closed_ms;  // the second phase's
  std::vector<double> slow_delivered_ms, slow_closed_ms;  // --slow-participant: its own cases (both phases)
};
// Which participants' cases a figure is of: every one, or with --slow-participant the others' apart from
// the slow one's.
enum class Whose { All, Others, Slow };
// From intake to delivered and to closed, ms, for the cases of one phase (Idempotency-Key prefix).
void lifecycleTimes(store::PgConnection& db, const std::string& prefix, std::vector<double>& delivered,
                    std::vector<double>& closed, Whose whose) {
  auto times = db.exec(
      "SELECT extract(epoch FROM (SELECT min(at) FROM case_event d WHERE d.case_id = c.id AND d.event = "
      "'delivered_to_transport') - c.registered_at) * 1000, extract(epoch FROM (SELECT min(at) FROM case_event d "
      "WHERE d.case_id = c.id AND d.event = 'closed') - c.registered_at) * 1000 FROM cases c WHERE "
      "c.idempotency_key LIKE $1 AND ($3 = 'all' OR (c.participant_org_id IS NOT DISTINCT FROM $2) = ($3 = 'slow'))",
      {prefix + "%", kSlowOrg,
       whose == Whose::All    ? "all"
       : whose == Whose::Slow ? "slow"
                              : "others"});
  for (int i = 0; times && i < times->rows(); ++i) {
    if (!times->isNull(i, 0)) delivered.push_back(std::stod(std::string(times->get(i, 0))));
    if (!times->isNull(i, 1)) closed.push_back(std::stod(std::string(times->get(i, 1))));
  }
}
PerCase perCase(const RunContext& run, const LoadFigures& f) {
  auto& db = run.db;
  const auto& o = run.o;
  PerCase c;
  auto spans = db.exec(
      "SELECT extract(epoch FROM min(c.registered_at)), extract(epoch FROM max(e.at)) FROM cases c JOIN case_event "
      "e ON e.case_id = c.id AND e.event = 'closed' WHERE c.idempotency_key LIKE 'bench-%'");
  c.first = spans && !spans->isNull(0, 0) ? std::stod(std::string(spans->get(0, 0))) : 0;
  c.last = spans && !spans->isNull(0, 1) ? std::stod(std::string(spans->get(0, 1))) : 0;
  // With a slow participant, the latencies are the others' (p3 is an ordinary participant without one).
  const Whose others = o.slow_participant_ms > 0 ? Whose::Others : Whose::All;
  lifecycleTimes(db, "bench-", c.delivered_ms, c.closed_ms, others);
  lifecycleTimes(db, "half-", c.half_delivered_ms, c.half_closed_ms, others);
  if (o.slow_participant_ms > 0) {
    for (const char* prefix : {"bench-", "half-"}) {
      lifecycleTimes(db, prefix, c.slow_delivered_ms, c.slow_closed_ms, Whose::Slow);
    }
  }
  // Both phases do the same work per case: the counts of the whole run over all its cases (less what a
  // preload's template left before it).
  const auto now = messageCounts(db);
  std::array<double, 4> counts{};
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = static_cast<double>(now[i] - f.counted_before[i]);
  c.n = std::max(
      1.0, static_cast<double>(o.cases - f.refused + f.soak_cases - f.soak_refused + f.half_cases - f.half_refused));
  c.out = counts[0] / c.n;
  c.in = counts[1] / c.n;
  c.outbox_rows = counts[2] / c.n;
  c.broker = (static_cast<double>(f.relay_messages) + counts[1]) / c.n;
  c.packages = static_cast<long long>(counts[3]);
  c.transactions = static_cast<double>(f.commits) / c.n;  // the gateway's, and our polling's (few)
  std::vector<std::string> simulators;
  for (int i = 1; i <= o.participants; ++i) simulators.push_back("p" + std::to_string(i));
  if (o.slow_participant_ms > 0) simulators.push_back("p3");  // at most two others beside it
  for (const auto& p : simulators) {
    auto text = crypto::readSettledFile(run.dir + "/sim-" + p + ".json");  // rewritten in place
    if (!text) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(*text, ec);
    if (!ec && v.is_object() && v.as_object().contains("appeals")) {
      c.sim_appeals += v.as_object().at("appeals").as_int64();
    }
  }
  return c;
}

boost::json::array soakJson(const LoadFigures& f) {
  boost::json::array out;
  for (const auto& b : f.soak) {
    out.push_back(boost::json::object{{"cases_per_s", b.cases_per_s},
                                      {"machine_cpu_ms_per_case", b.machine_ms},
                                      {"postgres_cpu_ms_per_case", b.postgres_ms},
                                      {"gateway_cpu_ms_per_case", b.gateway_ms},
                                      {"wal_records_per_case", b.wal_records}});
  }
  return out;
}

// The second phase's latencies and each soak batch's cost (issue 25).
boost::json::object phaseFigures(const RunContext& run, const LoadFigures& f, const PerCase& c) {
  return {
      {"half_rate_cases", f.half_cases},
      {"half_rate_offered_per_s", f.half_offered_per_s},
      {"half_rate_refused", f.half_refused},
      {"half_rate_intake_p50_ms", percentile(f.half_latencies, 0.5)},
      {"half_rate_intake_p99_ms", percentile(f.half_latencies, 0.99)},
      {"half_rate_delivered_p99_ms", percentile(c.half_delivered_ms, 0.99)},
      {"half_rate_closed_p50_ms", percentile(c.half_closed_ms, 0.5)},
      {"half_rate_closed_p99_ms", percentile(c.half_closed_ms, 0.99)},
      {"preloaded_cases", f.preloaded},
      {"warm_up_cases", f.warm_up_cases},
      {"soak_batches", static_cast<long long>(f.soak.size())},
      {"soak_cpu_growth", f.soak.front().machine_ms > 0 ? f.soak.back().machine_ms / f.soak.front().machine_ms : 0},
      {"soak_postgres_cpu_growth",
       f.soak.front().postgres_ms > 0 ? f.soak.back().postgres_ms / f.soak.front().postgres_ms : 0},
      {"soak_wal_growth", f.soak.front().wal_records > 0 ? f.soak.back().wal_records / f.soak.front().wal_records : 0},
      {"soak", soakJson(f)},
      {"slow_participant_ms", run.o.slow_participant_ms},
      {"slow_participant_cases", static_cast<long long>(c.slow_delivered_ms.size())},
      {"slow_participant_delivered_p99_ms", percentile(c.slow_delivered_ms, 0.99)},
      {"slow_participant_closed_p99_ms", percentile(c.slow_closed_ms, 0.99)},
  };
}

}  // namespace

boost::json::object figures(const RunContext& run, const MachineBounds& b, const LoadFigures& f) {
  const auto& o = run.o;
  const PerCase c = perCase(run, f);
  double cases_per_s = c.last > c.first ? static_cast<double>(f.closed) / (c.last - c.first) : 0;
  double seal_bound = 1.0 / (c.out / std::max(b.seal_per_s, 1.0) + c.in / std::max(b.verify_per_s, 1.0));
  double pg_bound = c.transactions > 0 ? b.pg_commits_per_s / c.transactions : 0;
  double mq_bound = c.broker > 0 ? b.mq_messages_per_s / c.broker : 0;
  double lowest = std::min({seal_bound, pg_bound > 0 ? pg_bound : 1e12, mq_bound > 0 ? mq_bound : 1e12});
  // The ceiling of any pipeline doing this run's work per case on this machine, everything sharing its
  // cores: the gateway's seals and verifications and the participants' own (they verify what it sealed
  // and seal what it verifies), the case's commits and broker messages — each at the rate measured
  // with every core, so one after another. Nothing else (HTTP, XML, JSON, the gateway's own logic) is
  // counted: no code reaches it, and an efficiency above ceiling ÷ lowest bound is out of reach.
  const double packages_per_case = c.out + c.in;
  double floor_s = packages_per_case / std::max(b.seal_per_s, 1.0) + packages_per_case / std::max(b.verify_per_s, 1.0) +
                   (b.pg_commits_per_s > 0 ? c.transactions / b.pg_commits_per_s : 0) +
                   (b.mq_messages_per_s > 0 ? c.broker / b.mq_messages_per_s : 0);
  double ceiling = floor_s > 0 ? 1.0 / floor_s : 0;
  // Work per case against the signatures it needs (issue 25): the machine's CPU per case over the CPU of
  // both sides' seals and verifications at this run's measured cost of one; the gateway's CPU per case
  // over its own (it seals what it sends, verifies what it receives; a participant the reverse).
  const double signatures_ms = packages_per_case * (b.seal_cpu_ms + b.verify_cpu_ms);
  const double gateway_signatures_ms = c.out * b.seal_cpu_ms + c.in * b.verify_cpu_ms;
  const double closed = std::max(1.0, static_cast<double>(f.closed));
  const double machine_ms = f.machine_cpu * 1000.0 / closed, gateway_ms = f.gateway_cpu * 1000.0 / closed;
  long long lost = static_cast<long long>(c.n) - f.closed_all;
  auto per1000 = [&](double seconds) { return f.closed > 0 ? seconds * 1000.0 / static_cast<double>(f.closed) : 0; };
  long long duplicated = std::max(0LL, c.packages - static_cast<long long>(c.n)) +
                         std::max(0LL, c.sim_appeals - f.warm_up_cases - f.closed_all);
  boost::json::object out{
      {"cases", o.cases},
      {"refused", f.refused},
      {"broker_nodes", run.broker_nodes},
      {"allocator", allocatorName()},
      {"closed", f.closed},
      {"cases_per_s", cases_per_s},
      {"offered_per_s", o.cases / f.offered_s},
      {"intake_p50_ms", percentile(f.latencies, 0.5)},
      {"intake_p95_ms", percentile(f.latencies, 0.95)},
      {"intake_p99_ms", percentile(f.latencies, 0.99)},
      {"delivered_p50_ms", percentile(c.delivered_ms, 0.5)},
      {"delivered_p99_ms", percentile(c.delivered_ms, 0.99)},
      {"closed_p50_ms", percentile(c.closed_ms, 0.5)},
      {"closed_p99_ms", percentile(c.closed_ms, 0.99)},
      {"cpu_s_per_1000", per1000(f.gateway_cpu)},
      {"postgres_cpu_s_per_1000", per1000(f.pg_cpu)},
      {"rabbitmq_cpu_s_per_1000", per1000(f.mq_cpu)},
      {"simulators_cpu_s_per_1000", per1000(f.sims_cpu)},
      {"load_cpu_s_per_1000", per1000(f.self_cpu)},
      {"machine_cpu_s_per_1000", per1000(f.machine_cpu)},
      {"peak_rss_mib", f.rss},
      {"bound_seal_verify_cases_per_s", seal_bound},
      {"bound_postgres_cases_per_s", pg_bound},
      {"bound_rabbitmq_cases_per_s", mq_bound},
      {"seal_per_s", b.seal_per_s},
      {"verify_per_s", b.verify_per_s},
      {"postgres_commits_per_s", b.pg_commits_per_s},
      {"rabbitmq_messages_per_s", b.mq_messages_per_s},
      {"rabbitmq_confirm_ms", b.mq_confirm_ms},
      {"postgres_commit_ms", b.pg_commit_ms},
      {"transactions_per_case", c.transactions},
      {"wal_records_per_case", static_cast<double>(f.wal.first) / c.n},
      {"wal_kib_per_case", static_cast<double>(f.wal.second) / 1024.0 / c.n},
      {"broker_messages_per_case", c.broker},
      {"pg_round_trips_per_case", static_cast<double>(f.round_trips) / c.n},
      {"outbox_rows_per_case", c.outbox_rows},
      {"packages_sealed_per_case", c.out},
      {"packages_verified_per_case", c.in},
      {"pipeline_efficiency", lowest > 0 ? cases_per_s / lowest : 0},
      {"ceiling_cases_per_s", ceiling},
      {"ceiling_efficiency", lowest > 0 ? ceiling / lowest : 0},
      {"ceiling_ratio", ceiling > 0 ? cases_per_s / ceiling : 0},
      {"seal_cpu_ms", b.seal_cpu_ms},
      {"verify_cpu_ms", b.verify_cpu_ms},
      {"signatures_cpu_ms_per_case", signatures_ms},
      {"overhead_ratio", signatures_ms > 0 ? machine_ms / signatures_ms : 0},
      {"gateway_overhead_ratio", gateway_signatures_ms > 0 ? gateway_ms / gateway_signatures_ms : 0},
      {"lost", lost},
      {"duplicated", duplicated}};
  for (const auto& [k, v] : phaseFigures(run, f, c)) out[k] = v;
  return out;
}

void printFigures(const boost::json::object& r, const std::string& json_path) {
  std::printf("\n%-34s %12s\n", "measure", "value");
  for (const auto& [k, v] : r) {
    if (v.is_array()) {
      int i = 0;
      for (const auto& b : v.as_array()) {
        const auto& o = b.as_object();
        std::printf("%s %d: %.1f cases/s; CPU ms per case: machine %.2f, PostgreSQL %.2f, gateway %.2f; WAL %.0f\n",
                    std::string(k).c_str(), ++i, o.at("cases_per_s").as_double(),
                    o.at("machine_cpu_ms_per_case").as_double(), o.at("postgres_cpu_ms_per_case").as_double(),
                    o.at("gateway_cpu_ms_per_case").as_double(), o.at("wal_records_per_case").as_double());
      }
    } else if (v.is_double()) {
      std::printf("%-34s %12.2f\n", std::string(k).c_str(), v.as_double());
    } else if (v.is_string()) {
      std::printf("%-34s %12s\n", std::string(k).c_str(), std::string(v.as_string()).c_str());
    } else {
      std::printf("%-34s %12lld\n", std::string(k).c_str(), static_cast<long long>(v.as_int64()));
    }
  }
  if (!json_path.empty()) std::ofstream(json_path) << boost::json::serialize(r) << "\n";
}
}  // namespace vkhid::tools::bench
