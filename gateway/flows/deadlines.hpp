// Deadlines in the running gateway (DESIGN §7.7-7.8, §9): each case's answer deadline at registration
// (again from the competent body's receipt after forwarding, and within the legal cap on extension),
// and timers in PostgreSQL that any gateway process may fire, each exactly once.
#pragma once

#include <string>

#include "gateway/app/config.hpp"
#include "gateway/domain/case.hpp"
#include "gateway/domain/deadline.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/pg.hpp"
#include "gateway/store/timers.hpp"

namespace vkhid::flows {

class LegalClock {
 public:
  // From the configured calendar and rules (the shipped ones when the paths are empty).
  static Result<LegalClock> load(const app::DeadlineSettings& settings);
  // As load, but a refused file is logged and the shipped data used (serve checks the files first).
  static LegalClock loadOrShipped(const app::DeadlineSettings& settings);

  // The rule that governs the answer: appeal (needing no further study: appeal_simple); info_request
  // (urgent: info_request_urgent); violence_report (threat to life: violence_report_threat).
  static std::string answerKind(domain::CaseKind kind, domain::Urgency urgency, bool no_further_study = false);

  const domain::Calendar& calendar() const { return calendar_; }
  const domain::DeadlineRules& rules() const { return rules_; }
  // Throws nothing: an unknown kind has no deadline (nullopt).
  std::optional<domain::Due> due(const std::string& kind, domain::Instant from) const;
  // The time timers see: the system clock plus deadlines.clock_offset_s. Deadlines are planned by the
  // system clock; an offset makes what is planned fire early, for drills and tests.
  domain::Instant now() const;
  int offsetSeconds() const { return offset_s_; }
  int deliveryReceiptWithin() const { return delivery_receipt_within_s_; }

 private:
  LegalClock(domain::Calendar c, domain::DeadlineRules r, int offset_s, int within_s)
      : calendar_(std::move(c)), rules_(std::move(r)), offset_s_(offset_s), delivery_receipt_within_s_(within_s) {}
  domain::Calendar calendar_;
  domain::DeadlineRules rules_;
  int offset_s_ = 0;
  int delivery_receipt_within_s_ = 900;
};

// Inside the caller's transaction: sets the case's answer deadline by `kind` counted from `from`,
// records it in the history (`deadline_set`, with `reason`), cancels the timers of an earlier plan (none
// when `reason` is "registered": a new case) and
// plans the warnings (3 working days and 1 day before) and the overdue timer. Warnings whose moment
// has passed already are not planned.
Status planAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                          const std::string& kind, domain::Instant from, const std::string& actor,
                          const std::string& reason);

// A new case's answer term by `kind` counted from `from`, computed before the case's row is written so
// that the row carries it (store::NewCaseRecord's due_…): the term is not written a second time.
struct AnswerTerm {
  std::string kind;
  domain::Due due;
  std::string citation;
  domain::Instant from;
};
Result<AnswerTerm> answerTerm(const LegalClock& clock, const std::string& kind, domain::Instant from);

// The answer term's first step still ahead of now: a warning three working days before the term, else
// a day before it, else overdue just after it.
struct AnswerStepPlan {
  const char* kind;
  domain::Instant at;
};
AnswerStepPlan firstAnswerStep(const LegalClock& clock, const domain::Due& due);

// Inside the transaction that registers case `case_id` with `term` in its row: as planAnswerDeadline
// with the reason "registered" — its first step — less the term's write, the first step's when
// `step_written` (the case's open row carries it, migration 0038), and the history's `deadline_set`
// (the intake records the term in its `registered` event).
Status planRegisteredDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                              const AnswerTerm& term, const std::string& actor, bool step_written);

// Inside the caller's transaction: a participant's extension notice moves the answer deadline to
// `new_due` only within the legal cap: appeals up to 45 days from the receipt (Law 393 art. 20);
// information requests up to 20 working days, and only when the notice came within 5 working days
// (Law 2939-VI art. 20 part 4); nothing else. Refused with SEV code 133, 134 or 135 (the case
// untouched); accepted, the deadline and its timers are re-planned and the applicant notified.
// A lawful notice for a case whose answer is in already is judged the same way and then has nothing to
// move: it is recorded (`extension_after_answer`) and the term stands. A participant's packages are
// handled concurrently, so its notice may be applied after the answer it sent later; its verdict does
// not depend on that order.
enum class Extension { Extended, AfterAnswer };

