// Reports on the single entry's criteria (Порядок, п. 3, 5, 9): time to answer, answers given
// electronically and signed, repeated appeals, misrouting, rejected packages, deliveries and topics —
// computed from the facts the gateway records. Never personal data: cases appear by UCC number only,
// and restricted cases (violence, trafficking) count in totals and nowhere else. docs/reports.md.
#pragma once

#include <map>
#include <string>

#include "gateway/app/config.hpp"
#include "gateway/app/legal_config.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

struct ReportOptions {
  std::string from, to;  // Kyiv dates YYYY-MM-DD, inclusive: cases received on these days
  std::string by;        // breakdown: "" (none), participant, kind, topic, channel
  std::string as_of;     // ISO 8601 instant "overdue now" is judged at; empty: the database's now
  // One participant body's own report (its EDRPOU code): the cases it holds or has held, its packages;
  // nothing of another body. Empty: every body (the UCC's report).
  std::string participant;
  int repeat_window_days = 30;
  std::map<std::string, std::string> topic_names;  // classifier code → name
  app::UnitCosts costs;                            // the cost per appeal's unit costs (reports.costs_file)
};

// Topic names, the repeat window and the unit costs from the configuration (reports.*).

Status applyReportSettings(const app::ReportSettings& settings, ReportOptions& options);

// Checks the options (code "report.invalid", naming the option and what was expected).
Status checkReportOptions(const ReportOptions& options);

// The report as one JSON object (every field in docs/reports.md).
Result<std::string> buildReport(store::PgConnection& db, const ReportOptions& options);

// Sets the case gauges (vkhid_cases_open, vkhid_cases_overdue): totals only, nothing per kind or
// participant, so restricted cases stay in totals. Called by the timers thread.
Status refreshCaseGauges(store::PgConnection& db);

// The same report in other forms. `json` is buildReport's output.
std::string renderReportTable(const std::string& json);
std::string renderReportCsv(const std::string& json);
std::string renderReportHtml(const std::string& json);  // one self-contained page, inline SVG charts

// The formats by name: table, csv, json, html; nullopt-like empty string for an unknown format.
Result<std::string> renderReport(const std::string& json, const std::string& format);

}  // namespace vkhid::flows
