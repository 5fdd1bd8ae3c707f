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
  std::string out = "{";
  std::lock_guard lock(mutex_);
  for (const auto& id : in_flight_) out += (out.size() > 1 ? "," : "") + id;
  return out + "}";
}

Disposition Deliverer::deliver(const std::string& msg_id) {
  auto& ctx = context_;
  // Marked in flight before it is claimed and until its outcome is recorded or given up: the sweeper
  // returns this process's own claims only when no worker here holds them (an outcome the database
  // did not take).
  InFlight in_flight(*this, msg_id);
  std::string bytes, org, case_id, adapter_name = "none";
  int attempts = 0, msg_type = 0;
  adapters::DeliveryOutcome outcome = adapters::DeliveryOutcome::failed("");
  std::optional<adapters::Endpoint> endpoint;
  {
    // The connection goes back before the adapter is called: a slow endpoint holds its own delivery
    // thread, never a database connection the others need.
    auto db = ctx.pool.acquire();
    if (!db) return Disposition::Requeue;
    // Claimed only while its participant is active: a suspended participant receives nothing, and its
    // deliveries wait in its queue (which no consumer takes from while it is suspended). The claim
    // reads the participant's active endpoint with it (none: adapter and settings are NULL).
    auto claim = (*db)->exec(
        "UPDATE message m SET status = 'sending', attempts = attempts + 1, claimed_by = $2, updated_at = now() "
        "FROM participant p LEFT JOIN LATERAL (SELECT e.adapter, e.settings::text AS settings FROM endpoint e "
        "WHERE e.org_id = p.org_id AND e.active ORDER BY e.id LIMIT 1) ep ON true "
        "WHERE p.org_id = m.peer_org_id AND p.status = 'active' AND m.msg_id = vkhid_uuid($1) "
        "AND m.direction = 'out' AND m.status IN ('queued', 'waiting_retry') "
        "RETURNING m.bytes, m.peer_org_id, m.attempts, coalesce(m.case_id::text, ''), m.msg_type, ep.adapter, "
        "ep.settings",
        {msg_id, ctx.process_id});
    if (!claim) return Disposition::Requeue;
    if (claim->rows() == 0) {
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
    bytes = fromByteaHex(claim->get(0, 0));
    org = std::string(claim->get(0, 1));
    attempts = static_cast<int>(claim->getInt(0, 2));
    case_id = std::string(claim->get(0, 3));
    msg_type = static_cast<int>(claim->getInt(0, 4));

    if (!claim->isNull(0, 5)) {
      adapter_name = std::string(claim->get(0, 5));
      endpoint = endpointFrom(org, adapter_name, std::string(claim->get(0, 6)));
    }
  }
  outcome = adapters::DeliveryOutcome::failed("no active endpoint for " + org);
  if (endpoint) {
    if (auto* adapter = ctx.adapter(adapter_name)) {
      outcome = adapter->deliver(bytes, msg_id, *endpoint);
    } else {
      outcome = adapters::DeliveryOutcome::failed("unknown adapter " + adapter_name);
    }
  }

  const auto tiers = bus::retryTiers(ctx.retry_delays);
  bool exhausted = attempts > static_cast<int>(tiers.size());
  std::string result;
  // Each branch first moves the claim on; a claim no longer 'sending' was recorded already.
  auto record = [&](store::PgConnection& db) -> Status {
    using Kind = adapters::DeliveryOutcome::Kind;
    if (outcome.kind == Kind::Delivered) {
      result = "delivered";
      auto u = db.exec(
          "UPDATE message SET status = 'sent', last_error = NULL, updated_at = now() WHERE msg_id = vkhid_uuid($1) AND "
          "status = 'sending'",
          {msg_id});
      if (!u) return u.error();
      if (u->affected() == 0) return {};  // recorded by an earlier try whose answer was lost
      if (msg_type == 1 && !case_id.empty()) {
        auto c = db.exec("SELECT status FROM cases WHERE id = vkhid_uuid($1) FOR UPDATE", {case_id});
        if (!c) return c.error();
        std::string from(c->get(0, 0));
        auto to = domain::afterTransportDelivery(domain::caseStatusFromName(from).value_or(domain::CaseStatus::Routed));
        std::string to_name = domain::caseStatusName(to);
        if (to_name != from) {
          auto s = db.later("UPDATE cases SET status = $2, updated_at = now() WHERE id = vkhid_uuid($1)",
                            {case_id, to_name});
          if (!s) return s;
        }
        return recordEvent(db, case_id, "gateway", "delivered_to_transport", from, to_name,
                           boost::json::serialize(boost::json::object{
                               {"msg_id", msg_id}, {"adapter", adapter_name}, {"attempt", attempts}}));
      }
      return {};
    }
    if (outcome.kind == Kind::Retry && !exhausted) {
      result = "retry";
      const auto& tier = tiers[static_cast<std::size_t>(attempts - 1)];
      auto u = db.exec(
          "UPDATE message SET status = 'waiting_retry', last_error = $2, updated_at = now() WHERE msg_id = "
          "vkhid_uuid($1) "
          "AND status = 'sending'",
          {msg_id, outcome.detail});
      if (!u) return u.error();
      if (u->affected() == 0) return {};  // recorded by an earlier try whose answer was lost
      boost::json::object headers{{"expiration", std::to_string(jittered(tier.delay_ms))}};
      return enqueueDelivery(db, org, msg_id, tier.name + "." + org, boost::json::serialize(headers));
    }
    result = "dead";
    auto u = db.exec(
        "UPDATE message SET status = 'dead', last_error = $2, updated_at = now() WHERE msg_id = vkhid_uuid($1) AND "
        "status = "
        "'sending'",
        {msg_id, outcome.detail});
    if (!u) return u.error();
    if (u->affected() == 0) return {};  // recorded by an earlier try whose answer was lost
    if (msg_type == 1 && !case_id.empty()) {
      auto c = db.exec("SELECT status FROM cases WHERE id = vkhid_uuid($1) FOR UPDATE", {case_id});
      if (!c) return c.error();
      std::string from(c->get(0, 0));
      if (from == "routed" || from == "sent") {
        auto s = db.exec("UPDATE cases SET status = 'delivery_failed', updated_at = now() WHERE id = vkhid_uuid($1)",
                         {case_id});
        if (!s) return s.error();
        if (auto e =
                recordEvent(db, case_id, "gateway", "delivery_failed", from, "delivery_failed",
                            boost::json::serialize(boost::json::object{{"msg_id", msg_id}, {"attempts", attempts}}));
            !e) {
          return e;
        }
      }
    }
    boost::json::object dead{
        {"msg_id", msg_id}, {"participant", org}, {"attempts", attempts}, {"reason", outcome.detail}};
    if (auto s = enqueueOutbox(db, bus::names::kDead, "delivery.dead", msg_id, boost::json::serialize(dead)); !s)
      return s;
    return enqueueOutbox(db, bus::names::kAlerts, "delivery.failed", msg_id + ":alert", boost::json::serialize(dead));
  };
  // The package went out (or did not): that must be written down, or the participant gets it twice.
  // While the database is away the outcome waits here, with a fresh connection for each try.
  Status done;
  for (int tries = 0;; ++tries) {
    if (auto db = ctx.pool.acquire()) {
      done = store::inTransaction(**db, [&] { return record(**db); });
    } else {
      done = db.error();
    }
    const bool transient =
        !done && (done.error().kind == ErrorKind::Unavailable || done.error().kind == ErrorKind::Timeout);
    if (!transient || tries == kOutcomeTries || stopping_) break;
    if (tries == 0) {
      log::warn("delivery outcome not recorded yet, will retry", {{"msg_id", msg_id}, {"error", done.error().message}});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!done) {
    // The claim stays 'sending' and is no longer in flight here: the sweeper returns it to the queue.
    log::warn("delivery outcome not recorded", {{"msg_id", msg_id}, {"error", done.error().message}});
    return Disposition::Ack;
  }
  app::metrics()
      .counter("vkhid_deliveries_total", "Delivery attempts by outcome",
               {{"adapter", adapter_name}, {"outcome", result}})
      .inc();
  if (result != "delivered") {
    log::info("delivery not done",
              {{"msg_id", msg_id}, {"outcome", result}, {"attempt", attempts}, {"reason", outcome.detail}});
  }
  return Disposition::Ack;
}

}  // namespace vkhid::flows
