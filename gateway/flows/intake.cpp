// Intake: a channel client's case becomes a registered case, in one transaction with its history and
// the event that sends it on to routing.
#include <openssl/rand.h>

#include <boost/json.hpp>
#include <optional>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/kyiv_time.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/case_access.hpp"
#include "gateway/flows/case_endings.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/flows/signature_json.hpp"
#include "gateway/flows/violence_journal.hpp"
#include "gateway/sev/codec.hpp"
#include "gateway/store/case_views.hpp"
#include "gateway/store/clients.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

IntakeOutcome refused(IntakeResult result, const std::string& title, const std::string& detail,
                      std::vector<FieldError> errors = {}) {
  return IntakeOutcome::refusal(result, title, detail, std::move(errors));
}

IntakeOutcome found(const json::object& o) {
  IntakeOutcome out;
  out.body = json::serialize(o);
  return out;
}

// A tracking code for the applicant: 80 random bits in Crockford base32, XXXX-XXXX-XXXX-XXXX.
std::string trackingCode() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  unsigned char b[10];
  RAND_bytes(b, sizeof b);
  std::string out;
  unsigned long long acc = 0;
  int bits = 0;
  for (unsigned char c : b) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(acc >> bits) & 31];
      if (out.size() % 5 == 4 && out.size() < 19) out += '-';
    }
  }
  return out;
}

// The channel's time of receipt starts the legal clock: bounded, so that a wrong one can neither make
// a case overdue at once nor put its deadline out of reach.
void checkReceivedAt(const app::IntakeSettings& in, ParsedCase& parsed) {
  if (parsed.errors.empty() && !parsed.value.received_at.empty()) {
    if (auto at = domain::parseInstant(parsed.value.received_at)) {
      // In seconds: a year like 9999 does not fit a nanosecond clock.
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      if (*at > now + std::chrono::seconds(in.received_future_s)) {
        parsed.errors.push_back(
            {"/received_at", "not more than " + std::to_string(in.received_future_s) + " s in the future"});
      } else if (*at < now - std::chrono::hours(24) * in.received_max_age_days) {
        parsed.errors.push_back(
            {"/received_at", "not older than " + std::to_string(in.received_max_age_days) + " days"});
      }
    }
  }
}

// With `audit.fail_closed`, no case is taken while the evidence log waits too long for its seal.
std::optional<IntakeOutcome> evidenceUnsealed(ExchangeContext& context) {
  if (!context.config.audit.fail_closed || !context.audit || context.audit->evidenceSealed()) return std::nullopt;
  app::metrics()
      .counter("vkhid_intake_rejected_total", "Cases refused at intake", {{"reason", "evidence_unsealed"}})
      .inc();
  return refused(IntakeResult::unavailable, "Evidence cannot be sealed",
                 "the exchange log has not been sealed and time-stamped for " +
                     std::to_string(context.audit->unsealedSeconds()) +
                     " s (the time-stamp authority is unreachable); cases are refused until it catches up");
}

// A new case routed in the transaction that registers it when its package can be made now: one commit,
// no routing message (`routing`: what it came to). Not now (the seal's key out of reach, say): the
// routing consumer takes it, as it takes a forwarded case. Had the database failed instead, the commit
// fails and the client tries again.
Status routeAtIntake(ExchangeContext& context, store::PgConnection& db, const Registration& reg, bool priority,
                     std::string& routing) {
  const std::string& case_id = reg.case_id;
  auto routed = Router(context).routeIn(db, case_id, reg.routing_row);
  if (routed) {
    routing = *routed;
    return {};
  }
  log::warn("routing at intake failed, queued for the router",
            {{"case_id", case_id}, {"error", routed.error().message}});
  return queueRouting(db, case_id, priority);
}

}  // namespace

void countRegistered(const domain::Case& c) {
  app::metrics()
      .counter("vkhid_cases_registered_total", "Cases registered", {{"kind", domain::caseKindName(c.kind)}})
      .inc();
}

