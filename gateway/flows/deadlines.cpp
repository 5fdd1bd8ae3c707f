#include "gateway/flows/deadlines.hpp"

#include <boost/json.hpp>
#include <optional>

#include "gateway/app/legal_config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/errors.hpp"
#include "gateway/store/pg_pool.hpp"
#include "gateway/store/timers.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

domain::Instant realNow() { return std::chrono::time_point_cast<seconds>(std::chrono::system_clock::now()); }

std::string epoch(domain::Instant t) { return std::to_string(t.time_since_epoch().count()); }

Status insertTimer(store::PgConnection& db, const std::string& case_id, const char* kind, domain::Instant at,
                   const std::string& msg_id = {}) {
  return store::planTimer(db, case_id, kind, at.time_since_epoch().count(), msg_id);
}

// The answer term's last two steps, from the term itself: a warning a day before it, overdue just after.
constexpr seconds kLastWarningBefore = std::chrono::hours(24);
constexpr seconds kOverdueAfter{1};

// The step a fired step of the answer term plans next (the first warning's date is the calendar's, so it
// is only ever the first step).
struct AnswerStep {
  const char* kind;
  seconds from_due;
};
std::optional<AnswerStep> nextAnswerStep(const std::string& fired) {
  if (fired == "warning_3wd") return AnswerStep{"warning_1d", -kLastWarningBefore};
  if (fired == "warning_1d") return AnswerStep{"overdue", kOverdueAfter};
  return std::nullopt;
}

// The receipts (SEV ack_type, an int[] literal) that meet a transport watch of `kind`: any for the
// delivery receipt, a registration (3) or a rejection (4) for the registration.
const char* receiptKindsMeeting(std::string_view kind) { return kind == "delivery_receipt" ? "{1,2,3,4}" : "{3,4}"; }

}  // namespace

// The same statuses as the database's vkhid_case_settled (migration 0030).
bool answerSettled(const std::string& status) {
  return status == "answered" || status == "closed" || status == "withdrawn" || status == "not_considered" ||
         status == "merged" || status == "returned";
}

bool timerIsMoot(const store::DueTimerRow& t, bool receipt_came) {
  if (t.kind == "delivery_receipt" || t.kind == "registration") {
    return receipt_came || t.sent_to != t.participant_org_id || answerSettled(t.case_status);
  }
  return answerSettled(t.case_status);
}

Result<LegalClock> LegalClock::load(const app::DeadlineSettings& settings) {
  auto calendar = app::loadCalendar(settings.calendar_file);
  if (!calendar) return calendar.error();
  auto rules = app::loadDeadlineRules(settings.rules_file);
  if (!rules) return rules.error();
  return LegalClock(domain::Calendar(std::move(calendar).value()), std::move(rules).value(), settings.clock_offset_s,
                    settings.delivery_receipt_within_s);
}

std::string LegalClock::answerKind(domain::CaseKind kind, domain::Urgency urgency, bool no_further_study) {
  switch (kind) {
    case domain::CaseKind::Appeal: return no_further_study ? "appeal_simple" : "appeal";
    case domain::CaseKind::InfoRequest:
      return urgency == domain::Urgency::None ? "info_request" : "info_request_urgent";
    case domain::CaseKind::ViolenceReport:
      return urgency == domain::Urgency::ThreatToLife ? "violence_report_threat" : "violence_report";
  }
  return "appeal";
}

std::optional<domain::Due> LegalClock::due(const std::string& kind, domain::Instant from) const {
  const auto* rule = rules_.find(kind);
  if (rule == nullptr) return std::nullopt;
  return domain::computeDue(*rule, from, calendar_, rules_.policy);
}

domain::Instant LegalClock::now() const { return realNow() + seconds(offset_s_); }

