// The report's sections on packages rather than cases: those rejected in the period (ours by a
// participant's receipt, theirs by the gateway), and outbound deliveries by the adapter that carried them.
// In a participant's own report, its packages only.
#include <boost/json.hpp>

#include "gateway/flows/report_query.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::flows::report_detail {

namespace json = boost::json;

Result<json::array> sectionRejections(const ReportQuery& q) {
  auto& db = q.db;
  const auto& o = q.o;
  // Rejected packages in the period: ours refused by participants (their receipts), theirs refused by us.
  auto rejected = db.exec(
      "SELECT 'participant' AS by, r.error_code AS code, count(*) AS packages FROM receipt r JOIN message m ON "
      "m.msg_id = r.msg_id "
      "AND m.direction = 'out' WHERE r.ack_type = 4 AND r.error_code IS NOT NULL "
      "AND (r.received_at AT TIME ZONE 'Europe/Kyiv')::date BETWEEN $1::date AND $2::date "
      "AND ($3::text = '' OR m.peer_org_id = $3::text) GROUP BY 2 "
      "UNION ALL SELECT 'gateway', error_code, count(*) FROM message WHERE direction = 'in' AND status = 'rejected' "
      "AND error_code IS NOT NULL AND (created_at AT TIME ZONE 'Europe/Kyiv')::date BETWEEN $1::date AND $2::date "
      "AND ($3::text = '' OR peer_org_id = $3::text) GROUP BY 2 ORDER BY 1 DESC, 2",
      {o.from, o.to, o.participant});
  if (!rejected) return rejected.error();
  json::array rejections;
  for (int i = 0; i < rejected->rows(); ++i) {
    // The code with what it means (docs/sev-errors.md): 132 is "not in competence", not a fault.
    const auto code = rejected->getInt(i, "code");
    const auto& info = sev::sevErrorInfo(static_cast<sev::SevError>(code));
    const bool known = info.code != sev::SevError::None || code == 0;
    rejections.push_back(json::object{{"by", rejected->get(i, "by")},
                                      {"code", code},
                                      {"meaning", known ? info.message : "a code of the participant's own"},
                                      {"meaning_uk", known ? info.errortext : "власний код учасника"},
                                      {"packages", rejected->getInt(i, "packages")}});
  }
  return rejections;
}

Result<json::array> sectionDeliveries(const ReportQuery& q) {
  auto& db = q.db;
  const auto& o = q.o;
  auto deliveries = db.exec(
      "SELECT coalesce(e.adapter, 'unknown') AS adapter, count(*) AS packages, "
      "count(*) FILTER (WHERE m.status = 'sent') AS delivered, count(*) FILTER (WHERE m.attempts > 1) AS retried, "
      "coalesce(sum(greatest(m.attempts - 1, 0)), 0) AS retries, count(*) FILTER (WHERE m.status = 'dead') AS failed "
      "FROM message m "
      "LEFT JOIN LATERAL (SELECT adapter FROM endpoint WHERE org_id = m.peer_org_id AND active ORDER BY id DESC "
      "LIMIT 1) e ON true WHERE m.direction = 'out' "
      "AND (m.created_at AT TIME ZONE 'Europe/Kyiv')::date BETWEEN $1::date AND $2::date "
      "AND ($3::text = '' OR m.peer_org_id = $3::text) GROUP BY 1 ORDER BY 1",
      {o.from, o.to, o.participant});
  if (!deliveries) return deliveries.error();
  json::array by_adapter;
  for (int i = 0; i < deliveries->rows(); ++i) {
    json::object row{{"adapter", deliveries->get(i, "adapter")}};
    for (const char* k : {"packages", "delivered", "retried", "retries", "failed"}) row[k] = deliveries->getInt(i, k);
    by_adapter.push_back(std::move(row));
  }
  return by_adapter;
}

}  // namespace vkhid::flows::report_detail
