// The inbound flow's parts (flows/inbound.cpp drives them): who a transport identity is, our receipts,
// and one handler per kind of message — receipt, notice, answer, the participant's own appeal — each
// applying an Arrival inside the caller's transaction.
#include "gateway/flows/inbound_apply.hpp"

#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/case_status.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/flows/signature_json.hpp"
#include "gateway/sev/appeal_reader.hpp"

namespace vkhid::flows::inbound {

namespace json = boost::json;

void countInbound(const std::string& outcome) {
  app::metrics().counter("vkhid_inbound_total", "Packages received from participants", {{"outcome", outcome}}).inc();
}

// Seals and queues one of our receipts for a participant's message.
Status queueReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer, const std::string& their_msg_id,
                    sev::AckType type, const std::string& case_id, std::optional<sev::Rejection> rejection,
                    std::optional<sev::RegNumber> registration) {
  std::string msg_id = newUuid();
  sev::Envelope env{
      ctx.ucc, {peer.org_id, peer.name, peer.sys_id, peer.system}, msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildReceipt(env, their_msg_id, type, registration, rejection);
  auto bytes = crypto::sealedPackage(header, ctx.signer);
  if (!bytes) return bytes.error();
  auto r = db.later(
      "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, "
      "status, error_code) VALUES ($1, 'out', NULLIF($2, '')::uuid, $3, 0, $4, $5::uuid, $6::bytea, $7, 'queued', $8)",
      {msg_id, case_id, peer.org_id, std::to_string(static_cast<int>(type)), their_msg_id, byteaHex(*bytes),
       sha256Hex(*bytes), rejection ? std::optional<std::string>(std::to_string(rejection->code)) : std::nullopt});
  if (!r) return r;
  return enqueueDelivery(db, peer.org_id, msg_id);
}

sev::Rejection rejectionFor(const Error& e) {
  auto code = sev::sevErrorOf(e).value_or(sev::SevError::SchemaInvalid);
  return {static_cast<int>(code), sev::sevErrorInfo(code).errortext};
}

Status alertOf(store::PgConnection& db, const std::string& kind, const std::string& key, json::object body) {
  return enqueueOutbox(db, bus::names::kAlerts, kind, key, json::serialize(body));
}

namespace {

// A refused package larger than this keeps only this much of its bytes (and its digest and size).
constexpr std::size_t kKeptOfOversized = 4096;

// The competent body a not-in-competence rejection names: our forwarding notice when the participant
// added one, else the one EDRPOU code (8 digits standing alone) in the error text.
std::string competentBodyOf(const sev::Header& h) {
  if (h.expansion && h.expansion->notice && h.expansion->notice->competent_org_id) {
    return *h.expansion->notice->competent_org_id;
  }
  if (!h.acknowledgement || h.acknowledgement->results.empty()) return {};
  const std::string& text = h.acknowledgement->results.front().errortext;
  std::string found;
  int codes = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == 8) {
      found = text.substr(i, 8);
      ++codes;
    }
    i = j;
  }
  return codes == 1 ? found : std::string();
}