LegalClock LegalClock::loadOrShipped(const app::DeadlineSettings& settings) {
  auto loaded = load(settings);
  if (loaded) return std::move(loaded).value();
  log::error("deadline configuration refused; using the shipped calendar and rules",
             {{"error", loaded.error().message}});
  app::DeadlineSettings shipped = settings;
  shipped.calendar_file.clear();
  shipped.rules_file.clear();
  return std::move(load(shipped)).value();
}

namespace {

// `term_written`: the case's row carries the term already and its `registered` event records it (a new
// case's, planRegisteredDeadline), and `step_written`: its open row the first step.
Status applyAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                           const std::string& kind, const domain::Due* due, const domain::DeadlineRule* rule,
                           domain::Instant from, const std::string& actor, const std::string& reason,
                           bool term_written = false, bool step_written = false) {
  if (!term_written) {
    if (auto s = store::setAnswerTerm(db, case_id, kind, due->at.time_since_epoch().count(), rule->citation,
                                      from.time_since_epoch().count());
        !s) {
      return s;
    }
  }
  if (reason != "registered") {  // a new case has no earlier plan
    if (auto s = store::cancelAnswerTimers(db, case_id); !s) return s;
  }
  // One step at a time: the first still ahead; each step, when it fires, plans the next (fireTimer).
  // A new case's was written with its open row (store::insertRegisteredCase) unless that case is not open.
  if (!step_written) {
    const AnswerStepPlan first = firstAnswerStep(clock, *due);
    if (auto s = insertTimer(db, case_id, first.kind, first.at); !s) return s;
  }
  // A case the intake registers has its term in its row and recorded with its registration (the
  // `registered` event's `deadline`).
  if (term_written) return {};
  json::object detail{{"kind", kind}, {"due", domain::formatKyiv(due->at)}, {"reason", reason}};
  std::string status = "registered";  // a new case's, in the transaction that registers it
  if (reason != "registered") {       // the caller holds the case's row lock
    auto st = store::lockCaseStatus(db, case_id);
    if (!st) return st.error();
    if (!*st) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    status = domain::caseStatusName(**st);
  }
  return recordEvent(db, case_id, actor, reason == "extended" ? "extended" : "deadline_set", status, status,
                     json::serialize(detail));
}

}  // namespace

Status planAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                          const std::string& kind, domain::Instant from, const std::string& actor,
                          const std::string& reason) {
  auto term = answerTerm(clock, kind, from);
  if (!term) return term.error();
  return applyAnswerDeadline(db, clock, case_id, kind, &term->due, clock.rules().find(kind), from, actor, reason);
}

Result<AnswerTerm> answerTerm(const LegalClock& clock, const std::string& kind, domain::Instant from) {
  auto due = clock.due(kind, from);
  if (!due) return Error::invalid("deadline.unknown_kind", "no deadline rule for '" + kind + "'");
  return AnswerTerm{kind, *due, clock.rules().find(kind)->citation, from};
}

Status planRegisteredDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                              const AnswerTerm& term, const std::string& actor, bool step_written) {
  return applyAnswerDeadline(db, clock, case_id, term.kind, &term.due, clock.rules().find(term.kind), term.from, actor,
                             "registered", true, step_written);
}

AnswerStepPlan firstAnswerStep(const LegalClock& clock, const domain::Due& due) {
  const domain::Instant now = realNow();
  const domain::Instant warn3 = domain::kyivStartOfDay(clock.calendar().nthWorkingDayBefore(due.date, 3));
  const domain::Instant warn1 = due.at - kLastWarningBefore;
  if (warn3 > now && warn3 < warn1) return {"warning_3wd", warn3};
  if (warn1 > now) return {"warning_1d", warn1};
  return {"overdue", due.at + kOverdueAfter};
}

