// The timers repository (DESIGN §9): a case's answer-term warnings and its packages' transport timers,
// planned, cancelled and claimed for firing by named rows. Any gateway process may fire a due timer;
// the claim (FOR UPDATE SKIP LOCKED) makes each fire once.
#pragma once

#include <optional>
#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// Plans a timer of `kind` to fire at `fire_at_epoch` (seconds), for one of the case's packages when
// `msg_id` is given. Queued.
Status planTimer(PgConnection& db, const std::string& case_id, const std::string& kind, long long fire_at_epoch,
                 const std::string& msg_id = {});

// Plans the answer term's next step, `kind`, at the case's due time plus `from_due_s` — unless the case
// has an answer-term timer pending already (a plan made since, by an extension). Queued.
Status planNextAnswerTimer(PgConnection& db, const std::string& case_id, const std::string& kind, long long from_due_s);

// Cancels the pending timers of a case (queued): all of them, or only the answer term's (warnings and
// overdue), or those of one package of `kinds` (a text[] literal). A timer being fired at that moment
// is skipped, not waited for (see flows/deadlines.cpp).
Status cancelCaseTimers(PgConnection& db, const std::string& case_id);
Status cancelAnswerTimers(PgConnection& db, const std::string& case_id);
Status cancelPackageTimers(PgConnection& db, const std::string& case_id, const std::string& msg_id,
                           const std::string& kinds);

// A due timer claimed for firing, with what its firing reads of its case and package.
struct DueTimerRow {
  std::string id, case_id, kind;
  std::string msg_id;              // the package it watches; empty: the answer term's
  std::string case_status;         // as stored
  std::string participant_org_id;  // the participant the case is with now; empty: none
  std::string tracking_code;
  std::string due_at;   // the answer term, ISO 8601 UTC; empty: none
  std::string sent_to;  // the participant the watched package went to; empty: no package
};

// The earliest timer due by now + `offset_s` that no other process holds, locked until the transaction
// ends; nullopt: none due.
Result<std::optional<DueTimerRow>> claimDueTimer(PgConnection& db, int offset_s);

// Whether a receipt of one of `ack_types` (an int[] literal) came for our package `msg_id`.
Result<bool> receiptCame(PgConnection& db, const std::string& msg_id, const std::string& ack_types);

// Closes a claimed timer as `outcome` (fired, moot).
Status closeTimer(PgConnection& db, const DueTimerRow& timer, const std::string& outcome);

}  // namespace vkhid::store