// Not in the participant's competence: the case leaves it for good. To the competent body when that is
// an active participant that has not declined it already, else to the UCC review queue; the applicant
// is told either way.
Status forwardCase(Arrival& a, domain::CaseStatus from, const std::string& competent) {
  auto& db = a.db;
  const std::string& case_id = a.case_id;
  // A conformance run's test case is never routed on: the forward is recorded, and stops there.
  auto target = db.exec(
      "SELECT 1 FROM participant p, cases c WHERE p.org_id = $1 AND p.status = 'active' AND c.id = vkhid_uuid($2) "
      "AND NOT (p.org_id = ANY (c.declined_by)) AND c.kind = ANY (p.kinds) AND c.channel <> 'conformance'",
      {competent, case_id});
  if (!target) return target.error();
  auto c = db.exec("SELECT channel, tracking_code FROM cases WHERE id = vkhid_uuid($1)", {case_id});
  if (!c) return c.error();
  if (c->rows() == 0) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
  const bool test_case = c->get(0, 0) == "conformance";
  bool known = target->rows() > 0 && competent != a.peer.org_id;
  json::object detail{
      {"msg_id", a.h.msg_id}, {"from_participant", a.peer.org_id}, {"to", known ? "participant" : "review"}};
  if (!competent.empty()) detail["competent_org_id"] = competent;
  auto moved = store::transitionCase(
      db, {case_id, from, domain::CaseEvent::Forwarded, 0, a.actor(), json::serialize(detail),
           store::CaseFields::leaveParticipant(a.peer.org_id, known ? competent : std::string())});
  if (!moved) return moved.error();
  json::object notice{{"case_id", case_id}, {"tracking_code", std::string(c->get(0, 1))}};
  if (auto s = enqueueOutbox(db, bus::names::kNotifications, "applicant.forwarded",
                             case_id + ":forwarded:" + a.h.msg_id, json::serialize(notice));
      !s) {
    return s;
  }
  a.effect = known ? "forwarded" : "forwarded_to_review";
  if (test_case) return {};
  // A participant is re-routed to; anyone else means a person decides.
  return enqueueOutbox(db, bus::names::kEvents, known ? "case.forwarded" : "case.unrouted", case_id + ":" + a.h.msg_id,
                       json::serialize(json::object{{"case_id", case_id}}));
}

}  // namespace

// A receipt (ack_type 1–4) for one of our packages.
Status applyReceipt(Arrival& a) {
  const auto& ack = *a.h.acknowledgement;
  a.ref_msg_id = ack.msg_id;
  auto ours = a.db.exec(
      "SELECT coalesce(case_id::text, ''), msg_type FROM message WHERE msg_id = vkhid_uuid($1) AND direction = 'out' "
      "AND peer_org_id = $2",
      {ack.msg_id, a.peer.org_id});
  if (!ours) return ours.error();
  if (ours->rows() == 0) {
    a.mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "Acknowledgement msg_id " + ack.msg_id);
    return {};
  }
  if (ack.ack_type == 3 && ack.reg_number && !isRegistrationNumber(ack.reg_number->value)) {
    a.mismatch = sev::sevError(sev::SevError::BadValue,
                               "RegNumber: expected 1 to 64 letters, digits, spaces and the separators / - . _ , : ( ) "
                               "№");
    return {};
  }
  a.case_id = std::string(ours->get(0, 0));
  a.effect = "receipt";
  if (ours->getInt(0, 1) != 1 || a.case_id.empty()) return {};  // a receipt for one of our receipts

  auto row = store::lockCaseForReceipt(a.db, a.case_id);
  if (!row) return row.error();
  if (!*row) return {};
  const auto current = (*row)->status;
  const std::string from = domain::caseStatusName(current), recorded_number = (*row)->participant_reg_number;
  json::object detail{{"msg_id", a.h.msg_id}, {"ack_type", ack.ack_type}};
  if ((*row)->participant_org_id != a.peer.org_id) {
    // The case has moved on (forwarded): a late receipt is recorded, the case left as it is.
    a.effect = "late_receipt";
    return recordEvent(a.db, a.case_id, a.actor(), "late_receipt", from, from, json::serialize(detail));
  }
  const bool not_competent = ack.ack_type == 4 && !ack.results.empty() &&
                             ack.results.front().errorcode == static_cast<int>(sev::SevError::NotInCompetence);
  const std::string number = ack.ack_type == 3 && ack.reg_number ? ack.reg_number->value : std::string();
  auto effect = domain::receiptEffect(current, ack.ack_type, recorded_number, number);
  if (!number.empty()) detail["participant_reg_number"] = number;
  if (ack.ack_type == 4 && !ack.results.empty()) detail["error_code"] = ack.results.front().errorcode;
  if (effect.kind == domain::ReceiptEffect::Kind::Conflict) {
    // Never applied: what the case has recorded stands. Kept as evidence, shown, and told to the UCC.
    a.effect = "receipt_conflict";
    a.record_receipt = false;
    detail["conflict"] = effect.why;
    if (auto s = recordEvent(a.db, a.case_id, a.actor(), "receipt_conflict", from, from, json::serialize(detail)); !s) {
      return s;
    }
    return alertOf(a.db, "case.receipt_conflict", "receipt_conflict:" + a.h.msg_id,
                   json::object{{"case_id", a.case_id},
                                {"org_id", a.peer.org_id},
                                {"msg_id", a.h.msg_id},
                                {"ack_type", ack.ack_type},
                                {"conflict", effect.why}});
  }
  if (effect.kind == domain::ReceiptEffect::Kind::Record) {
    a.effect = "late_receipt";
    return recordEvent(a.db, a.case_id, a.actor(), "late_receipt", from, from, json::serialize(detail));
  }
  if (not_competent) return forwardCase(a, current, competentBodyOf(a.h));
  std::optional<std::string> reg_no, reg_date, rej_code, rej_text;
  if (!number.empty()) {
    reg_no = number;
    reg_date = ack.reg_number->regdate;
  }
  if (ack.ack_type == 4 && !ack.results.empty()) {
    rej_code = std::to_string(ack.results.front().errorcode);
    rej_text = ack.results.front().errortext;
  }
  auto moved = store::transitionCase(
      a.db, {a.case_id, current, domain::CaseEvent::Receipt, ack.ack_type, a.actor(), json::serialize(detail),
             store::CaseFields::recordReceipt(reg_no, reg_date, rej_code, rej_text)});
  if (!moved) return moved.error();
  return cancelTransportTimers(a.db, a.case_id, ack.msg_id, ack.ack_type);
}

