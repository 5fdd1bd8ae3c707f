// The exchange core (DESIGN §2, §7): intake -> register -> route -> signed package -> delivery ->
// receipts -> answer. Every state change and the event it announces commit together (outbox); every
// consumer is idempotent by id, so a crash at any line leaves a state the restart completes.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/flows/deadlines.hpp"
#include "gateway/flows/queue_consumer.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

// What every flow needs. Owned by Exchange; shared read-only with the flows' threads.
class ExchangeContext {
 public:
  ExchangeContext(const app::Config& config, store::PgPool& pool, const crypto::Signer& signer);

  const app::Config& config;
  store::PgPool& pool;
  const crypto::Signer& signer;
  sev::EnvelopeParty ucc;               // who we are in every envelope
  std::string process_id;               // "<instance>:<pid>": who holds a delivery claim
  std::vector<long long> retry_delays;  // ms
  LegalClock legal;                     // the calendar and deadline rules
  std::unique_ptr<AuditSealer> audit;   // chains, seals and time-stamps the evidence log

  bus::AmqpSettings broker() const;
  // Where read-only work goes (reports, tracking, evidence export): the replica's pool when
  // database.read_url names one, else the primary's. A replica may lag the primary a little.
  store::PgPool& readPool() { return read_pool_ ? *read_pool_ : pool; }
  void useReadPool(store::PgPool& replica) { read_pool_ = &replica; }
  // The URL read-only connections of their own use (an evidence export).
  const std::string& readUrl() const {
    return config.database.read_url.empty() ? config.database.url : config.database.read_url;
  }
  adapters::AdapterContext adapterContext() const;
  // The adapter instance for a name (made once, shared); nullptr for an unknown name.
  adapters::Adapter* adapter(const std::string& name);
  // Stops the inbound threads of every adapter made so far, and waits for them. Not under the lock of
  // adapter() and trustFor(): those threads call them while they handle a package.
  void stopAdapters();
  // The trust store for a participant: its CA certificates (PEM) and the qualified providers' list it
  // pinned at onboarding (`pinned_list`, as published), or else the global trust.qualified_lists; the
  // CRLs of trust.crl_files. Built once and shared; thread-safe.
  std::shared_ptr<const crypto::TrustStore> trustFor(const std::string& pem, const std::string& pinned_list = {});
  // The global trust lists and CRLs as read at start; an error names the file that could not be read.
  const Status& trustSettingsStatus() const { return trust_status_; }

 private:
  store::PgPool* read_pool_ = nullptr;
  adapters::AdapterRegistry registry_;
  std::mutex mutex_;                                                        // adapters_, trust_
  std::mutex stop_mutex_;                                                   // one stopAdapters() at a time
  std::map<std::string, std::unique_ptr<adapters::Adapter>> adapters_;      // only ever added to
  std::map<std::string, std::shared_ptr<const crypto::TrustStore>> trust_;  // by PEM text and pinned list
  std::vector<std::string> crls_;                                           // trust.crl_files, read once
  crypto::TrustStore qualified_;                                            // trust.qualified_lists, read once
  Status trust_status_;
};

// ---- intake ----

struct IntakeReply {
  int status = 201;      // 201 created, 200 repeat of an earlier request, 409, 422, 503
  std::string body;      // JSON (problem+json when status >= 400)
  std::string location;  // /api/v1/cases/<id> on success
  bool problem = false;
};

// Who an API request comes from.
struct ClientIdentity {
  std::string id, role;  // role: channel, participant, admin, auditor
  bool restricted_access = false;
};

struct Registration {
  std::string case_id, ucc_number, tracking_code;
  std::string registered_on;  // YYYY-MM-DD, Kyiv
};

// Registers a case inside the caller's transaction: the next UCC number of the Kyiv year, a tracking
// code, the case row with its body (the intake JSON), the `registered` event by `actor`, its answer
// deadline and timers, the applicant's `registered` notification and the event that sends it to
// routing. After the commit the caller counts it with countRegistered.
Result<Registration> registerCase(store::PgConnection& db, const LegalClock& clock, const domain::Case& c,
                                  const std::string& body_json, const std::string& client_id,
                                  const std::string& idempotency_key, const std::string& request_sha256,
                                  const std::string& actor);

void countRegistered(const domain::Case& c);

class Intake {
 public:
  explicit Intake(ExchangeContext& context) : context_(context) {}

  // Registers a case from its JSON, once per (client, idempotency key): the same key and body
  // return the first answer; the same key with another body is refused (409).
  IntakeReply submit(const std::string& client_id, const std::string& idempotency_key, const std::string& body);
  // The case's status and history (ids, codes, times; the channel client's own cases only).
  IntakeReply status(const std::string& client_id, const std::string& case_id);
  // The participant's answer: the reply package, its attachments and their signature verdicts.
  IntakeReply answer(const std::string& client_id, const std::string& case_id);
  // The applicant's view by tracking code: status, dates, current participant, deadline, whether an
  // answer is available — never names or text (404 for an unknown code).
  IntakeReply track(const std::string& tracking_code);
  // Resolves a bearer token, or else a verified client certificate (SHA-256 of its DER, hex), to its
  // client: nullopt when unknown, revoked or expired; an error when the database cannot say now (a
  // caller answers 503, never 401: a client told 401 stops retrying and pages a person).
  Result<std::optional<ClientIdentity>> identify(const std::string& token, const std::string& cert_sha256 = {});