// The verdict on an extension notice for case `c` asking for `new_due`, received at `now`: decided
// before anything is written (extendAnswerDeadline carries it out; the unit tests judge rows in memory).
struct ExtensionVerdict {
  enum class Kind {
    Extend,       // the term moves to new_due, under rule `cap_kind`
    AfterAnswer,  // lawful, but the case's answer is in: recorded, the term stands
    Refuse,       // `refusal`: a SEV error (133, 134, 135), or a rule missing from the configuration
  };
  Kind kind = Kind::Refuse;
  std::string cap_kind;
  std::optional<Error> refusal;
};
ExtensionVerdict judgeExtension(const LegalClock& clock, const store::CaseTermRow& c, domain::Instant new_due,
                                domain::Instant now);

Result<Extension> extendAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                                       domain::Instant new_due, const std::string& actor);

// A participant's forward (not in its competence) judged against the law's term for it: appeals within
// 5 days (Law 393 art. 7), information requests within 5 working days (Law 2939-VI art. 22), counted
// from when the participant took the case (`from`); nothing for a kind with no such term (violence
// reports go on at once). Late when `now` (the clock timers see) is past the term.
struct ForwardVerdict {
  std::string term_kind;  // appeal_forward, info_request_forward
  domain::Instant due;
  bool late = false;
};
std::optional<ForwardVerdict> judgeForward(const LegalClock& clock, const std::string& case_kind, domain::Instant from,
                                           domain::Instant now);

// A package's transport watches (migration 0036): no delivery receipt within
// deadlines.delivery_receipt_within_s of its queueing, no registration by the end of the next working day.
// They are judged from the package rows themselves, so queueing a package plans nothing and a receipt
// cancels nothing: judgeTransportWatches finds the packages whose deadline has passed.
//
// A package queued at `queued` is due to be registered by the end of the next working day (Kyiv).
domain::Instant registrationDeadline(const domain::Calendar& calendar, domain::Instant queued);

// The instant before which every package queued has passed its registration deadline (the end of the
// working day after the day it was queued, Kyiv), and none queued at or after it has, at `now`.
domain::Instant registrationWatchCutoff(const domain::Calendar& calendar, domain::Instant now);

// Judges, for each watch, up to `limit` packages whose deadline has passed by the clock timers see, in
// the order they were queued, each once whatever the number of gateways: one gateway judges a watch at a
// time (its row locked, the others skip it) and records how far it got in the same transaction. A package
// a transaction still running may yet commit is left to a later pass (the watch does not pass over a
// transaction older than itself). A package whose receipt came, whose case has moved on to another
// participant or whose answer is in is moot; any other is escalated as a fired timer would be (a case
// event `timer_<kind>`, the alert), with a timer row fired for it. Returns how many were judged.
Result<int> judgeTransportWatches(store::PgConnection& db, const LegalClock& clock, int limit = 100);

// Inside the caller's transaction: a case whose answer is in (answered, closed, …) has nothing left
// to warn about: every pending timer of it is cancelled.
Status cancelTimersOfSettledCase(store::PgConnection& db, const std::string& case_id);

// A case whose answer is in (answered, closed, withdrawn, not considered, merged, returned; the stored status):
// nothing about the answer can be late any more.
bool answerSettled(const std::string& status);

// Whether a due timer has nothing left to warn about. A transport timer: a receipt it waits for came
// (`receipt_came`), the case has left the participant its package went to, or the answer is in. An
// answer-term timer (warnings, overdue): the answer is in.
bool timerIsMoot(const store::DueTimerRow& t, bool receipt_came);

// Fires up to `limit` due timers (the answer term's; and transport timers planned before migration
// 0036), each in its own transaction, claimed with FOR UPDATE SKIP LOCKED so
// any number of gateways may run this at once: a case event, a metric, an escalation on the alerts
// exchange, and for overdue the case's flag and the applicant's notification. A timer whose condition
// was met meanwhile without cancelling it (the case moved on to another participant) is closed as moot. Returns how
// many were handled.
Result<int> fireDueTimers(store::PgConnection& db, const LegalClock& clock, int limit = 100);

}  // namespace vkhid::flows