// Our notice (the project's expansion): a forward to the competent body, or an extension of the term.
Status applyNotice(Arrival& a) {
  const auto& n = *a.h.expansion->notice;
  a.ref_msg_id = n.ref_msg_id.value_or("");
  auto c = a.db.exec("SELECT status FROM cases WHERE id = vkhid_uuid($1) AND participant_org_id = $2 FOR UPDATE",
                     {n.case_id, a.peer.org_id});
  if (!c) return c.error();
  if (c->rows() == 0) {
    a.mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id);
    return {};
  }
  a.case_id = n.case_id;
  a.effect = "notice";
  auto stored = store::caseStatusOf(c->get(0, 0), n.case_id);
  if (!stored) return stored.error();
  const auto from = *stored;
  if (n.kind == "forwarding") {
    // An answered or closed case is not forwarded: the notice is refused, the case left as it is.
    if (auto t = domain::transition(from, domain::CaseEvent::Forwarded); !t.allowed) {
      a.mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id + ": " + t.why);
      return {};
    }
    return forwardCase(a, from, n.competent_org_id.value_or(""));
  }
  // An extension: within the legal cap, or refused with its code and the case left as it was.
  auto new_due = n.new_due ? domain::parseInstant(*n.new_due) : std::nullopt;
  if (!new_due) {
    a.mismatch = sev::sevError(sev::SevError::BadAttribute, "Notice/@new_due: a date-time is required");
  } else if (auto s = extendAnswerDeadline(a.db, a.ctx.legal, a.case_id, *new_due, a.actor()); !s) {
    if (!sev::sevErrorOf(s.error())) return s;
    a.mismatch = s.error();
  } else {
    a.effect = "extension";
  }
  return {};
}

