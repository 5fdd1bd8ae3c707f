#include "gateway/flows/case_access.hpp"

#include <algorithm>

#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

Status checkReadReason(const CaseRead& read) {
  if (!isCleanText(read.reason)) {
    return Error::invalid("access.reason_invalid", "reason: expected UTF-8 text without NUL or control characters");
  }
  if (!read.restricted) return {};
  const auto first = read.reason.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || read.reason.size() - first < 3 || read.reason.size() > 500) {
    return Error::invalid(
        "access.reason_required",
        "reason: why this restricted case is opened, 3-500 characters (recorded in the evidence log)");
  }
  return {};
}

Status recordCaseRead(store::PgConnection& db, const CaseRead& read) {
  if (auto s = checkReadReason(read); !s) return s;
  return store::inTransaction(db, [&]() -> Status {
    auto row = db.exec(
        "INSERT INTO case_access (case_id, actor, what, restricted, reason) VALUES (vkhid_uuid($1), $2, $3, $4, $5)",
        {read.case_id, read.actor, read.what, read.restricted ? "true" : "false", read.reason});
    if (!row) return row.error();
    auto logged =
        db.exec("INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ($1, 'case.read', $2, $3)",
                {read.actor, "case:" + read.case_id + " read:" + read.what + (read.restricted ? " restricted" : ""),
                 sha256Hex(read.reason)});
    return logged ? Status() : Status(logged.error());
  });
}

Result<std::string> caseAccessHistory(store::PgConnection& db, const std::string& case_id, int limit) {
  auto r = db.exec(
      "SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT at, actor, what, restricted, reason FROM case_access "
      "WHERE case_id = vkhid_uuid($1) ORDER BY at DESC, id DESC LIMIT $2) t",
      {case_id, std::to_string(std::clamp(limit, 1, 1000))});
  if (!r) return r.error();
  return std::string(r->get(0, 0));
}

Result<std::string> unusualAccess(store::PgConnection& db, int days, int min_cases) {
  auto r = db.exec(
      "SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT actor, "
      "to_char(at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD') AS day, count(DISTINCT case_id) AS restricted_cases, "
      "count(*) AS reads FROM case_access WHERE restricted AND at > now() - make_interval(days => $1::int) "
      "GROUP BY 1, 2 HAVING count(DISTINCT case_id) >= $2::int ORDER BY 3 DESC, 1, 2) t",
      {std::to_string(std::clamp(days, 1, 366)), std::to_string(std::max(min_cases, 1))});
  if (!r) return r.error();
  return std::string(r->get(0, 0));
}

}  // namespace vkhid::flows
