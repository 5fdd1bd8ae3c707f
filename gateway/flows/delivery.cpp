// Delivery: a queued package goes to its participant through the endpoint's adapter. Claimed first
// (so two workers never send it at once), then the outcome is recorded with its consequences —
// sent, a retry after a tier's delay, or dead with the case marked delivery_failed.
#include <boost/json.hpp>
#include <random>
#include <thread>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/domain/case_status.hpp"
#include "gateway/flows/delivery.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/routing.hpp"

namespace vkhid::flows {
namespace {

// Up to 20% less than the tier's delay, so retries of many messages do not arrive together.
long long jittered(long long ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> d(ms * 8 / 10, ms);
  return d(rng);
}

// How long a worker keeps trying to record a delivery's outcome while the database is away (0.5 s
// apart) before it leaves the claim to the sweeper.
constexpr int kOutcomeTries = 60;

// Each outcome first moves the claim on to `to`: false when it is no longer 'sending' — recorded
// already, by an earlier try whose answer was lost — and then left as it is.
Result<bool> moveClaim(store::PgConnection& db, const std::string& msg_id, const char* to,
                       const store::PgParam& error) {
  auto u = db.exec(
      "UPDATE message SET status = $2, last_error = $3, updated_at = now() WHERE msg_id = vkhid_uuid($1) AND "
      "status = 'sending'",
      {msg_id, std::string(to), error});
  if (!u) return u.error();
  return u->affected() > 0;
}

}  // namespace

Deliverer::InFlight::InFlight(Deliverer& d, std::string msg_id) : d_(d), msg_id_(std::move(msg_id)) {
  std::lock_guard lock(d_.mutex_);
  d_.in_flight_.insert(msg_id_);
}

Deliverer::InFlight::~InFlight() {
  std::lock_guard lock(d_.mutex_);
  d_.in_flight_.erase(d_.in_flight_.find(msg_id_));
}

std::string Deliverer::inFlight() const {
  std::lock_guard lock(mutex_);
  return store::textArrayLiteral({in_flight_.begin(), in_flight_.end()});
}

// Claims a queued package for this process; nullopt once claimed (`c` filled), else what to tell the
// broker. Claimed only while its participant is active: a suspended participant receives nothing, and
// its deliveries wait in its queue (which no consumer takes from while it is suspended). The claim reads
// the participant's active endpoint with it (none: adapter and settings are NULL). The connection goes
// back before the adapter is called: a slow endpoint holds its own delivery thread, never a database
// connection the others need.
std::optional<Disposition> Deliverer::claim(const std::string& msg_id, Claim& c) {
  auto db = context_.pool.acquire();
  if (!db) return Disposition::Requeue;
  auto r = (*db)->exec(
      "UPDATE message m SET status = 'sending', attempts = attempts + 1, claimed_by = $2, updated_at = now() "
      "FROM participant p LEFT JOIN LATERAL (SELECT e.adapter, e.settings::text AS settings FROM endpoint e "
      "WHERE e.org_id = p.org_id AND e.active ORDER BY e.id LIMIT 1) ep ON true "
      "WHERE p.org_id = m.peer_org_id AND p.status = 'active' AND m.msg_id = vkhid_uuid($1) "
      "AND m.direction = 'out' AND m.status IN ('queued', 'waiting_retry') "
      "RETURNING m.bytes, m.peer_org_id, m.attempts, coalesce(m.case_id::text, ''), m.msg_type, ep.adapter, "
      "ep.settings",
      {msg_id, context_.process_id});
  if (!r) return Disposition::Requeue;
  if (r->rows() == 0) {
    // Already sent, being sent by another worker — or held for a participant that is not active.
    auto held = (*db)->exec(
        "SELECT 1 FROM message m JOIN participant p ON p.org_id = m.peer_org_id WHERE m.msg_id = vkhid_uuid($1) AND "
        "m.status IN ('queued', 'waiting_retry') AND p.status <> 'active'",
        {msg_id});
    if (!held) return Disposition::Requeue;
    if (held->rows() == 0) return Disposition::Ack;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return Disposition::Requeue;
  }
  c.msg_id = msg_id;
  c.bytes = fromByteaHex(r->get(0, 0));
  c.org = std::string(r->get(0, 1));
  c.attempts = static_cast<int>(r->getInt(0, 2));
  c.case_id = std::string(r->get(0, 3));
  c.msg_type = static_cast<int>(r->getInt(0, 4));
  if (!r->isNull(0, 5)) {
    c.adapter_name = std::string(r->get(0, 5));
    c.endpoint = endpointFrom(c.org, c.adapter_name, std::string(r->get(0, 6)));
  }
  return std::nullopt;
}

adapters::DeliveryOutcome Deliverer::send(const Claim& c) {
  if (!c.endpoint) return adapters::DeliveryOutcome::failed("no active endpoint for " + c.org);
  if (auto* adapter = context_.adapter(c.adapter_name)) return adapter->deliver(c.bytes, c.msg_id, *c.endpoint);
  return adapters::DeliveryOutcome::failed("unknown adapter " + c.adapter_name);
}

Status Deliverer::recordSent(store::PgConnection& db, const Claim& c) {
  auto moved_on = moveClaim(db, c.msg_id, "sent", std::nullopt);
  if (!moved_on) return moved_on.error();
  if (!*moved_on || c.msg_type != 1 || c.case_id.empty()) return {};
  auto from = store::lockCaseStatus(db, c.case_id);
  if (!from) return from.error();
  if (!*from) return {};
  auto moved =
      store::transitionCase(db, {c.case_id,
                                 **from,
                                 domain::CaseEvent::DeliveredToTransport,
                                 0,
                                 "gateway",
                                 boost::json::serialize(boost::json::object{
                                     {"msg_id", c.msg_id}, {"adapter", c.adapter_name}, {"attempt", c.attempts}}),
                                 {}});
  return moved ? Status() : Status(moved.error());
}

Status Deliverer::recordRetry(store::PgConnection& db, const Claim& c, const adapters::DeliveryOutcome& outcome,
                              const bus::RetryTier& tier) {
  auto moved_on = moveClaim(db, c.msg_id, "waiting_retry", outcome.detail);
  if (!moved_on) return moved_on.error();
  if (!*moved_on) return {};
  boost::json::object headers{{"expiration", std::to_string(jittered(tier.delay_ms))}};
  return enqueueDelivery(db, c.org, c.msg_id, tier.name + "." + c.org, boost::json::serialize(headers));
}

Status Deliverer::recordDead(store::PgConnection& db, const Claim& c, const adapters::DeliveryOutcome& outcome) {
  auto moved_on = moveClaim(db, c.msg_id, "dead", outcome.detail);
  if (!moved_on) return moved_on.error();
  if (!*moved_on) return {};
  if (c.msg_type == 1 && !c.case_id.empty()) {
    auto from = store::lockCaseStatus(db, c.case_id);
    if (!from) return from.error();
    // A case the participant answered (or a person moved) meanwhile stays as it is.
    if (*from && domain::transition(**from, domain::CaseEvent::DeliveryFailed).allowed) {
      auto moved = store::transitionCase(
          db, {c.case_id,
               **from,
               domain::CaseEvent::DeliveryFailed,
               0,
               "gateway",
               boost::json::serialize(boost::json::object{{"msg_id", c.msg_id}, {"attempts", c.attempts}}),
               {}});
      if (!moved) return moved.error();
    }
  }
  boost::json::object dead{
      {"msg_id", c.msg_id}, {"participant", c.org}, {"attempts", c.attempts}, {"reason", outcome.detail}};
  if (auto s = enqueueOutbox(db, bus::names::kDead, "delivery.dead", c.msg_id, boost::json::serialize(dead)); !s) {
    return s;
  }
  return enqueueOutbox(db, bus::names::kAlerts, "delivery.failed", c.msg_id + ":alert", boost::json::serialize(dead));
}

// The package went out (or did not): that must be written down, or the participant gets it twice.
// While the database is away the outcome waits here, with a fresh connection for each try.
Status Deliverer::recordOutcome(const Claim& c, const adapters::DeliveryOutcome& outcome, std::string& result) {
  const auto tiers = bus::retryTiers(context_.retry_delays);
  const bool exhausted = c.attempts > static_cast<int>(tiers.size());
  auto record = [&](store::PgConnection& db) -> Status {
    using Kind = adapters::DeliveryOutcome::Kind;
    if (outcome.kind == Kind::Delivered) {
      result = "delivered";
      return recordSent(db, c);
    }
    if (outcome.kind == Kind::Retry && !exhausted) {
      result = "retry";
      return recordRetry(db, c, outcome, tiers[static_cast<std::size_t>(c.attempts - 1)]);
    }
    result = "dead";
    return recordDead(db, c, outcome);
  };
  Status done;
  for (int tries = 0;; ++tries) {
    if (auto db = context_.pool.acquire()) {
      done = store::inTransaction(**db, [&] { return record(**db); });
    } else {
      done = db.error();
    }
    const bool transient =
        !done && (done.error().kind == ErrorKind::Unavailable || done.error().kind == ErrorKind::Timeout);
    if (!transient || tries == kOutcomeTries || stopping_) break;
    if (tries == 0) {
      log::warn("delivery outcome not recorded yet, will retry",
                {{"msg_id", c.msg_id}, {"error", done.error().message}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return done;
}

Disposition Deliverer::deliver(const std::string& msg_id) {
  // Marked in flight before it is claimed and until its outcome is recorded or given up: the sweeper
  // returns this process's own claims only when no worker here holds them (an outcome the database
  // did not take).
  InFlight in_flight(*this, msg_id);
  Claim c;
  if (auto not_claimed = claim(msg_id, c)) return *not_claimed;
  const auto outcome = send(c);
  std::string result;
  if (auto done = recordOutcome(c, outcome, result); !done) {
    // The claim stays 'sending' and is no longer in flight here: the sweeper returns it to the queue.
    log::warn("delivery outcome not recorded", {{"msg_id", msg_id}, {"error", done.error().message}});
    return Disposition::Ack;
  }
  app::metrics()
      .counter("vkhid_deliveries_total", "Delivery attempts by outcome",
               {{"adapter", c.adapter_name}, {"outcome", result}})
      .inc();
  if (result != "delivered") {
    log::info("delivery not done",
              {{"msg_id", msg_id}, {"outcome", result}, {"attempt", c.attempts}, {"reason", outcome.detail}});
  }
  return Disposition::Ack;
}

}  // namespace vkhid::flows