// A reply document (msg_type 3) referring to the case by its UCC number: the answer, or — once there is
// one — a further document of the case. The first answer and its registration number stand.
Status applyReply(Arrival& a) {
  const auto& doc = *a.h.document;
  std::string referred_number;
  for (const auto& ad : doc.addressees) {
    for (const auto& r : ad.referred) {
      if (const auto* reg = std::get_if<sev::RegNumber>(&r.number)) referred_number = reg->value;
    }
  }
  if (!isRegistrationNumber(doc.reg_number.value)) {
    a.mismatch = sev::sevError(sev::SevError::BadValue,
                               "Document/RegNumber: expected 1 to 64 letters, digits, spaces and the separators "
                               "/ - . _ , : ( ) №");
    return {};
  }
  auto c = a.db.exec(
      "SELECT id::text, status, tracking_code, answer_msg_id IS NOT NULL FROM cases WHERE ucc_number = $1 "
      "AND participant_org_id = $2 FOR UPDATE",
      {referred_number, a.peer.org_id});
  if (!c) return c.error();
  if (c->rows() == 0) {
    a.mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "Referred RegNumber " + referred_number);
    return {};
  }
  a.case_id = std::string(c->get(0, 0));
  std::string from(c->get(0, 1));
  auto stored = store::caseStatusOf(from, a.case_id);
  if (!stored) return stored.error();
  const auto current = *stored;
  json::object detail{{"msg_id", a.h.msg_id}, {"participant_reg_number", doc.reg_number.value}};
  if (domain::replyEffect(current, c->get(0, 3) == "t") == domain::ReplyEffect::FurtherDocument) {
    // Kept as a further document of the case (SEV reply additions), shown in its history, and marked
    // for a person's review: the answer the applicant has, and its number, stand.
    a.effect = "further_reply";
    auto u = a.db.later(
        "UPDATE cases SET review_note = coalesce(review_note, $2), review_at = coalesce(review_at, now()), "
        "updated_at = now() WHERE id = vkhid_uuid($1)",
        {a.case_id, "a further reply came after the case was answered (" + a.h.msg_id + ")"});
    if (!u) return u;
    if (auto s = recordEvent(a.db, a.case_id, a.actor(), "further_reply", from, from, json::serialize(detail)); !s) {
      return s;
    }
    return alertOf(a.db, "case.further_reply", "further_reply:" + a.h.msg_id,
                   json::object{{"case_id", a.case_id}, {"org_id", a.peer.org_id}, {"msg_id", a.h.msg_id}});
  }
  a.effect = "answer";
  auto moved = store::transitionCase(a.db, {a.case_id, current, domain::CaseEvent::Answered, 0, a.actor(),
                                            json::serialize(detail), store::CaseFields::recordAnswer(a.h.msg_id)});
  if (!moved) return moved.error();
  if (auto s = cancelTimersOfSettledCase(a.db, a.case_id); !s) return s;
  return enqueueOutbox(
      a.db, bus::names::kNotifications, "applicant.answered", a.case_id + ":answered",
      json::serialize(json::object{{"case_id", a.case_id}, {"tracking_code", std::string(c->get(0, 2))}}));
}

// An appeal that reached the participant's own contact centre: a new UCC case, routed like any other.
Status applyOwnAppeal(Arrival& a, const std::string& sha) {
  auto kase = sev::caseFromAppealPackage(a.h);
  if (!kase) {
    a.mismatch = kase.error();
    return {};
  }
  kase->channel = a.actor();
  auto reg = registerCase(a.db, a.ctx.legal, *kase, caseToJson(*kase), a.actor(), a.h.msg_id, sha, a.actor());
  if (!reg) return reg.error();
  a.case_id = reg->case_id;
  a.effect = "appeal";
  a.registered = std::move(kase).value();
  json::object detail{{"msg_id", a.h.msg_id}, {"participant_reg_number", a.h.document->reg_number.value}};
  if (auto s = recordEvent(a.db, a.case_id, a.actor(), "received_from_participant", "registered", "registered",
                           json::serialize(detail));
      !s) {
    return s;
  }
  a.ucc_registration = sev::RegNumber{reg->ucc_number, reg->registered_on, std::nullopt};
  return {};
}

