// `vkhid bench`'s options, what its load measured, and the report it makes of them: the figures of
// docs/performance.md, as a JSON object and a table.
#pragma once

#include <array>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "gateway/store/pg.hpp"
#include "tools/bench_support.hpp"

namespace vkhid::tools::bench {

struct BenchOptions {
  int cases = 2000, participants = 2, clients = 8;
  int half_rate_cases = -1;  // the second phase's cases, offered at half the first's rate; -1: cases / 2
  int soak = 1;              // batches of `cases` one after another on the same database (issue 25)
  double rate = 0;           // cases per second offered; 0 = as fast as the clients go
  std::string json, root = ".", var = "var";
  int timeout_s = 600;
  long long preload = 0;  // cases of history generated before the run (issue 25: the cost at a year's volume)
  int warm_up = 200;      // cases run through before the measured run, then the statistics taken
  bool cluster = false;   // the three-node broker cluster of `scripts/services start cluster`
  // Issue 25, no head-of-line blocking: one participant more (the PKI's p3) on the http adapter, whose
  // endpoint answers each package this long after it came, taking one case in ten; 0: none.
  int slow_participant_ms = 0;
};

// The slow participant's org_id (p3) and its share of the cases: every tenth.
inline constexpr const char* kSlowOrg = "99999913";
inline constexpr int kSlowEvery = 10;

// What the run measured during the load: intake latencies, and the CPU, commits and WAL of its window.
struct LoadFigures {
  std::vector<double> latencies;  // intake, ms
  int refused = 0;
  // The second phase, at half the saturated rate: its intake latencies, what it offered and refused.
  std::vector<double> half_latencies;
  double half_offered_per_s = 0;
  int half_cases = 0, half_refused = 0;
  long long closed_all = 0;  // every phase
  // Each soak batch's cost per case (the first is the first phase), in order.
  struct Batch {
    double cases_per_s = 0, machine_ms = 0, postgres_ms = 0, gateway_ms = 0, wal_records = 0;
  };
  std::vector<Batch> soak;
  int soak_cases = 0, soak_refused = 0;  // the batches after the first
  double offered_s = 0;
  long long closed = 0;
  double gateway_cpu = 0, pg_cpu = 0, mq_cpu = 0, sims_cpu = 0, self_cpu = 0, machine_cpu = 0, rss = 0;
  long long commits = 0;
  std::pair<long long, long long> wal{0, 0};  // records, bytes
  // --preload: the generated history's cases; the warm-up's cases (with --preload, the history's template),
  // whose appeals reached the simulators before the run; what messageCounts() held before the run.
  long long preloaded = 0, warm_up_cases = 0;
  std::array<long long, 4> counted_before{};
  // The broker messages the gateway's outbox relay published over the run (its metric): a round's delivery
  // jobs for one participant travel as one message, so they are fewer than the outbox rows.
  long long relay_messages = 0;
  // The gateway's exchanges with PostgreSQL over the run (its metric): statements sent alone, and
  // pipelines of queued ones sent together.
  long long round_trips = 0;
};

// Outbound and inbound messages, outbox rows and outbound appeals the database holds now.
std::array<long long, 4> messageCounts(store::PgConnection& db);

// What the report reads besides the figures: the options, the run's database, the folder where the
// simulators wrote their counts, and how many broker nodes it ran on.
struct RunContext {
  const BenchOptions& o;
  store::PgConnection& db;
  std::string dir;
  long long broker_nodes = 1;
};

// Every figure of the run (docs/performance.md), from the machine's bounds, the load's measurements and
// what the gateway recorded and the simulators counted.
boost::json::object figures(const RunContext& run, const MachineBounds& b, const LoadFigures& f);
// The figures as a table on stdout, and as one JSON object at `json_path` (when given).
void printFigures(const boost::json::object& r, const std::string& json_path);

}  // namespace vkhid::tools::bench