Result<Registration> registerCase(store::PgConnection& db, const ExchangeContext& context, const domain::Case& c,
                                  const std::string& body_json, const std::string& client_id,
                                  const std::string& idempotency_key, const std::string& request_sha256,
                                  const std::string& actor) {
  const LegalClock& clock = context.legal;
  Registration out;
  // Its number asked ahead, to be drawn with the likeness's reads (or whatever the transaction sends next).
  store::askNextUccNumber(db, c.received_at);
  auto likeness = compareWithEarlier(db, context, c);
  if (!likeness) return likeness.error();
  const Likeness& like = *likeness;
  const auto& first_of_mass = like.first_of_mass;
  const auto& repeated = like.repeated;
  out.case_id = newUuid();
  auto n = store::nextUccNumber(db, c.received_at);
  if (!n) return n.error();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%07lld", n->year.c_str(), n->number);
  out.ucc_number = std::string("УКЦ-") + buf;
  out.tracking_code = trackingCode();
  out.registered_on = n->today;
  // The answer term, written with the case (a mass appeal's member runs under its first case's: none).
  // The legal clock runs from the receipt (the channel's time of receipt when it gave one).
  auto received = domain::parseInstant(c.received_at);
  const domain::Instant from =
      received ? *received : std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::optional<AnswerTerm> term;
  std::optional<AnswerStepPlan> step;  // the term's first step, written with the case's open row
  if (!first_of_mass) {
    auto t = answerTerm(clock, LegalClock::answerKind(c.kind, c.urgency, c.no_further_study), from);
    if (!t) return t.error();
    term = std::move(*t);
    if (store::openAtRegistration(c.channel)) step = firstAnswerStep(clock, term->due);
  }
  const store::NewCaseRecord record{.id = out.case_id,
                                    .ucc_number = out.ucc_number,
                                    .tracking_code = out.tracking_code,
                                    .kind = domain::caseKindName(c.kind),
                                    .restricted = c.restricted(),
                                    .priority = c.priority,
                                    .urgency = domain::urgencyName(c.urgency),
                                    .channel = c.channel,
                                    .received_at = c.received_at,
                                    .addressee_org_id = c.addressee_org_id,
                                    .body_json = body_json,
                                    .client_id = client_id,
                                    .idempotency_key = idempotency_key,
                                    .request_sha256 = request_sha256,
                                    .applicant_key = like.applicant_key,
                                    .contact_keys = like.contact_keys,
                                    .repeat_of = repeated ? repeated->id : std::string(),
                                    .text_hash = like.text_hash,
                                    .merged_into = first_of_mass ? first_of_mass->id : std::string(),
                                    .due_kind = term ? term->kind : std::string(),
                                    .due_rule = term ? term->citation : std::string(),
                                    .due_epoch = term ? term->due.at.time_since_epoch().count() : 0,
                                    .clock_from_epoch = term ? from.time_since_epoch().count() : 0,
                                    .answer_step = step ? step->kind : std::string(),
                                    .answer_step_epoch = step ? step->at.time_since_epoch().count() : 0};
  if (auto s = store::insertRegisteredCase(db, record); !s) return s.error();
  out.routing_row = store::newCaseRoutingRow(record, *n, c.classification.topic.value_or(""), c.complained_of_org_id);
  if (c.kind == domain::CaseKind::ViolenceReport) {
    // The journal of annex 6 to the Procedure of CMU resolution No 658 (the resolution's п. 7).
    if (auto s = enterInJournal(db, out.case_id, actor); !s) return s.error();
  }
  json::object registered{{"ucc_number", out.ucc_number}, {"channel", c.channel}};
  if (term) {
    // Its answer term is part of its registration, written in its row with it and recorded here: the
    // history's `deadline_set` of a new case was an event and an evidence entry of its own (issue 25).
    registered["deadline"] = json::object{{"kind", term->kind}, {"due", domain::formatKyiv(term->due.at)}};
  }
  if (repeated) {
    // Offered to the UCC: the earlier case, by its number. Whether it is a repeat on a question already
    // decided (Law 393 art. 8) is a person's call.
    registered["likely_repeat_of"] = repeated->ucc_number;
    out.repeat_of = repeated->ucc_number;
  }
  if (auto s = recordEvent(db, out.case_id, actor, "registered", "received", "registered", json::serialize(registered));
      !s) {
    return s.error();
  }
  if (first_of_mass) {
    // A member of a mass appeal: it runs under the first case's term and is answered with it.
    out.merged_into = first_of_mass->ucc_number;
    auto moved = store::transitionCase(
        db, {out.case_id, domain::CaseStatus::Registered, domain::CaseEvent::Merged, 0, actor,
             json::serialize(json::object{{"into", first_of_mass->ucc_number}, {"into_case_id", first_of_mass->id}}),
             store::CaseFields{}});
    if (!moved) return moved.error();
    if (auto s = enqueueOutbox(db, bus::names::kNotifications, "applicant.registered", out.case_id + ":registered",
                               json::serialize(json::object{{"case_id", out.case_id},
                                                            {"tracking_code", out.tracking_code},
                                                            {"ucc_number", out.ucc_number},
                                                            {"merged_into", first_of_mass->ucc_number}}));
        !s) {
      return s.error();
    }
    return out;
  }
  if (auto s = planRegisteredDeadline(db, clock, out.case_id, *term, actor, step.has_value()); !s) return s.error();
  if (auto s = enqueueOutbox(
          db, bus::names::kNotifications, "applicant.registered", out.case_id + ":registered",
          json::serialize(json::object{
              {"case_id", out.case_id}, {"tracking_code", out.tracking_code}, {"ucc_number", out.ucc_number}}));
      !s) {
    return s.error();
  }
  return out;
}

