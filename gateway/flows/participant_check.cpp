// A participant's connectivity check (`vkhid participant check`, the admin API's check): DNS and TCP to
// its endpoint, its certificates, and a signed test package through its adapter — each step timed, with
// the reason when it fails.
#include <boost/json.hpp>
#include <thread>

#include "adapters/probe/tcp_probe.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/flows/participants_internal.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/participant_registry.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace participant_detail;

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

std::string CheckReport::json() const {
  json::array steps_json;
  for (const auto& s : steps) {
    steps_json.push_back(json::object{{"step", s.name}, {"result", s.result}, {"detail", s.detail}, {"ms", s.ms}});
  }
  return json::serialize(json::object{{"passed", passed}, {"steps", std::move(steps_json)}});
}

std::string CheckReport::text() const {
  std::string out;
  int width = 10;
  for (const auto& s : steps) width = std::max(width, static_cast<int>(s.name.size()));
  char line[1024];
  for (const auto& s : steps) {
    std::snprintf(line, sizeof line, "  %-*s %-8s %6lld ms  %s\n", width, s.name.c_str(), s.result.c_str(), s.ms,
                  s.detail.c_str());
    out += line;
  }
  out += passed ? passed_text + "\n" : failed_text + "\n";
  return out;
}

Result<ParticipantEndpoint> participantEndpoint(ExchangeContext& ctx, store::PgConnection& db,
                                                const std::string& org_id) {
  auto p = store::checkTarget(db, org_id);
  if (!p) return p.error();
  if (!*p) return Error::invalid("participant.unknown", "no participant " + org_id);
  const auto& t = **p;
  if (t.status == "retired") return transition("participant " + org_id + " is retired");
  if (!t.adapter) return Error::invalid("participant.no_endpoint", "no active endpoint registered");
  ParticipantEndpoint out;
  out.endpoint = endpointFrom(org_id, *t.adapter, t.settings);
  out.adapter = ctx.adapter(out.endpoint.adapter);
  if (out.adapter == nullptr) {
    return Error::invalid("participant.no_endpoint", "no adapter named '" + out.endpoint.adapter + "'");
  }
  out.party = {org_id, t.name, t.sys_id, t.system_name};
  return out;
}

namespace {

// One connectivity check of a participant's endpoint: each step in turn, recorded in the report; the
// first that fails ends it. The report is saved, and a failure told to the participant's contacts.
class ConnectivityCheck {
 public:
  ConnectivityCheck(ExchangeContext& ctx, store::PgConnection& db, std::string org_id)
      : ctx_(ctx), db_(db), org_id_(std::move(org_id)) {}

  Result<CheckReport> run(const Result<ParticipantEndpoint>& target, std::chrono::seconds receipt_timeout) {
    auto t0 = Clock::now();
    if (!target) {
      step("endpoint", "failed", target.error().message, t0);
      return finish();
    }
    if (!network(*target)) return finish();
    auto msg_id = sendProbe(*target);
    if (!msg_id) return msg_id.error();
    if (msg_id->empty()) return finish();
    if (auto s = receipt(*msg_id, receipt_timeout); !s) return s.error();
    return finish();
  }

 private:
  bool step(std::string name, std::string result, std::string detail, Clock::time_point t0) {
    report_.steps.push_back({std::move(name), std::move(result), std::move(detail), msSince(t0)});
    return report_.steps.back().result != "failed";
  }

  Result<CheckReport> finish() {
    report_.passed = std::all_of(report_.steps.begin(), report_.steps.end(),
                                 [](const CheckStep& s) { return s.result != "failed"; });
    Status saved = store::inTransaction(db_, [&]() -> Status {
      if (auto s = store::recordCheck(db_, org_id_, report_.passed, report_.json()); !s || report_.passed) return s;
      // A failed onboarding is told to the participant's contacts, with the reason.
      auto contacts = contactsOf(db_, org_id_);
      if (!contacts) return contacts.error();
      json::array notify{"ucc:coordinator"};
      for (const auto& c : *contacts) notify.push_back(c);
      const CheckStep& failed = *std::find_if(report_.steps.begin(), report_.steps.end(),
                                              [](const CheckStep& s) { return s.result == "failed"; });
      return alert(
          db_, "participant.check_failed", "participant:" + org_id_ + ":check:" + std::to_string(std::time(nullptr)),
          json::object{{"org_id", org_id_}, {"step", failed.name}, {"reason", failed.detail}, {"notify", notify}});
    });
    if (!saved) return saved.error();
    return report_;
  }

