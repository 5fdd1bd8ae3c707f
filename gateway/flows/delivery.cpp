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
#include "gateway/store/messages.hpp"

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

}  // namespace

DeliveryStep deliveryStep(adapters::DeliveryOutcome::Kind outcome, int attempts, std::size_t tiers) {
  using Kind = adapters::DeliveryOutcome::Kind;
  if (outcome == Kind::Delivered) return {DeliveryStep::Kind::Sent, 0};
  if (outcome == Kind::Retry && attempts >= 1 && static_cast<std::size_t>(attempts) <= tiers) {
    return {DeliveryStep::Kind::Retry, static_cast<std::size_t>(attempts - 1)};
  }
  return {DeliveryStep::Kind::Dead, 0};
}

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
  auto row = store::claimForDelivery(**db, msg_id, context_.process_id);
  if (!row) return Disposition::Requeue;
  if (!*row) {
    // Already sent, being sent by another worker — or held for a participant that is not active.
    auto held = store::heldForInactiveParticipant(**db, msg_id);
    if (!held) return Disposition::Requeue;
    if (!*held) return Disposition::Ack;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return Disposition::Requeue;
  }
  auto& r = **row;
  c.msg_id = msg_id;
  c.bytes = std::move(r.bytes);
  c.org = r.peer_org_id;
  c.attempts = r.attempts;
  c.case_id = r.case_id;
  c.msg_type = r.msg_type;
  if (r.adapter) {
    c.adapter_name = *r.adapter;
    c.endpoint = endpointFrom(c.org, c.adapter_name, r.settings_json);
  }
  return std::nullopt;
}

adapters::DeliveryOutcome Deliverer::send(const Claim& c) {
  if (!c.endpoint) return adapters::DeliveryOutcome::failed("no active endpoint for " + c.org);
  if (auto* adapter = context_.adapter(c.adapter_name)) return adapter->deliver(c.bytes, c.msg_id, *c.endpoint);
  return adapters::DeliveryOutcome::failed("unknown adapter " + c.adapter_name);
}

Status Deliverer::recordSent(store::PgConnection& db, const Claim& c) {
  auto moved_on = store::moveClaim(db, c.msg_id, "sent", std::nullopt);
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
  auto moved_on = store::moveClaim(db, c.msg_id, "waiting_retry", outcome.detail);
  if (!moved_on) return moved_on.error();
  if (!*moved_on) return {};
  boost::json::object headers{{"expiration", std::to_string(jittered(tier.delay_ms))}};
  return enqueueDelivery(db, c.org, c.msg_id, tier.name + "." + c.org, boost::json::serialize(headers));
}

Status Deliverer::recordDead(store::PgConnection& db, const Claim& c, const adapters::DeliveryOutcome& outcome) {
  auto moved_on = store::moveClaim(db, c.msg_id, "dead", outcome.detail);
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
  const auto step = deliveryStep(outcome.kind, c.attempts, tiers.size());
  auto record = [&](store::PgConnection& db) -> Status {
    switch (step.kind) {
      case DeliveryStep::Kind::Sent: result = "delivered"; return recordSent(db, c);
      case DeliveryStep::Kind::Retry: result = "retry"; return recordRetry(db, c, outcome, tiers[step.tier]);
      case DeliveryStep::Kind::Dead: break;
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