ExtensionVerdict judgeExtension(const LegalClock& clock, const store::CaseTermRow& c, domain::Instant new_due,
                                domain::Instant now) {
  using Kind = ExtensionVerdict::Kind;
  auto refuse = [](Error e) { return ExtensionVerdict{Kind::Refuse, "", std::move(e)}; };
  const std::string& kind = c.kind;
  const domain::Instant from{seconds(c.clock_from_epoch)};
  const std::string cap_kind = kind == "appeal"         ? "appeal_extended"
                               : kind == "info_request" ? "info_request_extended"
                                                        : "";
  if (cap_kind.empty())
    return refuse(sev::sevError(sev::SevError::ExtensionNotAllowed, "a " + kind + " is not extended"));
  if (kind == "info_request") {
    auto window = clock.due("info_request_extension_notice", from);
    if (window && now > window->at) {
      return refuse(sev::sevError(sev::SevError::ExtensionNoticeLate,
                                  "the notice window closed at " + domain::formatKyiv(window->at)));
    }
  }
  // An extension extends: a date not after the term in force would shorten it (a participant that can
  // answer sooner simply answers).
  const domain::Instant current{seconds(c.due_epoch)};
  if (new_due <= current) {
    return refuse(sev::sevError(
        sev::SevError::ExtensionNotAllowed,
        "new_due " + domain::formatKyiv(new_due) + " is not after the term in force, " + domain::formatKyiv(current)));
  }
  auto cap = clock.due(cap_kind, from);
  if (!cap) return refuse(Error::invalid("deadline.unknown_kind", "no deadline rule for '" + cap_kind + "'"));
  if (new_due > cap->at) {
    return refuse(
        sev::sevError(sev::SevError::ExtensionBeyondCap,
                      "new_due " + domain::formatKyiv(new_due) + " is after the cap " + domain::formatKyiv(cap->at)));
  }
  return {answerSettled(domain::caseStatusName(c.status)) ? Kind::AfterAnswer : Kind::Extend, cap_kind, std::nullopt};
}

Result<Extension> extendAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                                       domain::Instant new_due, const std::string& actor) {
  auto term = store::readCaseTerm(db, case_id);
  if (!term) return term.error();
  if (!*term) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
  const auto& c = **term;
  const std::string status = domain::caseStatusName(c.status);
  const auto verdict = judgeExtension(clock, c, new_due, realNow());
  if (verdict.kind == ExtensionVerdict::Kind::Refuse) return *verdict.refusal;
  const domain::Instant from{seconds(c.clock_from_epoch)};
  const domain::Instant current{seconds(c.due_epoch)};
  const std::string& cap_kind = verdict.cap_kind;
  if (verdict.kind == ExtensionVerdict::Kind::AfterAnswer) {
    json::object detail{{"new_due", domain::formatKyiv(new_due)}, {"due", domain::formatKyiv(current)}};
    if (auto s = recordEvent(db, case_id, actor, "extension_after_answer", status, status, json::serialize(detail));
        !s) {
      return s.error();
    }
    return Extension::AfterAnswer;
  }
  domain::Due due{new_due, domain::kyivDate(new_due)};
  if (auto s = applyAnswerDeadline(db, clock, case_id, cap_kind, &due, clock.rules().find(cap_kind), from, actor,
                                   "extended");
      !s) {
    return s.error();
  }
  if (auto s = store::markExtended(db, case_id); !s) return s.error();
  if (auto s = enqueueOutbox(
          db, bus::names::kNotifications, "applicant.extended", case_id + ":extended:" + epoch(new_due),
          json::serialize(json::object{
              {"case_id", case_id}, {"tracking_code", c.tracking_code}, {"due", domain::formatKyiv(new_due)}}));
      !s) {
    return s.error();
  }
  return Extension::Extended;
}

std::optional<ForwardVerdict> judgeForward(const LegalClock& clock, const std::string& case_kind, domain::Instant from,
                                           domain::Instant now) {
  const std::string term = case_kind == "appeal"         ? "appeal_forward"
                           : case_kind == "info_request" ? "info_request_forward"
                                                         : "";
  if (term.empty()) return std::nullopt;
  auto due = clock.due(term, from);
  if (!due) return std::nullopt;
  return ForwardVerdict{term, due->at, now > due->at};
}

