// The running exchange: the outbox relay, the routing and delivery consumers, the inbound adapters,
// the sweeper that returns interrupted deliveries to the queue, and dead-letter replay.
#include "gateway/flows/exchange.hpp"

#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/participants.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>

#include "adapters/amqp/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/ops_gauges.hpp"
#include "gateway/flows/participant_reports.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/flows/retention.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/outbox.hpp"
#include "gateway/store/participants.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

constexpr int kRelayBatch = 200;
// How often an idle relay looks for rows without being signalled: rows another process wrote (the CLI,
// a gateway that died before relaying them) or the broker returned.
constexpr std::chrono::milliseconds kRelayIdlePoll{500};
// The least time between two rounds that are not a full batch's sequel: what a row may wait for the
// rows committed after it.
constexpr std::chrono::milliseconds kRelayRoundSpacing{25};
// Sent outbox rows deleted per statement, and statements per round of the timer loop.
constexpr int kPruneChunk = 5000;
constexpr int kPruneChunks = 10;

std::string jsonField(const std::string& body, const char* key) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  auto* f = v.as_object().if_contains(key);
  return (f && f->is_string()) ? std::string(f->as_string()) : std::string();
}

std::vector<std::string> activeParticipants(store::PgPool& pool) {
  auto db = pool.acquire();
  if (!db) return {};
  auto r = store::participantsNotRetired(**db);
  return r ? std::move(r).value() : std::vector<std::string>{};
}

Status declareParticipants(bus::AmqpConnection& c, const std::vector<std::string>& orgs) {
  for (const auto& org : orgs) {
    if (auto s = bus::declare(c, bus::participantTopology(org)); !s) return s;
  }
  return {};
}

// The delivery jobs a consumer took: a job may name several packages (the relay's round took them
// together). They are claimed, sent and recorded `per_call` at a time — the most a batch held when each
// job named one — so a claim is never held longer than such a batch takes; a job is acknowledged when
// every package it names is done with, else offered again.
std::vector<Disposition> deliverJobs(Deliverer& deliverer, const std::vector<bus::Delivery>& batch,
                                     std::size_t per_call) {
  std::vector<std::string> ids;
  std::vector<std::size_t> ends;
  for (const auto& d : batch) {
    auto named = packagesOfJob(d.body);
    ids.insert(ids.end(), named.begin(), named.end());
    ends.push_back(ids.size());
  }
  std::vector<Disposition> each;
  for (std::size_t at = 0; at < ids.size(); at += per_call) {
    const auto from = ids.begin() + static_cast<std::ptrdiff_t>(at);
    auto part = deliverer.deliverAll({from, from + static_cast<std::ptrdiff_t>(std::min(per_call, ids.size() - at))});
    each.insert(each.end(), part.begin(), part.end());
  }
  std::vector<Disposition> jobs;
  for (std::size_t j = 0, begin = 0; j < ends.size(); begin = ends[j++]) {
    const bool again = std::any_of(each.begin() + static_cast<std::ptrdiff_t>(begin),
                                   each.begin() + static_cast<std::ptrdiff_t>(ends[j]),
                                   [](Disposition d) { return d == Disposition::Requeue; });
    jobs.push_back(again ? Disposition::Requeue : Disposition::Ack);
  }
  return jobs;
}

}  // namespace

Exchange::Exchange(const app::Config& config, store::PgPool& pool, const crypto::Signer& signer,
                   TimestampFetch timestamps)
    : context_(config, pool, signer) {
  context_.audit = std::make_unique<AuditSealer>(config.audit, signer, std::move(timestamps));
}