// Who sent it, by what the transport vouches for: the broker's validated user (amqp), the TLS client
// certificate registered for it (http), or an endpoint that vouches for its organisation — a folder only
// it writes to, a hub account the hub authenticated ("endpoint:<adapter>:<org>").
Result<std::optional<Peer>> identify(store::PgConnection& db, const std::string& identity) {
  const bool by_certificate = identity.starts_with("tls:");
  const bool by_endpoint = identity.starts_with("endpoint:");
  std::string endpoint_adapter, vouched_org;
  if (by_endpoint) {
    auto colon = identity.find(':', 9);
    endpoint_adapter = identity.substr(9, colon == std::string::npos ? 0 : colon - 9);
    vouched_org = colon == std::string::npos ? "" : identity.substr(colon + 1);
  }
  auto p = db.exec(
      std::string("SELECT org_id, name, sys_id, system_name, require_seal, coalesce(trust_list, ''::bytea), trust_pem, "
                  "own_channel, (SELECT coalesce(string_agg(sha256, ','), '') FROM participant_cert c WHERE c.org_id "
                  "= p.org_id AND c.purpose = 'seal' AND (c.retire_after IS NULL OR c.retire_after > now())) "
                  "FROM participant p WHERE status IN ('active', 'pending_check', 'suspended') AND ") +
          (by_certificate ? "EXISTS (SELECT 1 FROM participant_cert t WHERE t.org_id = p.org_id AND t.purpose = 'tls' "
                            "AND t.sha256 = $1 AND (t.retire_after IS NULL OR t.retire_after > now()))"
           : by_endpoint
               ? "p.org_id = $1 AND EXISTS (SELECT 1 FROM endpoint e WHERE e.org_id = p.org_id AND e.active AND "
                 "e.adapter = $2)"
               : "transport_user = $1"),
      by_certificate ? std::vector<store::PgParam>{identity.substr(4)}
      : by_endpoint  ? std::vector<store::PgParam>{vouched_org, endpoint_adapter}
                     : std::vector<store::PgParam>{identity});
  if (!p) return p.error();
  if (p->rows() == 0) return std::optional<Peer>();
  return std::optional<Peer>(Peer{std::string(p->get(0, 0)), std::string(p->get(0, 1)), std::string(p->get(0, 2)),
                                  std::string(p->get(0, 3)), p->get(0, 4) == "t", fromByteaHex(p->get(0, 5)),
                                  std::string(p->get(0, 6)), p->get(0, 7) == "t", std::string(p->get(0, 8))});
}

// The verdicts of a package's attachment signatures as they stood on arrival: kept with the message.
std::string signaturesJson(const crypto::PackageReport& report) {
  json::array out;
  for (const auto& a : report.attachments) out.push_back(signatureJson(a.idnumber, a.verdict));
  return json::serialize(out);
}

// Bytes that no handler reads — unreadable, oversized, or of a transfer that could not be verified — are
// kept as evidence under an id of our own: whole, or (over the size limit) as their first kilobytes with
// the digest and size of the whole. Nothing is answered: there is no msg_id to answer.
Status keepUnread(store::PgConnection& db, const Peer& peer, const std::string& bytes, const Error& why) {
  const int code = static_cast<int>(sev::sevErrorOf(why).value_or(sev::SevError::Malformed));
  const bool cut = code == static_cast<int>(sev::SevError::TooLarge) && bytes.size() > kKeptOfOversized;
  auto r = db.exec(
      "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, bytes, sha256, status, error_code, last_error, "
      "size_bytes, bytes_cut) VALUES ($1, 'in', $2, -1, $3::bytea, $4, 'rejected', $5, $6, $7, $8)",
      {newUuid(), peer.org_id, byteaHex(cut ? std::string_view(bytes).substr(0, kKeptOfOversized) : bytes),
       sha256Hex(bytes), std::to_string(code), why.message, std::to_string(bytes.size()), cut ? "true" : "false"});
  return r ? Status() : Status(r.error());
}

}  // namespace vkhid::flows::inbound