domain::Instant registrationDeadline(const domain::Calendar& calendar, domain::Instant queued) {
  return domain::kyivEndOfDay(calendar.nthWorkingDayAfter(domain::kyivDate(queued), 1));
}

domain::Instant registrationWatchCutoff(const domain::Calendar& calendar, domain::Instant now) {
  // The latest day whose packages' registration deadline has passed; the deadline only grows with the
  // day queued, so every package queued up to the end of that day is due and none after it.
  domain::Date day = domain::kyivDate(now);
  for (int back = 0; back < 400; ++back, day = domain::addDays(day, -1)) {
    if (registrationDeadline(calendar, domain::kyivStartOfDay(day)) <= now) {
      return domain::kyivStartOfDay(domain::addDays(day, 1));
    }
  }
  return domain::kyivStartOfDay(day);
}

Status cancelTimersOfSettledCase(store::PgConnection& db, const std::string& case_id) {
  return store::cancelCaseTimers(db, case_id);
}

namespace {

// A timer fired: a case event, an escalation to whoever must act, and for overdue the case's flag and
// the applicant's notification. `next` is the answer term's next step to plan, if any.
Status escalate(store::PgConnection& db, const store::DueTimerRow& t, const std::optional<AnswerStep>& next) {
  json::object detail{{"timer", t.kind}};
  if (!t.due_at.empty()) detail["due_at"] = t.due_at;
  if (!t.msg_id.empty()) detail["msg_id"] = t.msg_id;
  if (auto s = recordEvent(db, t.case_id, "gateway", "timer_" + t.kind, t.case_status, t.case_status,
                           json::serialize(detail));
      !s) {
    return s;
  }
  // Who must act: the participant's contacts (when the case is with one) and the UCC coordinator.
  json::array notify;
  if (!t.participant_org_id.empty()) notify.push_back(json::string("participant:" + t.participant_org_id));
  notify.push_back("ucc:coordinator");
  json::object alert{
      {"case_id", t.case_id}, {"timer", t.kind}, {"status", t.case_status}, {"notify", std::move(notify)}};
  if (!t.participant_org_id.empty()) alert["participant_org_id"] = t.participant_org_id;
  if (!t.due_at.empty()) alert["due_at"] = t.due_at;
  if (auto s = enqueueOutbox(db, bus::names::kAlerts, "deadline." + t.kind, "timer:" + t.id, json::serialize(alert));
      !s) {
    return s;
  }
  if (next) return store::planNextAnswerTimer(db, t.case_id, next->kind, next->from_due.count());
  if (t.kind != "overdue") return {};
  if (auto s = store::markOverdue(db, t.case_id); !s) return s;
  return enqueueOutbox(db, bus::names::kNotifications, "applicant.overdue", t.case_id + ":overdue:" + t.id,
                       json::serialize(json::object{{"case_id", t.case_id}, {"tracking_code", t.tracking_code}}));
}

// A due timer, claimed: judged moot, or fired (escalate).
Status fireTimer(store::PgConnection& db, const store::DueTimerRow& t, std::string& outcome) {
  bool receipt_came = false;
  if (t.kind == "delivery_receipt" || t.kind == "registration") {  // planned before migration 0036
    auto r = store::receiptCame(db, t.case_id, t.msg_id, receiptKindsMeeting(t.kind));
    if (!r) return r.error();
    receipt_came = *r;
  }
  const bool moot = timerIsMoot(t, receipt_came);
  outcome = moot ? "moot" : "fired";
  if (auto s = store::closeTimer(db, t, outcome); !s || moot) return s;
  // The step after this one is planned below, from the case's term as it stands once the case is locked:
  // an answer or an extension that came while this timer was claimed has committed by then (the answer
  // settled the case: no next step; the extension's plan is seen, and this one adds none), or waits and
  // then cancels the step planned here with the rest of the old plan.
  auto next = nextAnswerStep(t.kind);
  if (next) {
    auto c = store::lockCaseStatus(db, t.case_id);
    if (!c) return c.error();
    if (!*c || answerSettled(domain::caseStatusName(**c))) next.reset();
  }
  return escalate(db, t, next);
}

}  // namespace

