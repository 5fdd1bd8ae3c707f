// The inbound flow's parts (flows/inbound.cpp drives them): who a transport identity is, our receipts,
// and one handler per kind of message — receipt, notice, answer, the participant's own appeal — each
// applying an Arrival inside the caller's transaction.
#include "gateway/flows/inbound_apply.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/calendar.hpp"
#include "gateway/domain/case_status.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_endings.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/deadlines.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/inbound_decisions.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/receipt_decision.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/flows/signature_json.hpp"
#include "gateway/sev/appeal_reader.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::flows::inbound {

namespace json = boost::json;

void countInbound(const std::string& outcome) {
  app::metrics().counter("vkhid_inbound_total", "Packages received from participants", {{"outcome", outcome}}).inc();
}

void countInboundBatch(long long exchanges) {
  app::metrics()
      .counter("vkhid_inbound_batches_total",
               "Batches of arrivals applied in one transaction, by their exchanges with PostgreSQL",
               {{"exchanges", std::to_string(std::min(exchanges, 9LL))}})
      .inc();
}

Result<std::string> recordReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer,
                                  const std::string& their_msg_id, sev::AckType type, const std::string& case_id,
                                  std::optional<sev::Rejection> rejection, std::optional<sev::RegNumber> registration) {
  std::string msg_id = newUuid();
  sev::Envelope env{
      ctx.ucc, {peer.org_id, peer.name, peer.sys_id, peer.system}, msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildReceipt(env, their_msg_id, type, registration, rejection);
  auto bytes = crypto::sealedPackage(header, ctx.signer);
  if (!bytes) return bytes.error();
  auto receipt = store::MessageRecord::of(msg_id, "out", case_id, peer.org_id, 0);
  receipt.ack_type = static_cast<int>(type);
  receipt.ref_msg_id = their_msg_id;
  receipt.bytes = *bytes;
  receipt.sha256 = sha256Hex(*bytes);
  receipt.status = "queued";
  if (rejection) receipt.error_code = rejection->code;
  if (auto s = store::insertMessage(db, receipt, store::Write::Queued); !s) return s.error();
  return msg_id;
}

Status queueReceipt(ExchangeContext& ctx, store::PgConnection& db, const Peer& peer, const std::string& their_msg_id,
                    sev::AckType type, const std::string& case_id, std::optional<sev::Rejection> rejection,
                    std::optional<sev::RegNumber> registration) {
  auto msg_id = recordReceipt(ctx, db, peer, their_msg_id, type, case_id, rejection, registration);
  if (!msg_id) return msg_id.error();
  return enqueueDelivery(db, peer.org_id, *msg_id);
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

// Not in the participant's competence: the case leaves it for good. To the competent body when that is
// an active participant that has not declined it already, else to the UCC review queue; the applicant
// is told either way.
Status forwardCase(Arrival& a, domain::CaseStatus from, const std::string& competent) {
  auto& db = a.db;
  const std::string& case_id = a.case_id;
  // A conformance run's test case is never routed on: the forward is recorded, and stops there.
  auto c = store::readCaseForForward(db, case_id, competent);
  if (!c) return c.error();
  if (!*c) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
  const bool test_case = (*c)->test_case;
  bool known = (*c)->competent_takes_it && competent != a.peer.org_id;
  json::object detail{
      {"msg_id", a.h.msg_id}, {"from_participant", a.peer.org_id}, {"to", known ? "participant" : "review"}};
  if (!competent.empty()) detail["competent_org_id"] = competent;
  if ((*c)->competent_is_complained_of) detail["refused"] = "the body the complaint is about (Law 393 art. 7)";
  // Judged against the law's term for forwarding, counted from when the participant took the case.
  auto start = store::forwardTermStart(db, case_id);
  if (!start) return start.error();
  std::optional<ForwardVerdict> term;
  if (*start) {
    term = judgeForward(a.ctx.legal, (*start)->kind, domain::Instant{std::chrono::seconds((*start)->from_epoch)},
                        a.ctx.legal.now());
  }
  if (term) {
    detail["forward_term"] = term->term_kind;
    detail["forward_due"] = domain::formatKyiv(term->due);
    detail["term_from"] = (*start)->from_event;
    detail["late"] = term->late;
  }
  auto moved = store::transitionCase(
      db, {case_id, from, domain::CaseEvent::Forwarded, 0, a.actor(), json::serialize(detail),
           store::CaseFields::leaveParticipant(a.peer.org_id, known ? competent : std::string())});
  if (!moved) return moved.error();
  json::object notice{{"case_id", case_id}, {"tracking_code", (*c)->tracking_code}};
  if (auto s = enqueueOutbox(db, bus::names::kNotifications, "applicant.forwarded",
                             case_id + ":forwarded:" + a.h.msg_id, json::serialize(notice));
      !s) {
    return s;
  }
  a.effect = known ? "forwarded" : "forwarded_to_review";
  if (term && term->late) {
    // Told to the UCC, which counts it against the participant in the misrouting figures.
    if (auto s = alertOf(db, "case.forward_late", "forward_late:" + a.h.msg_id,
                         json::object{{"case_id", case_id},
                                      {"org_id", a.peer.org_id},
                                      {"forward_due", domain::formatKyiv(term->due)},
                                      {"notify", json::array{"ucc:coordinator"}}});
        !s) {
      return s;
    }
  }
  if (test_case) return {};
  // A participant is re-routed to; anyone else means a person decides.
  return enqueueOutbox(db, bus::names::kEvents, known ? "case.forwarded" : "case.unrouted", case_id + ":" + a.h.msg_id,
                       json::serialize(json::object{{"case_id", case_id}}));
}

// A receipt that would change what the case has recorded is never applied: what the case has stands.
// It is kept as evidence (not as a receipt), shown in the case's history, and told to the UCC.
Status keepConflictingReceipt(Arrival& a, const std::string& from, json::object detail, const std::string& why) {
  a.effect = "receipt_conflict";
  a.record_receipt = false;
  detail["conflict"] = why;
  if (auto s = recordEvent(a.db, a.case_id, a.actor(), "receipt_conflict", from, from, json::serialize(detail)); !s) {
    return s;
  }
  return alertOf(a.db, "case.receipt_conflict", "receipt_conflict:" + a.h.msg_id,
                 json::object{{"case_id", a.case_id},
                              {"org_id", a.peer.org_id},
                              {"msg_id", a.h.msg_id},
                              {"ack_type", a.h.acknowledgement->ack_type},
                              {"conflict", why}});
}

}  // namespace

std::optional<std::string> registrationDay(const sev::RegNumber& r) {
  if (auto day = domain::parseXsDate(r.regdate)) return domain::formatDate(*day);
  return std::nullopt;
}

// A receipt (ack_type 1–5) for one of our packages: what it does is decided first (decideReceipt), then
// written.
Status applyReceipt(Arrival& a) {
  using Kind = ReceiptDecision::Kind;
  const auto& ack = *a.h.acknowledgement;
  a.ref_msg_id = ack.msg_id;
  store::PgReceiptRepository rows(a.rows);
  auto decided = decideReceipt(rows, a.peer.org_id, a.h);
  if (!decided) return decided.error();
  const auto& d = *decided;
  if (d.kind == Kind::Refuse) {
    a.mismatch = d.refusal;
    return {};
  }
  a.case_id = d.case_id;
  a.effect = "receipt";
  if (d.kind == Kind::OfNoCase || d.kind == Kind::UnknownCase) return {};
  const std::string from = domain::caseStatusName(d.from);
  json::object detail{{"msg_id", a.h.msg_id}, {"ack_type", ack.ack_type}};
  if (d.kind == Kind::MovedOn) {
    a.effect = "late_receipt";
    return recordEvent(a.db, a.case_id, a.actor(), "late_receipt", from, from, json::serialize(detail));
  }
  if (!d.reg_number.empty()) detail["participant_reg_number"] = d.reg_number;
  if (ack.ack_type == 4 && !ack.results.empty()) detail["error_code"] = ack.results.front().errorcode;
  if (d.kind == Kind::Conflict || d.kind == Kind::Forward) a.rows.forgetCases();  // what they change, read again
  switch (d.kind) {
    case Kind::Conflict: return keepConflictingReceipt(a, from, std::move(detail), d.conflict);
    case Kind::Late:
      a.effect = "late_receipt";
      return recordEvent(a.db, a.case_id, a.actor(), "late_receipt", from, from, json::serialize(detail));
    case Kind::Forward: return forwardCase(a, d.from, d.competent_org_id);
    default: break;
  }
  std::optional<std::string> reg_no, reg_date, rej_code, rej_text;
  if (!d.reg_number.empty()) {
    reg_no = d.reg_number;
    reg_date = registrationDay(*ack.reg_number);
  }
  if (ack.ack_type == 4 && !ack.results.empty()) {
    rej_code = std::to_string(ack.results.front().errorcode);
    rej_text = ack.results.front().errortext;
  }
  auto moved = store::transitionCase(
      a.db, {a.case_id, d.from, domain::CaseEvent::Receipt, ack.ack_type, a.actor(), json::serialize(detail),
             store::CaseFields::recordReceipt(reg_no, reg_date, rej_code, rej_text)});
  if (!moved) return moved.error();
  a.rows.receiptApplied(a.case_id, *moved, reg_no);
  // The package's transport watches find this receipt when they judge it: nothing to cancel.
  return {};
}

// The participant finds the appeal needs no further study: it is answered without delay, within 15 days of
// its receipt (Law 393 art. 20). The term only ever shortens: one already shorter (an urgent appeal's)
// stands, and the notice is recorded.
Status applyNoFurtherStudy(Arrival& a) {
  auto term = store::readCaseTerm(a.db, a.case_id);
  if (!term) return term.error();
  if (!*term) return Error{ErrorKind::NotFound, "case.unknown", "no case " + a.case_id};
  const auto& c = **term;
  if (c.kind != "appeal") {
    a.mismatch = sev::sevError(sev::SevError::BadAttribute,
                               "Notice/@kind: no_further_study is for an appeal (Law 393 art. 20), not a " + c.kind);
    return {};
  }
  a.effect = "no_further_study";
  const domain::Instant from{std::chrono::seconds(c.clock_from_epoch > 0 ? c.clock_from_epoch : std::time(nullptr))};
  auto due = a.ctx.legal.due("appeal_simple", from);
  if (!due) return Error::invalid("deadline.unknown_kind", "no deadline rule for 'appeal_simple'");
  if (c.due_epoch > 0 && due->at.time_since_epoch().count() >= c.due_epoch) {
    const std::string status = domain::caseStatusName(c.status);
    return recordEvent(
        a.db, a.case_id, a.actor(), "no_further_study", status, status,
        json::serialize(json::object{{"due", domain::formatKyiv(domain::Instant{std::chrono::seconds(c.due_epoch)})},
                                     {"changed", false}}));
  }
  return planAnswerDeadline(a.db, a.ctx.legal, a.case_id, "appeal_simple", from, a.actor(), "no_further_study");
}

// Our notice (the project's expansion): a forward to the competent body, or an extension of the term.
Status applyNotice(Arrival& a) {
  const auto& n = *a.h.expansion->notice;
  a.ref_msg_id = n.ref_msg_id.value_or("");
  auto decided = decideNotice(a.rows, a.peer.org_id, n);
  if (!decided) return decided.error();
  const auto& d = *decided;
  a.case_id = d.case_id;
  a.effect = "notice";
  switch (d.kind) {
    case NoticeDecision::Kind::Refuse: a.mismatch = d.refusal; return {};
    case NoticeDecision::Kind::Forward: return forwardCase(a, d.from, d.competent_org_id);
    case NoticeDecision::Kind::Return: {
      auto c = store::lockCaseForEnding(a.db, store::CaseKey::Id, d.case_id);
      if (!c) return c.error();
      if (!*c) return Error{ErrorKind::NotFound, "case.unknown", "no case " + d.case_id};
      a.effect = "returned";
      return CaseEndings(a.ctx).applyReturn(a.db, **c, a.actor(), {d.article, d.reason}, a.peer.org_id);
    }
    case NoticeDecision::Kind::NoFurtherStudy: return applyNoFurtherStudy(a);
    case NoticeDecision::Kind::Extend: break;
  }
  // An extension: within the legal cap, or refused with its code and the case left as it was.
  auto e = extendAnswerDeadline(a.db, a.ctx.legal, a.case_id, d.new_due, a.actor());
  if (!e) {
    if (!sev::sevErrorOf(e.error())) return e.error();
    a.mismatch = e.error();
    return {};
  }
  a.effect = *e == Extension::Extended ? "extension" : "extension_after_answer";
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
  auto c = a.rows.lockReplyCase(referred_number, a.peer.org_id);
  if (!c) return c.error();
  if (!*c) {
    a.mismatch = sev::sevError(sev::SevError::ReferenceMismatch, "Referred RegNumber " + referred_number);
    return {};
  }
  a.case_id = (*c)->id;
  const auto current = (*c)->status;
  const std::string from = domain::caseStatusName(current);
  json::object detail{{"msg_id", a.h.msg_id}, {"participant_reg_number", doc.reg_number.value}};
  if (domain::replyEffect(current, (*c)->answered) == domain::ReplyEffect::FurtherDocument) {
    // Kept as a further document of the case (SEV reply additions), shown in its history, and marked
    // for a person's review: the answer the applicant has, and its number, stand.
    a.effect = "further_reply";
    if (auto s = store::markForReviewOnce(a.db, a.case_id,
                                          "a further reply came after the case was answered (" + a.h.msg_id + ")");
        !s) {
      return s;
    }
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
  if (auto s =
          enqueueOutbox(a.db, bus::names::kNotifications, "applicant.answered", a.case_id + ":answered",
                        json::serialize(json::object{{"case_id", a.case_id},
                                                     {"tracking_code", (*c)->tracking_code},
                                                     {"rating", "/api/v1/track/" + (*c)->tracking_code + "/rating"}}));
      !s) {
    return s;
  }
  // A mass appeal is answered once: every member's applicant is told, each by their own tracking code.
  for (const auto& m : (*c)->members) {
    json::object answered_with{{"answer_msg_id", a.h.msg_id}, {"case_id", a.case_id}};
    if (auto s = recordEvent(a.db, m.id, a.actor(), "answered_with_group", "merged", "merged",
                             json::serialize(answered_with));
        !s) {
      return s;
    }
    if (auto s =
            enqueueOutbox(a.db, bus::names::kNotifications, "applicant.answered", m.id + ":answered",
                          json::serialize(json::object{{"case_id", m.id},
                                                       {"tracking_code", m.tracking_code},
                                                       {"answered_with", a.case_id},
                                                       {"rating", "/api/v1/track/" + m.tracking_code + "/rating"}}));
        !s) {
      return s;
    }
  }
  return {};
}

// An appeal that reached the participant's own contact centre: a new UCC case, routed like any other.
Status applyOwnAppeal(Arrival& a, const std::string& sha) {
  auto kase = sev::caseFromAppealPackage(a.h);
  if (!kase) {
    a.mismatch = kase.error();
    return {};
  }
  kase->channel = a.actor();
  auto reg = registerCase(a.db, a.ctx, *kase, caseToJson(*kase), a.actor(), a.h.msg_id, sha, a.actor());
  if (!reg) return reg.error();
  if (auto s = queueRouting(a.db, reg->case_id, kase->priority); !s) return s;
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
  auto kept = store::MessageRecord::of(newUuid(), "in", "", peer.org_id, -1);
  kept.bytes = cut ? std::string_view(bytes).substr(0, kKeptOfOversized) : std::string_view(bytes);
  kept.sha256 = sha256Hex(bytes);
  kept.status = "rejected";
  kept.error_code = code;
  kept.last_error = why.message;
  kept.size_bytes = static_cast<long long>(bytes.size());
  kept.bytes_cut = cut;
  return store::insertMessage(db, kept);
}

}  // namespace vkhid::flows::inbound