Status queueRouting(store::PgConnection& db, const std::string& case_id, bool priority) {
  return enqueueOutbox(db, bus::names::kEvents, "case.registered", case_id,
                       json::serialize(json::object{{"case_id", case_id}}), "{}", priority ? kPriorityApplicant : 0);
}

IntakeOutcome Intake::submit(const std::string& client_id, const std::string& idempotency_key,
                             const std::string& body) {
  auto& m = app::metrics();
  flows::CaseLimits limits;
  limits.max_attachments = static_cast<std::size_t>(context_.config.intake.max_attachments);
  auto parsed = flows::parseCaseJson(body, limits);
  checkReceivedAt(context_.config.intake, parsed);
  if (!parsed.errors.empty()) {
    m.counter("vkhid_intake_rejected_total", "Cases refused at intake", {{"reason", "invalid"}}).inc();
    const std::string detail = "the case has " + std::to_string(parsed.errors.size()) + " wrong field(s)";
    return refused(IntakeResult::invalid, "Invalid case", detail, std::move(parsed.errors));
  }
  const domain::Case& c = parsed.value;
  const std::string request_hash = sha256Hex(body);
  if (auto unsealed = evidenceUnsealed(context_)) return *unsealed;

  auto db = context_.pool.acquire();
  if (!db) return refused(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  const long long trips_before = (**db).roundTrips();

  std::string case_id;
  std::string number, tracking;
  std::optional<IntakeOutcome> refusal;
  bool repeat = false;
  std::string routing;      // what routing at intake came to; empty when queued or a repeat
  std::string merged_into;  // a mass appeal's member: the UCC number of the case it joined
  Status done = store::inTransaction(**db, [&]() -> Status {
    if (!idempotency_key.empty()) {
      // Serialise requests with the same key, so two concurrent repeats do not both register (the
      // lock is taken, on the server, before the lookup it travels with).
      if (auto s = store::lockIdempotencyKey(**db, client_id, idempotency_key); !s) return s;
      auto earlier = store::caseByIdempotencyKey(**db, client_id, idempotency_key);
      if (!earlier) return earlier.error();
      if (*earlier) {
        repeat = true;
        if ((*earlier)->request_sha256 != request_hash) {
          refusal = refused(IntakeResult::key_reused, "Idempotency key reused",
                            "this Idempotency-Key was used for another request body");
        } else {
          case_id = (*earlier)->id;
          number = (*earlier)->ucc_number;
          tracking = (*earlier)->tracking_code;
        }
        return {};
      }
    }
    // The rule routing at intake will place the case by, asked ahead: it travels with the registration's
    // first exchange instead of one of its own.
    Router::askRule(**db, domain::caseKindName(c.kind), c.classification.topic.value_or(""), c.addressee_org_id,
                    c.complained_of_org_id);
    auto reg = registerCase(**db, context_, c, body, client_id, idempotency_key, request_hash, "client:" + client_id);
    if (!reg) return reg.error();
    case_id = reg->case_id;
    number = reg->ucc_number;
    tracking = reg->tracking_code;
    merged_into = reg->merged_into;
    if (!merged_into.empty()) return {};  // answered with the case it joined: nothing to route
    return routeAtIntake(context_, **db, *reg, c.priority, routing);
  });
  if (!done) {
    log::error("intake failed", {{"code", done.error().code}, {"error", done.error().message}});
    return refused(IntakeResult::unavailable, "Unavailable", "the case could not be registered now; try again");
  }
  if (refusal) return *refusal;
  if (!routing.empty()) countRouting(routing);
  // A registration's exchanges with the database, beside the registrations counted: each is a wait on
  // the server that every case pays (a repeat's are counted with the repeats).
  m.counter("vkhid_intake_pg_round_trips_total", "Exchanges with PostgreSQL of the intake's transactions")
      .inc((**db).roundTrips() - trips_before);
  if (!repeat) {
    countRegistered(c);
    log::info("case registered", {{"case_id", case_id}, {"kind", domain::caseKindName(c.kind)}});
  }
  json::object o{{"id", case_id},
                 {"ucc_number", number},
                 {"tracking_code", tracking},
                 {"status", merged_into.empty() ? "registered" : "merged"}};
  if (!merged_into.empty()) o["merged_into"] = merged_into;
  IntakeOutcome out;
  out.result = repeat ? IntakeResult::repeated : IntakeResult::created;
  out.body = json::serialize(o);
  out.case_id = case_id;
  return out;
}

IntakeOutcome Intake::status(const std::string& client_id, const std::string& case_id) {
  auto db = context_.pool.acquire();
  if (!db) return refused(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  auto found_case = store::clientCase(**db, case_id, client_id);
  if (!found_case) return refused(IntakeResult::unavailable, "Unavailable", "try again");
  if (!*found_case) return refused(IntakeResult::not_found, "Not found", "no such case for this client");
  const auto& c = **found_case;
  json::object o{{"id", c.id},     {"ucc_number", c.ucc_number}, {"tracking_code", c.tracking_code},
                 {"kind", c.kind}, {"status", c.status},         {"answer_available", c.answer_available}};
  if (c.participant_org_id) o["participant_org_id"] = *c.participant_org_id;
  if (c.participant_reg_number) o["participant_reg_number"] = *c.participant_reg_number;
  if (c.participant_reg_date) o["participant_reg_date"] = *c.participant_reg_date;
  if (c.rejection_code) o["rejection"] = json::object{{"code", *c.rejection_code}, {"text", c.rejection_text}};
  if (c.due_epoch > 0) o["due"] = domain::formatKyiv(domain::Instant{std::chrono::seconds(c.due_epoch)});
  o["overdue"] = c.overdue;
  auto events = store::caseHistory(**db, case_id);
  json::array history;
  if (events) {
    for (const auto& e : *events) {
      history.push_back(json::object{{"at", e.at},
                                     {"actor", e.actor},
                                     {"event", e.event},
                                     {"from", e.from},
                                     {"to", e.to},
                                     {"detail", json::parse(e.detail)}});
    }
  }
  o["history"] = std::move(history);
  return found(o);
}

IntakeOutcome Intake::answer(const std::string& client_id, const std::string& case_id) {
  auto db = context_.pool.acquire();
  if (!db) return refused(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  auto stored = store::clientAnswer(**db, case_id, client_id);
  if (!stored && stored.error().code == "at_rest.tampered") {  // logged and counted by the store
    return refused(IntakeResult::unreadable, "Stored answer unreadable",
                   "the stored answer was changed at rest and does not open; the UCC is alerted");
  }
  if (!stored) return refused(IntakeResult::unavailable, "Unavailable", "try again");
  if (!*stored) return refused(IntakeResult::not_found, "No answer", "no such case, or no answer yet");
  const auto& r = **stored;
  // Each file with the verdict its signature got when the answer arrived (recorded with the message:
  // judged then, as the law asks, not again years later); an answer recorded before verdicts were kept
  // is verified now, against the participant's trust.
  json::array recorded;
  if (boost::system::error_code ec; !r.signatures.empty()) {
    auto v = json::parse(r.signatures, ec);
    if (!ec && v.is_array()) recorded = v.as_array();
  }
  auto report = crypto::verifyPackage(r.bytes, *context_.trustFor(r.trust_pem, r.trust_list), crypto::VerifyOptions{});
  if (!report.header)
    return refused(IntakeResult::unreadable, "Stored answer unreadable", report.findings.front().message);
  const sev::Header* header = &*report.header;
  json::array attachments;
  for (const auto* t : crypto::allTransfers(*header)) {
    json::object a{{"idnumber", t->idnumber},
                   {"file_name", t->description},
                   {"type", t->type},
                   {"size", t->content.size()},
                   {"content_base64", base64Encode(t->content)},
                   {"signature", "missing"}};
    std::optional<json::object> verdict;
    for (const auto& v : recorded) {
      const auto* id = v.is_object() ? v.as_object().if_contains("idnumber") : nullptr;
      if (id && id->is_string() && id->as_string() == t->idnumber) verdict = v.as_object();
    }
    for (const auto& ar : report.attachments) {
      if (!verdict && ar.idnumber == t->idnumber) verdict = signatureJson(ar.idnumber, ar.verdict);
    }
    if (verdict) {
      a["signature"] = (*verdict)["state"];
      for (const char* k :
           {"signer", "provider", "key", "qualified", "algorithm", "signing_time", "judged_at", "judged_by"}) {
        if (auto* x = verdict->if_contains(k)) a[k] = *x;
      }
    }
    attachments.push_back(std::move(a));
  }
  json::object o{{"case_id", case_id},
                 {"msg_id", r.msg_id},
                 {"seal", r.seal_verdict},
                 {"reg_number", header->document ? header->document->reg_number.value : ""},
                 {"reg_date", header->document ? header->document->reg_number.regdate : ""},
                 {"attachments", std::move(attachments)},
                 {"package_base64", base64Encode(r.bytes)}};
  // Who read the answer is recorded (issue 29); not recorded, not given.
  auto restricted = store::caseIsRestricted(**db, case_id);
  if (!restricted) return refused(IntakeResult::unavailable, "Unavailable", "try again");
  if (!recordCaseRead(**db, CaseRead{"channel:" + client_id, case_id, "answer", *restricted,
                                     "the answer handed to the applicant's channel"})) {
    return refused(IntakeResult::unavailable, "Unavailable", "try again");
  }
  return found(o);
}

std::string normalTrackingCode(const std::string& raw_code) {
  std::string code;
  for (char ch : raw_code) {
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (u == '-' || u == ' ') continue;
    if (u == 'O') u = '0';
    if (u == 'I' || u == 'L') u = '1';
    code += u;
    if (code.size() % 5 == 4 && code.size() < 19) code += '-';
  }
  return code;
}

IntakeOutcome Intake::track(const std::string& raw_code) {
  const std::string code = normalTrackingCode(raw_code);
  // From the replica when there is one; a case registered a moment ago that it has not yet received is
  // looked for on the primary.
  auto find = [&](store::PgPool& pool) -> Result<std::optional<store::TrackedCaseRow>> {
    auto db = pool.acquire();
    if (!db) return db.error();
    return store::trackedCase(**db, code);
  };
  auto tracked = find(context_.readPool());
  if (&context_.readPool() != &context_.pool && (!tracked || !*tracked)) tracked = find(context_.pool);
  if (!tracked) return refused(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  if (!*tracked) return refused(IntakeResult::not_found, "Not found", "no case has this tracking code");
  const auto& c = **tracked;
  json::object o{{"tracking_code", code},
                 {"kind", c.kind},
                 {"status", c.status},
                 {"registered_on", c.registered_on},
                 {"overdue", c.overdue},
                 {"extended", c.extended},
                 {"answer_available", c.answer_available},
                 {"updated_at", c.updated_at}};
  if (c.due_epoch > 0) {
    domain::Instant at{std::chrono::seconds(c.due_epoch)};
    o["due"] = domain::formatKyiv(at);
    o["due_date"] = domain::formatDate(domain::kyivDate(at));
  }
  // Once the answer has come, the applicant may rate its handling, once (POST …/rating).
  const bool answered = c.status == "answered" || c.status == "closed" || c.answered_with_group;
  o["rating"] = json::object{{"open", answered && c.rating == 0},
                             {"score", c.rating > 0 ? json::value(c.rating) : json::value(nullptr)}};
  // A restricted case (violence) does not say who handles it.
  if (!c.restricted && !c.participant_org_id.empty()) {
    o["participant"] = json::object{{"org_id", c.participant_org_id}, {"name", c.participant_name}};
  }
  return found(o);
}

Result<std::optional<ClientIdentity>> Intake::identify(const std::string& token, const std::string& cert_sha256) {
  if (token.empty() && cert_sha256.empty()) return std::optional<ClientIdentity>();
  auto db = context_.pool.acquire();
  if (!db) return db.error();
  // A token, when sent, decides; a certificate is only asked about when no token came.
  auto r = token.empty() ? store::findClient(**db, store::ClientKey::CertSha256, cert_sha256)
                         : store::findClient(**db, store::ClientKey::TokenSha256, sha256Hex(token));
  if (!r) return r.error();
  if (!*r) return std::optional<ClientIdentity>();
  return std::optional<ClientIdentity>(ClientIdentity{(*r)->id, (*r)->role, (*r)->restricted_access, (*r)->org_id});
}

}  // namespace vkhid::flows
