// The timers repository (DESIGN §9): a case's answer-term warnings, planned, cancelled and claimed for
// firing by named rows, and its packages' transport watches, judged from the packages' own rows
// (migration 0036). Any gateway process may fire a due timer or judge a watch; the claim (FOR UPDATE
// SKIP LOCKED) makes each fire once.
#pragma once

#include <optional>
#include <string>
#include <vector>

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
// overdue, and the first step kept on its open row). A timer being fired at that moment is skipped, not
// waited for (see flows/deadlines.cpp). A settled case's open row, with its step, goes with the status.
Status cancelCaseTimers(PgConnection& db, const std::string& case_id);
Status cancelAnswerTimers(PgConnection& db, const std::string& case_id);

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

// A new case's first answer-term step is kept on its open row (case_open.step, migration 0038) until it
// is due by now + `offset_s`: then up to `limit` of them become pending timer rows, fired as any other,
// and leave the open row. Returns how many; writes nothing when none is due.
Result<int> promoteDueAnswerSteps(PgConnection& db, int offset_s, int limit);

// The earliest timer due by now + `offset_s` that no other process holds, locked until the transaction
// ends; nullopt: none due.
Result<std::optional<DueTimerRow>> claimDueTimer(PgConnection& db, int offset_s);

// Whether a receipt of one of `ack_types` (an int[] literal) came for our package `msg_id` of `case_id`.
Result<bool> receiptCame(PgConnection& db, const std::string& case_id, const std::string& msg_id,
                         const std::string& ack_types);

// Closes a claimed timer as `outcome` (fired, moot).
Status closeTimer(PgConnection& db, const DueTimerRow& timer, const std::string& outcome);

// A transport watch (`kind`: delivery_receipt, registration) locked for judging until the transaction
// ends; false: another gateway is judging it now.
Result<bool> lockTransportWatch(PgConnection& db, const std::string& kind);

// The start of the oldest transaction running on another connection (now when none), as text for
// watchedPackages: a package such a transaction may still commit was queued at or after it.
Result<std::string> oldestRunningTransaction(PgConnection& db);

// A watched package (an appeal package queued to a participant) whose deadline has passed.
struct WatchedPackageRow {
  std::string msg_id, created_at;  // created_at as PostgreSQL writes it, for advanceTransportWatch
  long long created_epoch = 0;
  bool receipt_came = false;  // a receipt of the watch's kinds came for it
  DueTimerRow timer;          // as a due timer of the watch's kind would read (no id)
};

// Up to `limit` packages not yet judged by watch `kind` queued at or before `cutoff_epoch` and before
// `running_since` (oldestRunningTransaction), in the order they were queued; `ack_types` (an int[]
// literal) the receipts that meet the watch.
Result<std::vector<WatchedPackageRow>> watchedPackages(PgConnection& db, const std::string& kind,
                                                       long long cutoff_epoch, const std::string& running_since,
                                                       const std::string& ack_types, int limit);

// Records that watch `kind` has judged every package up to `last` (queued). The row is locked already.
Status advanceTransportWatch(PgConnection& db, const std::string& kind, const WatchedPackageRow& last);

// A watch fired for a package: its timer row, fired now for a deadline at `due_epoch`; its id.
Result<std::string> recordFiredWatch(PgConnection& db, const WatchedPackageRow& package, const std::string& kind,
                                     long long due_epoch);

}  // namespace vkhid::store
