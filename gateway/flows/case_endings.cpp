// Cases that end before an answer: returned to the applicant (Law 393 art. 5), withdrawn by the applicant.
#include "gateway/flows/case_endings.hpp"

#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/kyiv_time.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/deadlines.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/participants.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

// Free text a person writes for the applicant: bounded, and clean of control characters.
Status checkText(const char* field, const std::string& value, std::size_t max, const char* what) {
  if (value.empty())
    return Error::invalid("case." + std::string(field) + "_required", std::string(field) + ": " + what);
  if (value.size() > max || !isCleanText(value)) {
    return Error::invalid(
        "case.bad_" + std::string(field),
        std::string(field) + ": expected up to " + std::to_string(max) + " bytes of text without control characters");
  }
  return {};
}

Error notNow(const store::EndingCaseRow& c, const domain::CaseTransition& t) {
  return Error{ErrorKind::Conflict, "case.not_now", "case " + c.ucc_number + ": " + t.why};
}

void countEnding(const char* how) {
  app::metrics().counter("vkhid_cases_ended_early_total", "Cases ended before an answer", {{"how", how}}).inc();
}

}  // namespace

Status CaseEndings::noticeToParticipant(store::PgConnection& db, const store::EndingCaseRow& c, const std::string& kind,
                                        const ReturnGround* ground) {
  auto p = store::participantParty(db, c.participant_org_id);
  if (!p) return p.error();
  if (!*p) return {};  // a participant since removed: nobody to tell
  sev::NoticeExpansion notice;
  notice.kind = kind;
  notice.case_id = c.id;
  if (ground != nullptr) {
    notice.reason = ground->reason;
    notice.article = ground->article;
  } else {
    notice.reason = "Заявник відкликав звернення";
  }
  const std::string msg_id = newUuid();
  sev::Envelope env{context_.ucc,
                    {c.participant_org_id, (*p)->name, (*p)->sys_id, (*p)->system_name},
                    msg_id,
                    formatIsoUtc(std::time(nullptr))};
  auto bytes = crypto::sealedPackage(sev::buildNotice(env, notice), context_.signer);
  if (!bytes) return bytes.error();
  auto m = store::MessageRecord::of(msg_id, "out", c.id, c.participant_org_id, 0);
  m.bytes = *bytes;
  m.sha256 = sha256Hex(*bytes);
  m.status = "queued";
  if (auto s = store::insertMessage(db, m, store::Write::Queued); !s) return s;
  return enqueueDelivery(db, c.participant_org_id, msg_id);
}

Status CaseEndings::carryOnGroup(store::PgConnection& db, const std::string& ended, const std::string& actor) {
  auto members = store::mergedMembers(db, ended);
  if (!members) return members.error();
  if (members->empty()) return {};
  const std::string next = members->front().id;
  auto facts = db.exec(
      "SELECT extract(epoch FROM received_at)::bigint AS received, urgency, "
      "coalesce((body->>'no_further_study')::boolean, false) AS no_further_study, priority, "
      "(SELECT ucc_number FROM cases WHERE id = vkhid_uuid($2)) AS ended_number FROM cases WHERE id = vkhid_uuid($1)",
      {next, ended});
  if (!facts) return facts.error();
  if (facts->rows() == 0) return {};
  const std::string ended_number(facts->get(0, "ended_number"));
  auto moved = store::transitionCase(
      db, {next, domain::CaseStatus::Merged, domain::CaseEvent::Unmerged, 0, actor,
           json::serialize(json::object{{"group_of", ended_number}, {"members", members->size() - 1}}),
           store::CaseFields{}});
  if (!moved) return moved.error();
  auto joined = store::regroupMembers(db, ended, next);
  if (!joined) return joined.error();
  const std::string urgency(facts->get(0, "urgency"));
  const auto kind = LegalClock::answerKind(domain::CaseKind::Appeal,
                                           urgency == "threat_to_life" ? domain::Urgency::ThreatToLife
                                           : urgency == "urgent"       ? domain::Urgency::Urgent
                                                                       : domain::Urgency::None,
                                           facts->getBool(0, "no_further_study"));
  if (auto s =
          planAnswerDeadline(db, context_.legal, next, kind,
                             domain::Instant{std::chrono::seconds(facts->getInt(0, "received"))}, actor, "unmerged");
      !s) {
    return s;
  }
  for (std::size_t i = 1; i < members->size(); ++i) {
    if (auto s = recordEvent(db, (*members)[i].id, actor, "regrouped", "merged", "merged",
                             json::serialize(json::object{{"into_case_id", next}, {"group_of", ended_number}}));
        !s) {
      return s;
    }
  }
  return queueRouting(db, next, facts->getBool(0, "priority"));
}

