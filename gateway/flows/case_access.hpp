// Who read what (issue 29, docs/privacy.md): each read of a case's data — the console's case page, the
// answer API, the CLI — is recorded with who, when, what and why, as a row the console's access history
// reads and an evidence entry "case.read" in the tamper-evident log (its digest covers the reason). A
// restricted case (violence, trafficking) is read only with a reason.
#pragma once

#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::flows {

struct CaseRead {
  std::string actor;    // "admin:o.petrenko", "auditor:…", "channel:ucc-web", "admin:cli:root"
  std::string case_id;  // the case's uuid
  std::string what;     // view, answer, cli
  bool restricted = false;
  std::string reason;  // required when restricted: 3-500 characters
};

// Refuses (code "access.reason_required", naming `reason`) a restricted read without a fitting reason.
Status checkReadReason(const CaseRead& read);
// Records the read: its row and its evidence entry, in one transaction.
Status recordCaseRead(store::PgConnection& db, const CaseRead& read);
// A case's reads, newest first (JSON array of {at, actor, what, restricted, reason}).
Result<std::string> caseAccessHistory(store::PgConnection& db, const std::string& case_id, int limit = 200);
// Unusual access in the last `days`: each reader of at least `min_cases` distinct restricted cases on a
// day (JSON array of {actor, day, restricted_cases, reads}), the most first.
Result<std::string> unusualAccess(store::PgConnection& db, int days, int min_cases);

}  // namespace vkhid::flows
