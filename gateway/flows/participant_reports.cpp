#include "gateway/flows/participant_reports.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

namespace json = boost::json;

Result<int> issueMonthlyReports(store::PgConnection& db, const ReportOptions& defaults, int limit) {
  // Last month in Kyiv, judged as of the first moment of this one: a report that does not change later.
  auto due = db.exec(
      "WITH m AS (SELECT date_trunc('month', now() AT TIME ZONE 'Europe/Kyiv') AS this_month) "
      "SELECT to_char(this_month - interval '1 month', 'YYYY-MM') AS month, "
      "to_char(this_month - interval '1 month', 'YYYY-MM-DD') AS first_day, "
      "to_char(this_month - interval '1 day', 'YYYY-MM-DD') AS last_day, "
      "to_char((this_month AT TIME ZONE 'Europe/Kyiv') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS as_of, "
      "p.org_id, p.contacts::text AS contacts FROM m, participant p WHERE p.status = 'active' AND NOT EXISTS "
      "(SELECT 1 FROM participant_report r WHERE r.org_id = p.org_id AND r.month = "
      "to_char(this_month - interval '1 month', 'YYYY-MM')) ORDER BY p.org_id");
  if (!due) return due.error();
  for (int i = 0; i < std::min(limit, due->rows()); ++i) {
    ReportOptions o = defaults;
    o.from = std::string(due->get(i, "first_day"));
    o.to = std::string(due->get(i, "last_day"));
    o.as_of = std::string(due->get(i, "as_of"));
    o.participant = std::string(due->get(i, "org_id"));
    const std::string month(due->get(i, "month"));
    auto report = buildReport(db, o);
    if (!report) return report.error();
    const std::string html = renderReportHtml(*report);
    // To the contacts that have an e-mail address; the page itself stays here, fetched by its link.
    json::array recipients;
    boost::system::error_code ec;
    auto contacts = json::parse(due->get(i, "contacts"), ec);
    if (!ec && contacts.is_array()) {
      for (const auto& c : contacts.as_array()) {
        const auto* email = c.is_object() ? c.as_object().if_contains("email") : nullptr;
        if (email && email->is_string() && !email->as_string().empty()) recipients.push_back(*email);
      }
    }
    bool inserted = false;
    Status done = store::inTransaction(db, [&]() -> Status {
      auto row = db.exec(
          "INSERT INTO participant_report (org_id, month, html, sha256) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING "
          "RETURNING org_id",
          {o.participant, month, html, sha256Hex(html)});
      if (!row) return row.error();
      inserted = row->rows() == 1;
      if (!inserted) return {};  // another gateway built it first
      return enqueueOutbox(db, bus::names::kNotifications, "participant.report",
                           "report:" + o.participant + ":" + month,
                           json::serialize(json::object{{"org_id", o.participant},
                                                        {"month", month},
                                                        {"recipients", recipients},
                                                        {"sha256", sha256Hex(html)},
                                                        {"url", "/api/v1/admin/reports/monthly?month=" + month}}));
    });
    if (!done) return done.error();
    if (inserted) {
      log::info("monthly participant report built", {{"org_id", o.participant}, {"month", month}});
    }
  }
  return due->rows();
}

Result<std::optional<std::string>> monthlyReport(store::PgConnection& db, const std::string& org_id,
                                                 const std::string& month) {
  auto r = db.exec("SELECT html FROM participant_report WHERE org_id = $1 AND month = $2", {org_id, month});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->get(0, 0)));
}

}  // namespace vkhid::flows