  // Name resolution, a TCP connection and (when used) the TLS handshake to where the bytes go: the
  // participant's URL, or (amqp) the UCC's broker that holds its queues. False when one failed.
  bool network(const ParticipantEndpoint& target) {
    const auto& endpoint = target.endpoint;
    std::string url = endpoint.setting("url", endpoint.adapter == "amqp" ? ctx_.config.broker.url : "");
    std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
    if (auto at = rest.find('@'); at != std::string::npos) rest = rest.substr(at + 1);
    rest = rest.substr(0, rest.find('/'));
    if (auto a = target.adapter->address(endpoint); !a.empty()) rest = a;
    std::string host = rest.substr(0, rest.rfind(':')), port = rest.substr(rest.rfind(':') + 1);
    auto t0 = Clock::now();
    auto reach = adapters::probeTcp(host, port, std::chrono::seconds(5));
    if (!step("resolve", reach.resolved ? "ok" : "failed", reach.resolutionText(host), t0)) return false;
    t0 = Clock::now();
    if (!step("tcp", reach.connected() ? "ok" : "failed", reach.connectionText(port), t0)) return false;
    t0 = Clock::now();
    auto handshake = target.adapter->probeTls(endpoint);
    if (!handshake.used) {
      step("tls", "skipped", "not used: " + endpoint.adapter + " to " + rest + " runs without TLS", t0);
      return true;
    }
    return step("tls", handshake.ok ? "ok" : "failed", handshake.detail, t0);
  }

  // A signed test package, stored like any other message so the receipt finds it, handed to the
  // endpoint. Its msg_id; empty when the endpoint did not take it.
  Result<std::string> sendProbe(const ParticipantEndpoint& target) {
    auto t0 = Clock::now();
    domain::Case probe;
    probe.id = newUuid();
    probe.ucc_number = "ПЕРЕВІРКА-" + probe.id.substr(0, 8);
    probe.registered_on = formatIsoUtc(std::time(nullptr)).substr(0, 10);
    probe.applicant.anonymous = true;
    probe.text = "Перевірка з'єднання з обміном Урядового контактного центру. Відповідати не потрібно.";
    probe.channel = "check";
    probe.received_at = formatIsoUtc(std::time(nullptr));
    std::string msg_id = newUuid();
    sev::Envelope env{ctx_.ucc, target.party, msg_id, formatIsoUtc(std::time(nullptr))};
    auto header = sev::buildAppealPackage(probe, env);
    header.document->attrs.kind = std::string(sev::kCheckDocumentKind);
    header.document->attrs.title = "Тестовий пакет перевірки з'єднання";
    if (header.expansion) header.expansion->appeal.reset();
    if (auto s = crypto::signAttachments(header, ctx_.signer); !s) return s.error();
    auto bytes = crypto::sealedPackage(header, ctx_.signer);
    if (!bytes) return bytes.error();
    if (auto s = store::recordTestPackage(db_, msg_id, "", org_id_, *bytes); !s) return s.error();
    auto outcome = target.adapter->deliver(*bytes, msg_id, target.endpoint);
    bool accepted = outcome.kind == adapters::DeliveryOutcome::Kind::Delivered;
    // Not a delivery of the exchange: its package is never retried, and one refused is no dead delivery to
    // replay (the check's report says what failed).
    (void)store::settleTestPackage(db_, msg_id, accepted, outcome.detail);
    if (!step("accepted", accepted ? "ok" : "failed",
              accepted ? "test package " + msg_id + " taken by the " + target.endpoint.adapter + " endpoint"
                       : "not taken: " + outcome.detail,
              t0)) {
      return std::string();
    }
    return msg_id;
  }

  // The participant's receipt, as a running gateway took it in, and its seal.
  Status receipt(const std::string& msg_id, std::chrono::seconds receipt_timeout) {
    auto t0 = Clock::now();
    const auto deadline = Clock::now() + receipt_timeout;
    std::optional<store::InboundRow> got;
    while (Clock::now() < deadline) {
      auto r = store::messagesReferringTo(db_, msg_id);
      if (!r) return r.error();
      if (!r->empty()) {
        got = std::move(r->front());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!got) {
      step("receipt", "failed",
           "no receipt within " + std::to_string(receipt_timeout.count()) +
               " s (is the participant's EDMS answering, and a gateway running to take it in?)",
           t0);
      return {};
    }
    step("receipt", "ok", "receipt (ack_type " + std::to_string(got->ack_type) + ") received", t0);
    t0 = Clock::now();
    if (got->status == "applied" && got->seal_verdict == "valid") {
      step("signature", "ok", "sealed by a certificate registered for " + org_id_, t0);
    } else if (got->status == "applied" && got->seal_verdict == "missing") {
      // Taken without a seal: the participant is registered with require_seal = false (as real SEV OVV 1.5
      // systems send), so only its transport vouches for a receipt; its files' signatures are checked
      // when it answers.
      step("signature", "ok", "no seal (require_seal = false): the transport's identity vouches for the receipt", t0);
    } else {
      step("signature", "failed",
           "refused with code " + std::to_string(got->error_code) + ": " + got->last_error + " (seal " +
               got->seal_verdict + ")",
           t0);
    }
    return {};
  }

  ExchangeContext& ctx_;
  store::PgConnection& db_;
  std::string org_id_;
  CheckReport report_;
};

}  // namespace

Result<CheckReport> checkParticipant(ExchangeContext& ctx, const std::string& org_id,
                                     std::chrono::seconds receipt_timeout) {
  auto db = ctx.pool.acquire();
  if (!db) return db.error();
  auto target = participantEndpoint(ctx, **db, org_id);
  if (!target && target.error().code != "participant.no_endpoint") return target.error();
  return ConnectivityCheck(ctx, **db, org_id).run(target, receipt_timeout);
}

}  // namespace vkhid::flows
