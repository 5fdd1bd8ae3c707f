// Retention and erasure (issue 29, docs/privacy.md). A case's personal data — the applicant's identity
// and contacts, the text, the attachments, a violence report's victim and offender, a rating's comment,
// and every stored package of the case — is erased when the retention period of its kind has passed
// since the case ended, or earlier at the data subject's request (an admin act with its reason and
// legal ground). The case keeps its non-personal figures (kind, classification, channel, dates, status,
// participant) for reports. Each erased package keeps its row and SHA-256; each erasure is an evidence
// entry ("erasure.package" with the package's hash, "erasure.case"), so the log stays verifiable and the
// verifier names what was erased, under which rule and when, instead of "package missing".
#pragma once

#include <string>

#include "gateway/app/config.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

struct ErasureOutcome {
  std::string case_id, rule;
  int packages = 0;  // stored packages whose bytes were erased
};

// Erases one ended case's personal data under `rule` (e.g. "retention:appeal:5y", "request:<ground>"),
// in one transaction with its evidence. Refused: an unknown case ("case.unknown"), one still being
// handled ("case.not_ended"), one erased already ("case.erased").
Result<ErasureOutcome> eraseCase(store::PgConnection& db, const std::string& case_id, const std::string& rule,
                                 const std::string& reason);

// The data subject's request before the period (an admin act): needs a reason and the legal ground.
Result<ErasureOutcome> eraseOnRequest(store::PgConnection& db, const std::string& case_id, const std::string& reason,
                                      const std::string& ground);

struct RetentionRun {
  int cases = 0, packages = 0;
  int keys = 0;       // data keys of months left with no value, destroyed
  int failed = 0;     // cases left for the next run (each failure logged, the others go on)
  bool busy = false;  // another run (a gateway's or a command's) holds the lock: nothing done
};
// The daily job — run by every gateway (retention.interval_minutes) and by `vkhid retention run`, one at
// a time: every ended case whose kind's period has passed since its last event, oldest first, at most
// `limit` per run. `dry_run`: count them, erase nothing.
Result<RetentionRun> runRetention(store::PgConnection& db, const app::RetentionSettings& settings, bool dry_run,
                                  int limit = 10000);

}  // namespace vkhid::flows