Status CaseEndings::applyReturn(store::PgConnection& db, const store::EndingCaseRow& c, const std::string& actor,
                                const ReturnGround& ground, const std::string& by_participant) {
  return endEarly(db, c, domain::CaseEvent::Returned, actor, ground, by_participant);
}

Status CaseEndings::endEarly(store::PgConnection& db, const store::EndingCaseRow& c, domain::CaseEvent event,
                             const std::string& actor, const ReturnGround& ground, const std::string& by_participant) {
  const auto t = domain::transition(c.status, event);
  if (!t.allowed) return notNow(c, t);
  const bool returned = event == domain::CaseEvent::Returned;
  const std::string name = domain::caseEventName(event);
  json::object detail{{"article", ground.article}, {"reason", ground.reason}};
  if (!c.repeat_of_ucc_number.empty()) detail["repeat_of"] = c.repeat_of_ucc_number;
  // A return is judged against the 10-day term from the receipt, by the clock timers see.
  if (returned && c.clock_from_epoch > 0) {
    if (auto due = context_.legal.due("appeal_return", domain::Instant{std::chrono::seconds(c.clock_from_epoch)})) {
      detail["return_due"] = domain::formatKyiv(due->at);
      detail["late"] = context_.legal.now() > due->at;
    }
  }
  const bool tell_participant = !c.participant_org_id.empty() && c.participant_org_id != by_participant;
  auto moved =
      store::transitionCase(db, {c.id, c.status, event, 0, actor, json::serialize(detail), store::CaseFields{}});
  if (!moved) return moved.error();
  if (auto s = cancelTimersOfSettledCase(db, c.id); !s) return s;
  if (tell_participant) {
    if (auto s = noticeToParticipant(db, c, returned ? "return" : name, &ground); !s) return s;
  }
  if (auto s = carryOnGroup(db, c.id, actor); !s) return s;
  return enqueueOutbox(db, bus::names::kNotifications, "applicant." + name, c.id + ":" + name,
                       json::serialize(json::object{{"case_id", c.id},
                                                    {"tracking_code", c.tracking_code},
                                                    {"article", ground.article},
                                                    {"reason", ground.reason}}));
}

Status CaseEndings::endByUcc(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                             const ReturnGround& ground, domain::CaseEvent event) {
  const bool returned = event == domain::CaseEvent::Returned;
  if (auto s = checkText("article", ground.article, 300, "the article of the law the decision rests on"); !s) return s;
  if (auto s = checkText("reason", ground.reason, 2000, "why, in words for the applicant"); !s) return s;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto c = store::lockCaseForEnding(db, store::CaseKey::Id, case_id);
    if (!c) return c.error();
    if (!*c) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    if (returned && (*c)->kind != "appeal") {
      return Error::invalid("case.return_not_for_kind",
                            "a " + (*c)->kind + " is not returned: only an appeal (Law 393 art. 5)");
    }
    return endEarly(db, **c, event, actor, ground, {});
  });
  if (done) countEnding(returned ? "returned" : "not_considered");
  return done;
}

Status CaseEndings::notConsidered(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                                  const ReturnGround& ground) {
  return endByUcc(db, case_id, actor, ground, domain::CaseEvent::NotConsidered);
}

Status CaseEndings::returnByUcc(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                                const ReturnGround& ground) {
  return endByUcc(db, case_id, actor, ground, domain::CaseEvent::Returned);
}

