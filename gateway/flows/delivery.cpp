// Delivery: a queued package goes to its participant through the endpoint's adapter. Claimed first
// (so two workers never send it at once), then the outcome is recorded with its consequences —
// sent, a retry after a tier's delay, or dead with the case marked delivery_failed.
#include <algorithm>
#include <boost/json.hpp>
#include <deque>
#include <functional>
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

// Claims queued packages for this process, in one statement; fills `claims` in the order of `msg_ids`
// and sets what to tell the broker of each one not claimed. Claimed only while its participant is active:
// a suspended participant receives nothing, and its deliveries wait in its queue (which no consumer
// takes from while it is suspended). The claim reads the participant's active endpoint with it (none:
// adapter and settings are NULL). The connection goes back before the adapter is called: a slow
// endpoint holds its own delivery thread, never a database connection the others need.
void Deliverer::claimAll(const std::vector<std::string>& msg_ids, std::vector<Claim>& claims,
                         std::vector<Disposition>& dispositions) {
  auto db = context_.pool.acquire();
  auto rows = db ? store::claimAllForDelivery(**db, msg_ids, context_.process_id)
                 : Result<std::vector<store::DeliveryClaimRow>>(db.error());
  if (!rows) {
    std::fill(dispositions.begin(), dispositions.end(), Disposition::Requeue);
    return;
  }
  bool held_any = false;
  for (std::size_t i = 0; i < msg_ids.size(); ++i) {
    auto r = std::find_if(rows->begin(), rows->end(), [&](const auto& row) { return row.msg_id == msg_ids[i]; });
    if (r == rows->end()) {
      // Already sent, or being sent by another worker: its job is done. Still waiting (held for a participant
      // that is not active, or one activated since the claim read it): its job comes again, never dropped.
      auto left = store::unclaimedPackage(**db, msg_ids[i]);
      if (!left || left->waits) dispositions[i] = Disposition::Requeue;
      held_any = held_any || (left && left->participant_inactive);
      continue;
    }
    Claim c;
    c.msg_id = msg_ids[i];
    c.bytes = std::move(r->bytes);
    c.org = r->peer_org_id;
    c.attempts = r->attempts;
    c.case_id = r->case_id;
    c.msg_type = r->msg_type;
    if (r->adapter) {
      c.adapter_name = *r->adapter;
      c.endpoint = endpointFrom(c.org, c.adapter_name, r->settings_json);
    }
    claims.push_back(std::move(c));
    // Claimed once: the same job twice in one batch (the relay publishes at least once) is sent once.
    rows->erase(r);
  }
  if (held_any) std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

// Each run of claims to the same endpoint goes to its adapter together (amqp: one wait for the broker's
// confirms), in order.
std::vector<adapters::DeliveryOutcome> Deliverer::sendAll(const std::vector<Claim>& claims) {
  std::vector<adapters::DeliveryOutcome> out;
  for (std::size_t i = 0; i < claims.size();) {
    const Claim& first = claims[i];
    std::size_t end = i + 1;
    while (end < claims.size() && claims[end].org == first.org && claims[end].adapter_name == first.adapter_name) ++end;
    auto* adapter = first.endpoint ? context_.adapter(first.adapter_name) : nullptr;
    if (!adapter) {
      const std::string why =
          first.endpoint ? "unknown adapter " + first.adapter_name : "no active endpoint for " + first.org;
      out.insert(out.end(), end - i, adapters::DeliveryOutcome::failed(why));
    } else {
      std::vector<adapters::OutboundPackage> packages;
      for (std::size_t k = i; k < end; ++k) packages.push_back({claims[k].bytes, claims[k].msg_id});
      auto outcomes = adapter->deliverAll(packages, *first.endpoint);
      out.insert(out.end(), outcomes.begin(), outcomes.end());
    }
    i = end;
  }
  return out;
}

Status Deliverer::recordSent(store::PgConnection& db, const Claim& c, bool moved_on,
                             std::map<std::string, std::string, std::less<>>* locked) {
  if (!moved_on || c.msg_type != 1 || c.case_id.empty()) return {};
  // Its status as locked with the batch's claims, once: a second package of the case in the batch reads
  // what the first changed.
  std::optional<domain::CaseStatus> known;
  if (locked) {
    if (auto it = locked->find(c.case_id); it != locked->end()) {
      known = domain::caseStatusFromName(it->second);  // unknown: read again, for its error
      locked->erase(it);
    }
  }
  if (!known) {
    auto from = store::lockCaseStatus(db, c.case_id);
    if (!from) return from.error();
    if (!*from) return {};
    known = **from;
  }
  auto moved =
      store::transitionCase(db, {c.case_id,
                                 *known,
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

// The packages went out (or did not): that must be written down, or the participant gets them twice.
// One transaction for the batch; while the database is away the outcomes wait here, with a fresh
// connection for each try. One the database refuses for itself is written on its own, so it holds back
// none of the others.
Status Deliverer::recordOutcomes(const std::vector<Claim>& claims,
                                 const std::vector<adapters::DeliveryOutcome>& outcomes,
                                 std::vector<std::string>& results) {
  const auto tiers = bus::retryTiers(context_.retry_delays);
  std::vector<DeliveryStep> steps;  // what each outcome comes to
  std::vector<std::string> sent;    // the claims that went out
  for (std::size_t i = 0; i < claims.size(); ++i) {
    steps.push_back(deliveryStep(outcomes[i].kind, claims[i].attempts, tiers.size()));
    if (steps.back().kind == DeliveryStep::Kind::Sent) sent.push_back(claims[i].msg_id);
  }
  // The claims that went out, moved on to `sent` in one statement when the batch is recorded together
  // (null: each on its own, as it is recorded).
  store::MovedClaims* sent_moved = nullptr;
  auto record = [&](store::PgConnection& db, std::size_t i) -> Status {
    const auto& step = steps[i];
    switch (step.kind) {
      case DeliveryStep::Kind::Sent: {
        results[i] = "delivered";
        if (sent_moved) {
          return recordSent(db, claims[i], sent_moved->moved.contains(claims[i].msg_id), &sent_moved->case_status);
        }
        auto moved_on = store::moveClaim(db, claims[i].msg_id, "sent", std::nullopt);
        if (!moved_on) return moved_on.error();
        return recordSent(db, claims[i], *moved_on, nullptr);
      }
      case DeliveryStep::Kind::Retry:
        results[i] = "retry";
        return recordRetry(db, claims[i], outcomes[i], tiers[step.tier]);
      case DeliveryStep::Kind::Dead: break;
    }
    results[i] = "dead";
    return recordDead(db, claims[i], outcomes[i]);
  };
  auto recordWithRetries = [&](const std::function<Status(store::PgConnection&)>& body) {
    Status done;
    for (int tries = 0;; ++tries) {
      if (auto db = context_.pool.acquire()) {
        done = store::inTransaction(**db, [&] { return body(**db); });
      } else {
        done = db.error();
      }
      const bool transient =
          !done && (done.error().kind == ErrorKind::Unavailable || done.error().kind == ErrorKind::Timeout);
      if (!transient || tries == kOutcomeTries || stopping_) break;
      if (tries == 0) log::warn("delivery outcomes not recorded yet, will retry", {{"error", done.error().message}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return done;
  };
  // When a package last reached each participant (the gauge's, migration 0039): written once a
  // transaction for each participant it delivered to. An outcome recorded already by an earlier try whose
  // answer was lost notes it again, seconds later than it was.
  auto noteDelivered = [&](store::PgConnection& db, std::size_t from, std::size_t to) -> Status {
    std::vector<std::string> orgs;
    for (std::size_t i = from; i < to; ++i) {
      if (results[i] == "delivered" && std::find(orgs.begin(), orgs.end(), claims[i].org) == orgs.end()) {
        orgs.push_back(claims[i].org);
      }
    }
    for (const auto& org : orgs) {
      if (auto s = store::noteDelivered(db, org); !s) return s;
    }
    return {};
  };
  Status done = recordWithRetries([&](store::PgConnection& db) -> Status {
    auto moved = store::moveClaims(db, sent, "sent");
    if (!moved) return moved.error();
    sent_moved = &*moved;
    Status all;
    for (std::size_t i = 0; i < claims.size() && all; ++i) all = record(db, i);
    if (all) all = noteDelivered(db, 0, claims.size());
    sent_moved = nullptr;
    return all;
  });
  if (done) return done;
  if (claims.size() == 1 || done.error().kind == ErrorKind::Unavailable || done.error().kind == ErrorKind::Timeout) {
    for (auto& r : results) r.clear();  // rolled back: none recorded
    return done;
  }
  Status first_failure;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    auto one = recordWithRetries([&](store::PgConnection& db) -> Status {
      if (auto s = record(db, i); !s) return s;
      return noteDelivered(db, i, i + 1);
    });
    if (!one) {
      log::warn("delivery outcome not recorded", {{"msg_id", claims[i].msg_id}, {"error", one.error().message}});
      results[i].clear();
      if (first_failure) first_failure = one;
    }
  }
  return first_failure;
}

std::vector<Disposition> Deliverer::deliverAll(const std::vector<std::string>& msg_ids) {
  // Marked in flight before they are claimed and until their outcomes are recorded or given up: the
  // sweeper returns this process's own claims only when no worker here holds them (an outcome the
  // database did not take).
  std::deque<InFlight> in_flight;
  for (const auto& id : msg_ids) in_flight.emplace_back(*this, id);
  std::vector<Disposition> dispositions(msg_ids.size(), Disposition::Ack);
  std::vector<Claim> claims;
  claimAll(msg_ids, claims, dispositions);
  if (claims.empty()) return dispositions;
  const auto outcomes = sendAll(claims);
  std::vector<std::string> results(claims.size());
  if (auto done = recordOutcomes(claims, outcomes, results); !done) {
    // A claim whose outcome is not recorded stays 'sending' and is no longer in flight here: the sweeper
    // returns it to the queue. Acknowledged all the same: the claim, not the broker, keeps it.
    log::warn("delivery outcomes not recorded",
              {{"count", static_cast<int>(claims.size())}, {"error", done.error().message}});
  }
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (results[i].empty()) continue;
    app::metrics()
        .counter("vkhid_deliveries_total", "Delivery attempts by outcome",
                 {{"adapter", claims[i].adapter_name}, {"outcome", results[i]}})
        .inc();
    if (results[i] != "delivered") {
      log::info("delivery not done", {{"msg_id", claims[i].msg_id},
                                      {"outcome", results[i]},
                                      {"attempt", claims[i].attempts},
                                      {"reason", outcomes[i].detail}});
    }
  }
  return dispositions;
}

}  // namespace vkhid::flows