Result<int> Exchange::relayOnce(bus::AmqpConnection& connection) {
  auto db = context_.pool.acquire();
  if (!db) return db.error();
  int published = 0, messages = 0;
  bool unroutable = false;
  Status done = store::inTransaction(**db, [&]() -> Status {
    // Several gateways relay in turn: each round takes what the one before it left unsent.
    auto rows = store::lockUnsent(**db, kRelayBatch);
    if (!rows) return rows.error();
    if (rows->empty()) return {};
    // A participant's delivery jobs of the round as one message, no more packages in it than a delivery
    // consumer takes at once.
    const auto publications =
        relayPublications(*rows, static_cast<std::size_t>(std::max(1, context_.config.delivery.prefetch)));
    for (const auto& p : publications) {
      bus::PublishProperties props;
      props.message_id = p.message_id;
      props.content_type = "application/json";
      if (p.priority > 0) props.priority = static_cast<std::uint8_t>(p.priority);
      props.expiration = p.expiration;
      auto tag = connection.publish(p.exchange, p.routing_key, p.payload, props);
      if (!tag) return tag.error();
    }
    // Marked sent only once the broker has confirmed them. A row no queue took (a participant added
    // since we declared its queue) stays for the next batch and holds back nothing else.
    auto confirmed = connection.waitForConfirms(std::chrono::milliseconds(context_.config.delivery.publish_timeout_ms));
    if (!confirmed && confirmed.error().code != "amqp.unroutable") return confirmed;
    // What the broker gave back stays for the next round, alone (relayRound).
    const auto returned = connection.takeReturned();
    const auto round = relayRound(*rows, publications, returned);
    for (auto k : round.again) {
      const auto& part = (*rows)[k];
      if (auto s = store::appendOutbox(**db, part.exchange, part.routing_key, part.message_id, part.payload,
                                       part.headers_json, part.priority);
          !s) {
        return s;
      }
    }
    messages = round.messages;
    published = static_cast<int>(round.sent.size());
    // Sent with the COMMIT.
    if (auto u = store::markSent(**db, round.sent); !u) return u;
    if (!returned.empty()) {
      unroutable = true;
      log::warn("outbox relay: rows no queue took, kept for retry", {{"count", static_cast<int>(returned.size())}});
    }
    return {};
  });
  if (!done) return done.error();
  if (published > 0) {
    app::metrics().counter("vkhid_outbox_published_total", "Outbox rows published with confirms").inc(published);
    app::metrics()
        .counter("vkhid_outbox_broker_messages_total", "Broker messages the outbox relay published with confirms")
        .inc(messages);
  }
  if (unroutable) {
    (void)declareParticipants(connection, activeParticipants(context_.pool));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return published;
}

Status Exchange::sweepStuckDeliveries() {
  // Taken before the query: a delivery marked in flight after this claims after it, so its claim is
  // younger than the ten seconds below.
  const std::string in_flight = deliverer_.inFlight();
  auto db = context_.pool.acquire();
  if (!db) return db.error();
  return store::inTransaction(**db, [&]() -> Status {
    // A claim is lost when this process holds it but no worker here carries it out (its outcome could
    // not be recorded), or when its process died. Another process's claim older than any adapter's
    // timeouts is returned in any case.
    auto stuck = store::requeueLostClaims(**db, context_.process_id, in_flight);
    if (!stuck) return stuck.error();
    for (const auto& lost : *stuck) {
      if (auto s = enqueueDelivery(**db, lost.peer_org_id, lost.msg_id); !s) return s;
    }
    if (!stuck->empty()) {
      log::warn("interrupted deliveries queued again", {{"count", static_cast<int>(stuck->size())}});
    }
    return {};
  });
}

Result<long long> Exchange::pruneSentOutbox() {
  // Chunks of a few thousand rows, each its own short transaction, oldest first.
  long long pruned = 0;
  for (int chunk = 0; chunk < kPruneChunks && !stopping_; ++chunk) {
    auto db = context_.pool.acquire();
    if (!db) return db.error();
    auto r = store::pruneSent(**db, context_.config.delivery.outbox_retention_hours, kPruneChunk);
    if (!r) return r.error();
    pruned += *r;
    if (*r < kPruneChunk) break;
  }
  if (pruned > 0) {
    app::metrics()
        .counter("vkhid_outbox_pruned_total", "Sent outbox rows deleted after their retention")
        .inc(static_cast<double>(pruned));
    log::info("outbox: sent rows past their retention deleted", {{"count", pruned}});
  }
  return pruned;
}

void Exchange::relayLoop() {
  std::optional<bus::AmqpConnection> connection;
  std::chrono::milliseconds backoff{250};
  auto next_sweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (!connection || !connection->open()) {
      auto c = bus::AmqpConnection::connect(context_.broker());
      Status ready = c ? bus::declare(*c, bus::gatewayTopology(context_.retry_delays)) : Status(c.error());
      if (ready) ready = declareParticipants(*c, activeParticipants(context_.pool));
      if (!ready) {
        connection.reset();
        std::this_thread::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
        continue;
      }
      connection.emplace(std::move(c).value());
      backoff = std::chrono::milliseconds(250);
    }
    if (std::chrono::steady_clock::now() >= next_sweep) {
      (void)sweepStuckDeliveries();
      next_sweep = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    const std::uint64_t seen = store::outboxSignal().raised();  // rows committed before this are in the round
    const auto round_began = std::chrono::steady_clock::now();
    auto n = relayOnce(*connection);
    if (!n) {
      log::warn("outbox relay: batch not published, will retry", {{"error", n.error().message}});
      connection.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (*n == 0 && !connection->keepAlive()) {
      connection.reset();  // gone while idle: a new one before the next batch, not a failed publish
      continue;
    }
    // A full batch: more wait. Otherwise the next round only once this process has committed rows since
    // this one began (its outbox signal), or at the idle poll for rows other processes left — a round
    // that finds nothing is a transaction for nothing (20 a second per idle gateway, before) — and not
    // sooner than kRelayRoundSpacing after this one, so that the rows of many commits go in one round.
    if (*n == kRelayBatch) continue;
    store::outboxSignal().waitBeyond(seen, kRelayIdlePoll);
    std::this_thread::sleep_until(round_began + kRelayRoundSpacing);
  }
}

// Fires due timers; any number of gateways run this at once (each timer is claimed by one). Between
// firings, the chores: consumers and inbound adapters for participants added or changed (3 s),
// certificate expiry warnings (10 min), gauges (15 s), participants' monthly reports (1 h), and outbox pruning (10 min;
// a backlog — the first start after an upgrade, say — is worked off a round every 5 s, between timers, not all at
// once).
void Exchange::timerLoop() {
  using namespace std::chrono_literals;
  const auto interval = std::chrono::milliseconds(context_.config.deadlines.timer_interval_ms);
  const auto now = Chores::Clock::now();
  auto& chores = timers_.chores();
  chores.every("participants", 3s, now + 3s, [this]() -> std::optional<Chores::Clock::duration> {
    refreshDeliveryConsumers();
    refreshInbound();
    return std::nullopt;
  });
  chores.every("certificates", 10min, now, [this]() -> std::optional<Chores::Clock::duration> {
    if (auto db = context_.pool.acquire()) (void)warnExpiringCertificates(**db);
    return std::nullopt;
  });
  chores.every("gauges", 15s, now, [this]() -> std::optional<Chores::Clock::duration> {
    if (auto db = context_.pool.acquire()) (void)refreshCaseGauges(**db);
    if (auto s = refreshOperationsGauges(context_); !s) {
      log::warn("operations gauges not refreshed now", {{"error", s.error().message}});
    }
    return std::nullopt;
  });
  // Each participant's report of last month, once a month (checked hourly; built once, whoever comes
  // first). One report a round, the next 1 s on: a month's reports for many bodies never hold up the
  // deadline timers this thread fires.
  chores.every("participant_reports", 1h, now + 5s, [this]() -> std::optional<Chores::Clock::duration> {
    ReportOptions defaults;
    if (auto s = applyReportSettings(context_.config.reports, defaults); !s) {
      log::warn("monthly participant reports: the report settings cannot be read", {{"error", s.error().message}});
      return std::nullopt;
    }
    auto db = context_.pool.acquire();
    if (!db) return std::nullopt;
    auto due = issueMonthlyReports(**db, defaults, 1);
    if (!due) log::warn("monthly participant reports not built now", {{"error", due.error().message}});
    if (due && *due > 1) return 1s;
    return std::nullopt;
  });
  // Personal data past its retention period (docs/privacy.md): erased once a day, the first time soon
  // after start.
  if (const int minutes = context_.config.retention.interval_minutes; minutes > 0) {
    chores.every("retention", std::chrono::minutes(minutes), now + 10s,
                 [this]() -> std::optional<Chores::Clock::duration> {
                   auto db = context_.pool.acquire();
                   if (!db) return std::nullopt;
                   auto run = runRetention(**db, context_.config.retention, false);
                   if (!run) {
                     log::warn("retention: not run now", {{"error", run.error().message}});
                   } else if (run->cases > 0 || run->failed > 0) {
                     log::info("retention: personal data erased",
                               {{"cases", run->cases}, {"packages", run->packages}, {"failed", run->failed}});
                   }
                   return std::nullopt;
                 });
  }
  chores.every("outbox", 10min, now, [this]() -> std::optional<Chores::Clock::duration> {
    auto p = pruneSentOutbox();
    if (!p) log::warn("outbox: sent rows not pruned now", {{"error", p.error().message}});
    if (p && *p >= kPruneChunk * kPruneChunks) return 5s;
    return std::nullopt;
  });
  while (!stopping_) {
    chores.runDue(Chores::Clock::now());
    if (timers_.fireDue() > 0) continue;  // more may be due
    for (auto waited = 0ms; waited < interval && !stopping_; waited += 50ms) std::this_thread::sleep_for(50ms);
  }
}

// Chains, seals and time-stamps the evidence log; one gateway at a time does the chaining.
void Exchange::auditLoop() {
  bool had_connection = true;
  while (!stopping_) {
    auto db = context_.pool.acquire();
    if (db) {
      if (auto s = context_.audit->runOnce(**db); !s) {
        log::warn("audit: evidence not sealed now, will retry", {{"error", s.error().message}});
      }
    } else if (had_connection) {  // said when it starts, not every round
      log::warn("audit: no database connection for the sealer, will retry", {{"error", db.error().message}});
    }
    had_connection = static_cast<bool>(db);
    for (int i = 0; i < 4 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Exchange::start() {
  if (started_) return;
  started_ = true;
  stopping_ = false;
  relay_ = std::thread([this] { relayLoop(); });
  timer_thread_ = std::thread([this] { timerLoop(); });
  audit_ = std::thread([this] { auditLoop(); });

  auto broker = context_.broker();
  auto setup = [this](bus::AmqpConnection& c) -> Status {
    if (auto s = bus::declare(c, bus::gatewayTopology(context_.retry_delays)); !s) return s;
    return declareParticipants(c, activeParticipants(context_.pool));
  };
  const auto prefetch = static_cast<std::uint16_t>(context_.config.delivery.prefetch);
  for (int i = 0; i < context_.config.gateway.workers; ++i) {
    consumers_.push_back(std::make_unique<QueueConsumer>(
        "routing", broker, setup, [] { return std::vector<std::string>{bus::names::kRoutingQueue}; },
        [this](const bus::Delivery& d) { return route(jsonField(d.body, "case_id")); }, prefetch));
  }
  for (auto& c : consumers_) c->start();

  refreshDeliveryConsumers();
  refreshInbound();
}

// Each participant's delivery queue has consumers of its own (delivery.workers_per_participant): a
// participant whose endpoint is slow or silent holds its own threads up to the adapter's timeout, never
// another's deliveries (head-of-line blocking across participants). One on amqp alone has
// delivery.amqp_workers_per_participant (1): its batch is one publish with one wait for confirms, and two
// consumers would split each batch in two (issue 25). Re-run by the timer loop, so a participant added,
// retired or moved to another adapter while the gateway runs has its consumers within seconds.
void Exchange::refreshDeliveryConsumers() {
  std::lock_guard lock(delivery_mutex_);
  if (stopping_) return;
  auto participants = [this] {
    auto db = context_.pool.acquire();
    if (!db) return std::vector<std::pair<std::string, bool>>{};
    auto r = store::participantsNotRetiredOnlyOn(**db, adapters::amqp::kName);
    return r ? std::move(r).value() : std::vector<std::pair<std::string, bool>>{};
  };
  auto orgs = participants();
  if (orgs.empty() && !delivery_consumers_.empty()) {
    // Either none is left, or the database did not answer: asked again, so a blip stops nobody.
    orgs = participants();
  }
  const auto& delivery = context_.config.delivery;
  std::map<std::string, int> wanted;
  for (const auto& [org, amqp] : orgs) {
    wanted[org] = amqp ? delivery.amqp_workers_per_participant : delivery.workers_per_participant;
  }
  for (auto it = delivery_consumers_.begin(); it != delivery_consumers_.end();) {
    auto want = wanted.find(it->first);
    if (want != wanted.end() && static_cast<int>(it->second.size()) == want->second) {
      ++it;
      continue;
    }
    // Retired, or moved to an adapter that wants another number of consumers: each stops after the batch it
    // holds (its unacknowledged deliveries go back to the queue for the new ones).
    for (auto& c : it->second) c->stop();
    it = delivery_consumers_.erase(it);
  }
  const auto prefetch = static_cast<std::uint16_t>(delivery.prefetch);
  for (const auto& [org, workers] : wanted) {
    if (delivery_consumers_.count(org)) continue;
    auto setup = [this, org](bus::AmqpConnection& c) -> Status {
      if (auto s = bus::declare(c, bus::gatewayTopology(context_.retry_delays)); !s) return s;
      return bus::declare(c, bus::participantTopology(org));
    };
    auto& set = delivery_consumers_[org];
    for (int i = 0; i < workers; ++i) {
      set.push_back(std::make_unique<QueueConsumer>(
          "delivery:" + org, context_.broker(), setup,
          [org] { return std::vector<std::string>{bus::deliveryQueueName(org)}; },
          [this, prefetch](const std::vector<bus::Delivery>& batch) {
            return deliverJobs(deliverer_, batch, std::max<std::size_t>(1, prefetch));
          },
          prefetch, prefetch, std::chrono::hours(24)));
      set.back()->start();
    }
  }
}

// Inbound: every adapter that has endpoints takes packages for them. Re-run by the timer loop, so a
// participant added or changed while the gateway runs is heard within seconds.
void Exchange::refreshInbound() {
  std::lock_guard lock(inbound_mutex_);
  if (stopping_) return;  // stop() has stopped the adapters, or is about to: none started after it
  // The connection goes back before the adapters stop (their consumers may be waiting for one).
  auto r = [this]() -> Result<std::vector<store::EndpointOfRow>> {
    auto db = context_.pool.acquire();
    if (!db) {
      log::warn("inbound adapters not (re)started: database unreachable");
      return db.error();
    }
    return store::activeEndpointsOfAll(**db);
  }();
  if (!r) return;
  std::string signature;
  std::map<std::string, std::vector<adapters::Endpoint>> by_adapter;
  for (const auto& row : *r) {
    signature += row.org_id + "|" + row.adapter + "|" + row.settings + "\n";
    auto e = endpointFrom(row.org_id, row.adapter, row.settings);
    by_adapter[e.adapter].push_back(std::move(e));
  }
  if (inbound_started_ && signature == inbound_signature_) return;
  if (inbound_started_) {
    log::info("participants' endpoints changed: inbound adapters restart");
    context_.stopAdapters();
  }
  for (auto& [name, endpoints] : by_adapter) {
    if (auto* a = context_.adapter(name)) {
      (void)a->startInbound(
          endpoints, [this](const adapters::InboundPackage& p) { return receive(p); },
          [this](const std::vector<adapters::InboundPackage>& ps) { return inbound_.receiveAll(ps); });
    }
  }
  inbound_signature_ = signature;
  inbound_started_ = true;
}

void Exchange::stop() {
  if (!started_) return;
  stopping_ = true;
  store::outboxSignal().notify();  // the relay, if waiting, sees stopping_ at once
  for (auto& c : consumers_) c->stop();
  consumers_.clear();
  {
    std::lock_guard lock(delivery_mutex_);
    for (auto& [org, set] : delivery_consumers_) {
      for (auto& c : set) c->stop();
    }
    delivery_consumers_.clear();
  }
  {
    std::lock_guard lock(inbound_mutex_);  // after a refresh under way, before any later one
    context_.stopAdapters();
  }
  if (relay_.joinable()) relay_.join();
  if (timer_thread_.joinable()) timer_thread_.join();
  if (audit_.joinable()) audit_.join();
  started_ = false;
}

}  // namespace vkhid::flows