Result<Withdrawal> CaseEndings::withdraw(store::PgConnection& db, const std::string& tracking_code,
                                         const std::string& actor, const std::string& reason) {
  if (!reason.empty()) {
    if (auto s = checkText("reason", reason, 2000, ""); !s) return s.error();
  }
  Withdrawal out;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto c = store::lockCaseForEnding(db, store::CaseKey::TrackingCode, tracking_code);
    if (!c) return c.error();
    if (!*c) return Error{ErrorKind::NotFound, "case.unknown", "no case has this tracking code"};
    out.case_id = (*c)->id;
    out.ucc_number = (*c)->ucc_number;
    if ((*c)->status == domain::CaseStatus::Withdrawn) {
      out.repeated = true;
      return {};
    }
    const auto t = domain::transition((*c)->status, domain::CaseEvent::Withdrawn);
    if (!t.allowed) return notNow(**c, t);
    json::object detail;
    if (!reason.empty()) detail["reason"] = reason;
    auto moved = store::transitionCase(db, {(*c)->id, (*c)->status, domain::CaseEvent::Withdrawn, 0, actor,
                                            json::serialize(detail), store::CaseFields{}});
    if (!moved) return moved.error();
    if (auto s = cancelTimersOfSettledCase(db, (*c)->id); !s) return s;
    if (!(*c)->participant_org_id.empty()) {
      if (auto s = noticeToParticipant(db, **c, "withdrawal", nullptr); !s) return s;
    }
    if (auto s = carryOnGroup(db, (*c)->id, actor); !s) return s;
    return enqueueOutbox(db, bus::names::kNotifications, "applicant.withdrawn", (*c)->id + ":withdrawn",
                         json::serialize(json::object{{"case_id", (*c)->id}, {"tracking_code", (*c)->tracking_code}}));
  });
  if (!done) return done.error();
  if (!out.repeated) countEnding("withdrawn");
  return out;
}

// The intake API's withdrawal (declared with Intake in flows/intake.hpp): the request read and answered.
IntakeOutcome Intake::withdraw(const std::string& client_id, const std::string& body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  const json::object* o = !ec && doc.is_object() ? &doc.as_object() : nullptr;
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (o == nullptr) return std::nullopt;
    auto* v = o->if_contains(key);
    if (v == nullptr || v->is_null()) return std::string();
    if (!v->is_string()) return std::nullopt;
    return std::string(v->as_string());
  };
  auto code = text("tracking_code");
  auto reason = text("reason");
  std::vector<FieldError> errors;
  if (o == nullptr) {
    errors.push_back({"", "a JSON object with tracking_code"});
  } else {
    if (!code || code->empty() || code->size() > 40)
      errors.push_back({"/tracking_code", "the applicant's tracking code"});
    if (!reason || reason->size() > 2000 || !isCleanText(*reason)) {
      errors.push_back({"/reason", "text of up to 2000 bytes without control characters (optional)"});
    }
  }
  if (!errors.empty())
    return IntakeOutcome::refusal(IntakeResult::invalid, "Invalid withdrawal", "a wrong field", std::move(errors));
  const std::string normal = normalTrackingCode(*code);
  auto db = context_.pool.acquire();
  if (!db)
    return IntakeOutcome::refusal(IntakeResult::unavailable, "Unavailable", "the database is not reachable; try again");
  auto w = CaseEndings(context_).withdraw(**db, normal, "client:" + client_id, *reason);
  if (!w) {
    if (w.error().kind == ErrorKind::NotFound) {
      return IntakeOutcome::refusal(IntakeResult::not_found, "Not found", "no case has this tracking code");
    }
    if (w.error().kind == ErrorKind::Conflict) {
      return IntakeOutcome::refusal(IntakeResult::conflict, "Not now", w.error().message);
    }
    log::error("withdrawal failed", {{"code", w.error().code}, {"error", w.error().message}});
    return IntakeOutcome::refusal(IntakeResult::unavailable, "Unavailable",
                                  "the withdrawal could not be recorded now; try again");
  }
  if (!w->repeated) log::info("case withdrawn by the applicant", {{"case_id", w->case_id}});
  IntakeOutcome out;
  out.body = json::serialize(json::object{
      {"tracking_code", normal}, {"ucc_number", w->ucc_number}, {"status", "withdrawn"}, {"repeated", w->repeated}});
  return out;
}

}  // namespace vkhid::flows
