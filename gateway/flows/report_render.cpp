// The report's forms for people: a terminal table and CSV for spreadsheets (the HTML page is
// flows/report_html.cpp). All from the JSON that buildReport makes.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>

#include "gateway/domain/text.hpp"
#include "gateway/flows/report_values.hpp"
#include "gateway/flows/reports.hpp"

namespace vkhid::flows {
namespace json = boost::json;
using namespace report_detail;
namespace {

// Display width of UTF-8 text: code points, not bytes.
std::string pad(const std::string& s, std::size_t w, bool right) {
  std::size_t n = width(s);
  std::string fill(w > n ? w - n : 0, ' ');
  return right ? fill + s : s + fill;
}

std::string table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = width(head[i]);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "  " : "") + pad(cells[i], w[i], i > 0);
    out += "\n";
  };
  line(head);
  for (std::size_t i = 0; i < head.size(); ++i) out += (i ? "  " : "") + std::string(w[i], '-');
  out += "\n";
  for (const auto& r : rows) line(r);
  return out;
}

std::vector<std::string> measureCells(const json::object& m) {
  std::vector<std::string> cells;
  for (const auto& k : kMeasures) {
    const auto& v = m.at(k.key);
    bool is_share = std::string_view(k.key).ends_with("_share");
    cells.push_back(is_share ? percent(v) : text(v));
  }
  return cells;
}

using Row = std::vector<std::string>;

// A titled table of `items` (a JSON array), one row each; nothing when there are none.
void section(std::string& out, const json::value& items, const std::string& title, const Row& head,
             const std::function<Row(const json::value&)>& rowOf) {
  if (items.as_array().empty()) return;
  std::vector<Row> rows;
  for (const auto& o : items.as_array()) rows.push_back(rowOf(o));
  out += "\n" + title + "\n" + table(head, rows);
}

}  // namespace

std::string renderReportTable(const std::string& text_json) {
  auto r = json::parse(text_json).as_object();
  std::string out = "Vkhid report: cases received " + text(r.at("from")) + " to " + text(r.at("to")) +
                    " (Kyiv dates), as of " + text(r.at("as_of")) + "\n\n";
  if (r.at("empty").as_bool()) return out + "No cases in this period.\n";
  std::vector<std::string> head{r.at("by").as_string().empty() ? "" : text(r.at("by"))};
  for (const auto& m : kMeasures) head.push_back(m.english);
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : r.at("groups").as_array()) {
    std::vector<std::string> row{text(g.at("key")) +
                                 (g.at("name").as_string().empty() ? "" : " " + text(g.at("name")))};
    auto cells = measureCells(g.as_object());
    row.insert(row.end(), cells.begin(), cells.end());
    rows.push_back(std::move(row));
  }
  std::vector<std::string> total{"total"};
  auto cells = measureCells(r.at("totals").as_object());
  total.insert(total.end(), cells.begin(), cells.end());
  rows.push_back(std::move(total));
  out += table(head, rows);

  section(out, r.at("overdue"), "Overdue now (restricted cases not listed)",
          {"UCC number", "kind", "participant", "due (Kyiv)", "days late"}, [](const json::value& o) {
            return Row{text(o.at("ucc_number")), text(o.at("kind")), text(o.at("participant")), text(o.at("due")),
                       text(o.at("days_late"))};
          });
  section(out, r.at("repeated"),
          "Repeated appeals (same applicant and topic within " + text(r.at("repeat_window_days")) + " days)",
          {"UCC number", "first", "topic"}, [](const json::value& o) {
            return Row{text(o.at("ucc_number")), text(o.at("first_ucc_number")), text(o.at("topic"))};
          });
  section(out, r.at("misrouting"), "Forwarded as not in competence, by the rule that placed the case",
          {"rule", "matches", "participant", "forwarded", "late"}, [](const json::value& o) {
            return Row{o.at("rule").is_null() ? "(addressee)" : text(o.at("rule")), text(o.at("rule_matches")),
                       text(o.at("participant")), text(o.at("forwarded")), text(o.at("late"))};
          });
  section(out, r.at("rejections"), "Rejected packages by error code", {"rejected by", "code", "meaning", "packages"},
          [](const json::value& o) {
            return Row{text(o.at("by")), text(o.at("code")), text(o.at("meaning")), text(o.at("packages"))};
          });
  section(out, r.at("deliveries"), "Deliveries by adapter",
          {"adapter", "packages", "delivered", "retried", "retries", "failed"}, [](const json::value& o) {
            return Row{text(o.at("adapter")), text(o.at("packages")), text(o.at("delivered")),
                       text(o.at("retried")), text(o.at("retries")),  text(o.at("failed"))};
          });
  section(out, r.at("topics"), "Most frequent topics", {"topic", "cases", "last 7 days", "7 days before", "change"},
          [](const json::value& o) {
            long long change = integer(o.at("change"));
            return Row{text(o.at("topic")), text(o.at("cases")), text(o.at("last_week")), text(o.at("week_before")),
                       (change > 0 ? "+" : "") + std::to_string(change)};
          });
  return out;
}

std::string renderReportCsv(const std::string& text_json) {
  auto r = json::parse(text_json).as_object();
  std::string out = "group,name";
  for (const auto& m : kMeasures) out += std::string(",") + m.key;
  out += "\n";
  auto row = [&](const std::string& key, const std::string& name, const json::object& m) {
    out += csvField(key) + "," + csvField(name);
    for (const auto& k : kMeasures) out += "," + csvField(text(m.at(k.key)));
    out += "\r\n";
  };
  for (const auto& g : r.at("groups").as_array()) {
    row(text(g.at("key")), text(g.at("name")), g.as_object());
  }
  row("total", "", r.at("totals").as_object());
  return out;
}

Result<std::string> renderReport(const std::string& json_text, const std::string& format) {
  if (format == "json") return json_text + "\n";
  if (format == "table") return renderReportTable(json_text);
  if (format == "csv") return renderReportCsv(json_text);
  if (format == "html") return renderReportHtml(json_text);
  return Error::invalid("report.invalid", "--format: expected table, csv, json or html, not '" + format + "'");
}

}  // namespace vkhid::flows