 private:
  ExchangeContext& context_;
};

// Issues a token for a channel client (`vkhid token issue`): returns the token, stores its SHA-256; it
// expires after `valid_days` (0: never).
Result<std::string> issueToken(store::PgConnection& db, const std::string& client_id, const std::string& role,
                               int valid_days = 365);
// `vkhid token revoke`: the client's token and certificate stop working at once (sessions too).
Status revokeClient(store::PgConnection& db, const std::string& client_id);
// Binds a client certificate (PEM) to a client (`vkhid token bind-cert`); returns its SHA-256 fingerprint.
Result<std::string> bindClientCertificate(store::PgConnection& db, const std::string& client_id,
                                          const std::string& role, const std::string& cert_pem);

// ---- the running exchange: relay, routing, delivery, inbound ----

class Exchange {
 public:
  // `timestamps` fetches RFC 3161 answers for the evidence batches (none: batches are not stamped).
  Exchange(const app::Config& config, store::PgPool& pool, const crypto::Signer& signer,
           TimestampFetch timestamps = {});
  ~Exchange() { stop(); }

  void start();
  void stop();
  ExchangeContext& context() { return context_; }

  // Flows, public so tests and the CLI can drive them one step at a time.
  Disposition route(const std::string& case_id);
  Disposition deliver(const std::string& msg_id);
  Status receive(const adapters::InboundPackage& package);
  // Publishes one batch of the outbox; returns how many rows were published.
  Result<int> relayOnce(bus::AmqpConnection& connection);
  // Deletes outbox rows sent longer ago than delivery.outbox_retention_hours, up to a round's worth;
  // returns how many.
  Result<long long> pruneSentOutbox();

 private:
  void relayLoop();
  void timerLoop();
  void auditLoop();
  void refreshInbound();
  void refreshDeliveryConsumers();
  Status sweepStuckDeliveries();

  // Marks a delivery as being carried out by this process for as long as it lives.
  class InFlight {
   public:
    InFlight(Exchange& x, std::string msg_id);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Exchange& x_;
    std::string msg_id_;
  };

  ExchangeContext context_;
  std::mutex in_flight_mutex_;
  std::multiset<std::string> in_flight_;                   // msg_ids this process's delivery workers hold now
  std::vector<std::unique_ptr<QueueConsumer>> consumers_;  // routing
  std::mutex delivery_mutex_;
  std::map<std::string, std::vector<std::unique_ptr<QueueConsumer>>> delivery_consumers_;  // by participant
  std::atomic<bool> stopping_{false};
  std::thread relay_;
  std::thread timers_;
  std::thread audit_;
  std::mutex inbound_mutex_;
  std::string inbound_signature_;  // the endpoints the inbound adapters were started with
  bool inbound_started_ = false;
  bool started_ = false;
};

// Where routing sends a case: the first matching rule (lowest priority) to an active or suspended
// participant that takes the kind, else the addressee when it is such a participant; never one in
// `declined_by` ("{…}" text array). An empty target means the UCC review queue.
struct RouteChoice {
  std::string target;
  long long rule_id = 0;
  std::string reason;
};
Result<RouteChoice> chooseRoute(store::PgConnection& db, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::string& declined_by = "{}",
                                bool forwarded = false);
// `vkhid route dry-run`: where a case (intake JSON) would go, and why (JSON).
Result<std::string> routeDryRun(store::PgConnection& db, const std::string& case_json);
// `vkhid route add` and its API twin: a rule made by an administrator; returns its id. Empty kind,
// topic or addressee match anything.
Result<long long> addRoute(store::PgConnection& db, const std::string& target, const std::string& kind,
                           const std::string& topic, const std::string& addressee, long long priority);
// `vkhid route list`: every rule (JSON array).
Result<std::string> listRoutes(store::PgConnection& db);

// Replaces the rules loaded from a routing rules file (routing.rules_file) with that file's [[route]]
// tables; rules whose target is not a registered participant are skipped with a warning. Returns how
// many were loaded; a malformed file is refused naming the rule and key.
Result<int> loadRoutingRules(store::PgConnection& db, const std::string& path);

// `vkhid message replay ID`: a dead delivery goes out again (and leaves the dead-letter queue).
Status replayMessage(ExchangeContext& context, const std::string& msg_id, const std::string& actor);
// A person acts on a case its participant rejected (or that could not be delivered): optionally with
// a corrected classification topic, the case goes to routing again and a new signed package (a new
// msg_id) is made and delivered. `reason` is recorded on the `resent` event.
Status resendCase(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  const std::string& reason, const std::string& topic = "");
// A person sends a rejected or undelivered case — or one waiting in the review queue (no rule placed
// it) — to participant `to`: routing takes that choice before any rule. Recorded as `rerouted`.
Status rerouteCase(store::PgConnection& db, const std::string& case_id, const std::string& actor, const std::string& to,
                   const std::string& reason);
// Marks a case for a person's review (any status), with a note; recorded as `review_requested`.
Status markForReview(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                     const std::string& note);

}  // namespace vkhid::flows