Result<int> fireDueTimers(store::PgConnection& db, const LegalClock& clock, int limit) {
  // The open cases' first steps that have come due become timer rows first (migration 0038): a
  // statement that writes nothing when none has.
  if (auto p = store::promoteDueAnswerSteps(db, clock.offsetSeconds(), limit); !p) return p.error();
  int handled = 0;
  for (; handled < limit; ++handled) {
    std::string kind, outcome;
    Status done = store::inTransaction(db, [&]() -> Status {
      auto t = store::claimDueTimer(db, clock.offsetSeconds());
      if (!t) return t.error();
      if (!*t) return {};
      kind = (*t)->kind;
      return fireTimer(db, **t, outcome);
    });
    if (!done) return done.error();
    if (kind.empty()) break;  // nothing due
    app::metrics()
        .counter("vkhid_timers_total", "Deadline and transport timers handled", {{"kind", kind}, {"outcome", outcome}})
        .inc();
    if (outcome == "fired") log::info("timer fired", {{"timer", kind}});
  }
  return handled;
}

Result<int> judgeTransportWatches(store::PgConnection& db, const LegalClock& clock, int limit) {
  const domain::Instant now = clock.now();
  // Read once for both watches, before either looks: it only holds more back the later it is read.
  auto running = store::oldestRunningTransaction(db);
  if (!running) return running.error();
  int judged = 0;
  for (const char* kind : {"delivery_receipt", "registration"}) {
    const bool delivery = std::string_view(kind) == "delivery_receipt";
    const domain::Instant before =
        delivery ? now - seconds(clock.deliveryReceiptWithin()) : registrationWatchCutoff(clock.calendar(), now);
    int fired = 0, moot = 0;
    Status done = store::inTransaction(db, [&]() -> Status {
      auto look = [&] {
        return store::watchedPackages(db, kind, before.time_since_epoch().count(), *running, receiptKindsMeeting(kind),
                                      limit);
      };
      // A look first, without the lock: a pass with nothing due writes nothing (locking the watch's row
      // would give the transaction an xid, a WAL record and a commit to flush, every second).
      auto due = look();
      if (!due) return due.error();
      if (due->empty()) return {};
      auto mine = store::lockTransportWatch(db, kind);
      if (!mine) return mine.error();
      if (!*mine) return {};  // another gateway is judging it
      due = look();           // again under the lock: another gateway may have judged them meanwhile
      if (!due) return due.error();
      if (due->empty()) return {};
      for (auto& p : *due) {
        if (timerIsMoot(p.timer, p.receipt_came)) {
          ++moot;
          continue;
        }
        const domain::Instant queued{seconds(p.created_epoch)};
        const domain::Instant deadline =
            delivery ? queued + seconds(clock.deliveryReceiptWithin()) : registrationDeadline(clock.calendar(), queued);
        auto id = store::recordFiredWatch(db, p, kind, deadline.time_since_epoch().count());
        if (!id) return id.error();
        p.timer.id = *id;
        if (auto s = escalate(db, p.timer, std::nullopt); !s) return s;
        ++fired;
      }
      return store::advanceTransportWatch(db, kind, due->back());
    });
    if (!done) return done.error();
    auto& m = app::metrics();
    const char* help = "Deadline and transport timers handled";
    if (fired > 0) m.counter("vkhid_timers_total", help, {{"kind", kind}, {"outcome", "fired"}}).inc(fired);
    if (moot > 0) m.counter("vkhid_timers_total", help, {{"kind", kind}, {"outcome", "moot"}}).inc(moot);
    if (fired > 0) log::info("transport watch fired", {{"timer", kind}, {"packages", std::to_string(fired)}});
    judged += fired + moot;
  }
  return judged;
}

}  // namespace vkhid::flows
