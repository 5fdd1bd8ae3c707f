// The monthly report each participant body gets of its own figures (the resolution's п. 5, informing
// participants): early each month, last month's report for every active participant, built once by
// whichever gateway comes first, kept (participant_report), and announced on vkhid.notifications as
// `participant.report` with its contacts' e-mail addresses, for the notifier to send. docs/reports.md.
#pragma once

#include <string>

#include "gateway/flows/reports.hpp"

namespace vkhid::flows {

// Builds up to `limit` of last month's (Kyiv) reports not yet built, each in its own transaction with
// its announcement; returns how many were still due when it began. `defaults`: the configured report
// options (topic names, repeat window, unit costs).
Result<int> issueMonthlyReports(store::PgConnection& db, const ReportOptions& defaults, int limit);

// A stored monthly report (its HTML page); nullopt when there is none for that body and month (YYYY-MM).
Result<std::optional<std::string>> monthlyReport(store::PgConnection& db, const std::string& org_id,
                                                 const std::string& month);

}  // namespace vkhid::flows
