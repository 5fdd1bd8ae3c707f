// What the report's sections share (flows/reports.cpp, report_packages.cpp, report_evaluation.cpp): the query over
// the period's cases, and how a share is rounded. Not for other modules.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "gateway/flows/reports.hpp"

namespace vkhid::flows::report_detail {

struct ReportQuery {
  store::PgConnection& db;
  const ReportOptions& o;
  const std::string& as_of;
  // $1 from, $2 to (Kyiv dates), $3 the instant the report is as of, $4 the repeat window in days,
  // $5 the one participant of a participant's own report, or ''.
  std::vector<store::PgParam> params;

  // The period's cases as `base` (every fact a measure needs), then `select` over them.
  Result<store::PgResult> query(const std::string& select) const;
  // The same with parameters of its own after these ($6 on).
  Result<store::PgResult> query(const std::string& select, const std::vector<store::PgParam>& all) const;
  std::string topicName(const std::string& code) const;
};

// part / whole to three decimals; 0 when there is no whole.
double share(long long part, long long whole);

// The packages of the period (flows/report_packages.cpp): those rejected, by error code and by whom, and
// the deliveries by adapter.
Result<boost::json::array> sectionRejections(const ReportQuery& q);
Result<boost::json::array> sectionDeliveries(const ReportQuery& q);

// The Procedure's п. 3 criteria beyond the answer's time (flows/report_evaluation.cpp): applicants'
// satisfaction, and the cost per appeal.
Result<boost::json::object> sectionSatisfaction(const ReportQuery& q);
Result<boost::json::object> sectionCost(const ReportQuery& q);

}  // namespace vkhid::flows::report_detail
