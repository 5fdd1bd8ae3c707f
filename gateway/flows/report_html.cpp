// The report as one HTML page with inline SVG charts that reads well on a phone and printed, from the
// JSON that buildReport makes.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "gateway/domain/text.hpp"
#include "gateway/flows/report_values.hpp"
#include "gateway/flows/reports.hpp"

namespace vkhid::flows {
namespace json = boost::json;
using namespace report_detail;
namespace {

// --- SVG charts: plain shapes with text labels, sized by viewBox so they scale to the page. ---

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Cases received and answers given per day: two lines over the period.
std::string seriesChart(const json::array& daily) {
  // 400 units wide: at a phone's width the labels stay about their set size; a laptop scales it up.
  const double W = 400, H = 190, left = 30, right = 8, top = 12, bottom = 30;
  long long peak = 1;
  for (const auto& d : daily) {
    peak = std::max({peak, integer(d.at("received")), integer(d.at("answered"))});
  }
  std::size_t n = daily.size();
  auto x = [&](std::size_t i) {
    return left + (n <= 1 ? 0.0 : (W - left - right) * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  auto y = [&](long long v) {
    return H - bottom - (H - top - bottom) * static_cast<double>(v) / static_cast<double>(peak);
  };
  std::ostringstream s;
  s << "<svg class=\"chart\" data-chart=\"daily\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-labelledby=\"daily-title\"><title id=\"daily-title\">Надійшло і надано відповідей за днями"
       "</title>";
  s << "<line x1=\"" << left << "\" y1=\"" << H - bottom << "\" x2=\"" << W - right << "\" y2=\"" << H - bottom
    << "\" class=\"axis\"/>";
  s << "<text x=\"" << left - 6 << "\" y=\"" << top + 4 << "\" class=\"tick\" text-anchor=\"end\">" << peak
    << "</text><text x=\"" << left - 6 << "\" y=\"" << H - bottom << "\" class=\"tick\" text-anchor=\"end\">0</text>";
  for (const auto* series : {"received", "answered"}) {
    s << "<polyline class=\"" << series << "\" fill=\"none\" points=\"";
    for (std::size_t i = 0; i < n; ++i) s << fmt(x(i)) << "," << fmt(y(integer(daily[i].at(series)))) << " ";
    s << "\"/>";
    for (std::size_t i = 0; i < n; ++i) {
      s << "<circle class=\"" << series << "\" cx=\"" << fmt(x(i)) << "\" cy=\"" << fmt(y(integer(daily[i].at(series))))
        << "\" r=\"2.5\"><title>" << escapeMarkup(text(daily[i].at("date"))) << ": " << integer(daily[i].at(series))
        << "</title></circle>";
    }
  }
  std::size_t step = std::max<std::size_t>(1, n / 6);
  for (std::size_t i = 0; i < n; i += step) {
    s << "<text x=\"" << fmt(x(i)) << "\" y=\"" << H - bottom + 16 << "\" class=\"tick\" text-anchor=\"middle\">"
      << escapeMarkup(text(daily[i].at("date")).substr(5)) << "</text>";
  }
  s << "</svg>";
  return s.str();
}

// Horizontal bars, one per item with its label above it, value in [0, max].
std::string barChart(const std::string& id, const std::string& title,
                     const std::vector<std::pair<std::string, double>>& bars, double max, bool as_percent) {
  const double W = 400, row = 32, top = 4, value_w = 48;
  double H = top * 2 + row * static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  if (max <= 0) max = 1;
  std::ostringstream s;
  s << "<svg class=\"chart\" data-chart=\"" << id << "\" viewBox=\"0 0 " << W << " " << H
    << "\" role=\"img\" aria-labelledby=\"" << id << "-title\"><title id=\"" << id << "-title\">" << escapeMarkup(title)
    << "</title>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    double y = top + row * static_cast<double>(i);
    double w = std::max((W - value_w) * bars[i].second / max, 1.0);
    std::string label = bars[i].first;
    if (width(label) > 64) {
      std::size_t cut = 0, seen = 0;
      while (cut < label.size() && seen < 63) {
        ++cut;
        while (cut < label.size() && (label[cut] & 0xC0) == 0x80) ++cut;
        ++seen;
      }
      label = label.substr(0, cut) + "…";
    }
    s << "<text x=\"0\" y=\"" << y + 11 << "\" class=\"label\">" << escapeMarkup(label) << "</text>";
    s << "<rect class=\"bar\" x=\"0\" y=\"" << y + 15 << "\" width=\"" << fmt(w) << "\" height=\"12\"><title>"
      << escapeMarkup(bars[i].first) << "</title></rect>";
    std::string value =
        as_percent ? fmt(bars[i].second * 100.0) + "%" : text(json::value(static_cast<long long>(bars[i].second)));
    s << "<text x=\"" << fmt(w + 4) << "\" y=\"" << y + 25 << "\" class=\"value\">" << value << "</text>";
  }
  s << "</svg>";
  return s.str();
}

std::string htmlTable(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows,
                      const std::string& caption) {
  std::ostringstream s;
  s << "<div class=\"scroll\"><table>";
  if (!caption.empty()) s << "<caption>" << escapeMarkup(caption) << "</caption>";
  s << "<thead><tr>";
  for (const auto& h : head) s << "<th scope=\"col\">" << escapeMarkup(h) << "</th>";
  s << "</tr></thead><tbody>";
  for (const auto& r : rows) {
    s << "<tr>";
    for (std::size_t i = 0; i < r.size(); ++i)
      s << (i == 0 ? "<th scope=\"row\">" : "<td>") << escapeMarkup(r[i]) << (i == 0 ? "</th>" : "</td>");
    s << "</tr>";
  }
  s << "</tbody></table></div>";
  return s.str();
}

constexpr const char* kStyle = R"CSS(
:root { color-scheme: light; --ink: #1b1f24; --muted: #5a6270; --line: #d0d5dd; --blue: #1f5fbf; --yellow: #b7791f; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", system-ui, sans-serif; color: var(--ink); margin: 0 auto; padding: 1rem;
       max-width: 60rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
p.meta { color: var(--muted); margin: 0 0 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .5rem; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .75rem; }
.card b { display: block; font-size: 1.4rem; } .card span { color: var(--muted); font-size: .85rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .25rem 0 1rem; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: right; white-space: nowrap; }
th[scope=row], thead th:first-child { text-align: left; }
svg.chart { width: 100%; max-width: 40rem; height: auto; display: block; margin: .25rem 0 1rem; }
svg .axis { stroke: var(--muted); } svg .tick, svg .label, svg .value { font-size: 11px; fill: var(--ink); }
svg polyline.received { stroke: var(--blue); stroke-width: 2; } svg circle.received { fill: var(--blue); }
svg polyline.answered { stroke: var(--yellow); stroke-width: 2; } svg circle.answered { fill: var(--yellow); }
svg rect.bar { fill: var(--blue); }
.legend span { display: inline-block; margin-right: 1rem; } .legend i { display: inline-block; width: .8rem;
  height: .8rem; margin-right: .3rem; vertical-align: middle; }
.empty { border: 1px dashed var(--line); padding: 1rem; border-radius: .4rem; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } svg.chart, table { break-inside: avoid; } }
)CSS";

// The report's parts in HTML, in the order they appear.
void htmlCards(std::ostringstream& s, const json::object& t) {
  s << "<section class=\"cards\" aria-label=\"Підсумки\">";
  auto card = [&](const std::string& value, const char* label) {
    s << "<div class=\"card\"><b>" << escapeMarkup(value) << "</b><span>" << label << "</span></div>";
  };
  card(text(t.at("received")), "надійшло");
  card(text(t.at("answered")), "надано відповідь");
  card(percent(t.at("on_time_share")), "відповідей вчасно");
  card(t.at("days_to_answer_median").is_null() ? "—" : text(t.at("days_to_answer_median")),
       "днів до відповіді (медіана)");
  card(text(t.at("overdue_now")), "прострочено зараз");
  card(percent(t.at("electronic_signed_share")), "відповідей в ел. формі з підписом");
  card(text(t.at("repeated")), "повторних звернень");
  card(text(t.at("forwarded_not_in_competence")), "переслано не за належністю");
  card(text(t.at("forwarded_late")), "переслано із порушенням строку");
  s << "</section>";
}

void htmlCharts(std::ostringstream& s, const json::object& r) {
  std::vector<std::pair<std::string, double>> on_time;
  for (const auto& p : r.at("on_time_by_participant").as_array()) {
    std::string name = text(p.at("name"));
    on_time.emplace_back(name.empty() ? text(p.at("participant")) : name, number(p.at("on_time_share")));
  }
  s << "<h2>Частка відповідей, наданих вчасно, за учасниками</h2>";
  if (on_time.empty()) {
    s << "<p>Ще немає відповідей.</p>";
  } else {
    s << barChart("on-time", "Частка вчасних відповідей за учасниками", on_time, 1.0, true);
  }

  std::vector<std::pair<std::string, double>> buckets;
  double most = 0;
  for (const auto& b : r.at("days_to_answer").as_array()) {
    std::string label = b.at("to_days").is_null() ? text(b.at("from_days")) + "+ днів"
                                                  : text(b.at("from_days")) + "–" + text(b.at("to_days")) + " днів";
    buckets.emplace_back(label, number(b.at("answered")));
    most = std::max(most, number(b.at("answered")));
  }
  s << "<h2>Розподіл днів до відповіді</h2>"
    << barChart("days", "Кількість відповідей за днями до відповіді", buckets, most, false);

  std::vector<std::pair<std::string, double>> topics;
  double top = 0;
  for (const auto& o : r.at("topics").as_array()) {
    std::string name = text(o.at("name"));
    topics.emplace_back(text(o.at("topic")) + (name.empty() ? "" : " " + name), number(o.at("cases")));
    top = std::max(top, number(o.at("cases")));
  }
  s << "<h2>Найчастіші питання</h2>";
  if (topics.empty()) {
    s << "<p>Немає класифікованих звернень.</p>";
  } else {
    s << barChart("topics", "Кількість звернень за питаннями", topics, top, false);
    std::vector<std::vector<std::string>> rows;
    for (const auto& o : r.at("topics").as_array()) {
      long long change = integer(o.at("change"));
      rows.push_back({text(o.at("topic")), text(o.at("cases")), text(o.at("last_week")), text(o.at("week_before")),
                      (change > 0 ? "+" : "") + std::to_string(change)});
    }
    s << htmlTable({"Питання", "Звернень", "Останні 7 днів", "7 днів перед тим", "Зміна"}, rows, "Зміна за тиждень");
  }
}

// The Procedure's п. 3 criteria beyond the answer's time: applicants' ratings and the cost per appeal.
void htmlEvaluation(std::ostringstream& s, const json::object& r) {
  if (const auto* sat = r.if_contains("satisfaction")) {
    const auto& o = sat->as_object();
    s << "<h2>Задоволеність заявників</h2>";
    if (integer(o.at("ratings")) == 0) {
      s << "<p>Оцінок за цей період немає.</p>";
    } else {
      auto row = [](const std::string& label, const json::object& g) {
        std::vector<std::string> cells{label, text(g.at("ratings")), text(g.at("average"))};
        for (const auto& n : g.at("distribution").as_array()) cells.push_back(text(n));
        return cells;
      };
      std::vector<std::vector<std::string>> rows{row("Усього", o)};
      for (const auto& g : o.at("by_participant").as_array()) {
        rows.push_back(row(text(g.at("participant")) + " " + text(g.at("name")), g.as_object()));
      }
      s << htmlTable({"Учасник", "Оцінок", "Середня", "1", "2", "3", "4", "5"}, rows, "Оцінки від 1 до 5");
      std::vector<std::vector<std::string>> weeks;
      for (const auto& w : o.at("weekly").as_array()) {
        const auto* change = w.as_object().if_contains("change");
        weeks.push_back(
            {text(w.at("week")), text(w.at("ratings")), text(w.at("average")), change ? text(*change) : "—"});
      }
      s << htmlTable({"Тиждень з", "Оцінок", "Середня", "Зміна"}, weeks, "Оцінки за тижнями");
    }
  }
  if (const auto* cost = r.if_contains("cost")) {
    const auto& o = cost->as_object();
    const std::string currency = text(o.at("currency"));
    s << "<h2>Вартість опрацювання звернення</h2><p>Усього " << escapeMarkup(text(o.at("total"))) << " "
      << escapeMarkup(currency) << " за " << escapeMarkup(text(o.at("cases"))) << " звернень; у середньому "
      << escapeMarkup(text(o.at("per_appeal"))) << " " << escapeMarkup(currency)
      << " на звернення (за одиничними витратами з налаштувань).</p>";
    std::vector<std::vector<std::string>> rows;
    for (const auto& g : o.at("by_channel").as_array()) {
      rows.push_back({text(g.at("channel")), text(g.at("cases")), text(g.at("total")), text(g.at("per_appeal"))});
    }
    s << htmlTable({"Канал", "Звернень", "Усього", "На звернення"}, rows, "Вартість за каналами");
    std::vector<std::vector<std::string>> weeks;
    for (const auto& w : o.at("weekly").as_array()) {
      weeks.push_back({text(w.at("week")), text(w.at("cases")), text(w.at("total")), text(w.at("per_appeal"))});
    }
    s << htmlTable({"Тиждень з", "Звернень", "Усього", "На звернення"}, weeks, "Вартість за тижнями");
  }
}

void htmlMeasures(std::ostringstream& s, const json::object& t, const json::array& groups) {
  std::vector<std::string> head{"Показник", "Усього"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups) {
    std::string name = text(g.at("name"));
    head.push_back(name.empty() ? text(g.at("key")) : text(g.at("key")) + " " + name);
  }
  for (const auto& m : kMeasures) {
    bool is_share = std::string_view(m.key).ends_with("_share");
    std::vector<std::string> row{m.ukrainian, is_share ? percent(t.at(m.key)) : text(t.at(m.key))};
    for (const auto& g : groups) row.push_back(is_share ? percent(g.at(m.key)) : text(g.at(m.key)));
    rows.push_back(std::move(row));
  }
  s << "<h2>Показники</h2>" << htmlTable(head, rows, "Показники за період");
}

void htmlLists(std::ostringstream& s, const json::object& r) {
  auto list = [&](const char* title, const json::array& items, std::vector<std::string> cols,
                  std::vector<std::string> keys) {
    if (items.empty()) return;
    std::vector<std::vector<std::string>> rows2;
    for (const auto& o : items) {
      std::vector<std::string> row;
      for (const auto& k : keys) {
        std::string cell = o.at(k).is_null() ? "—" : text(o.at(k));
        if (k == "by") cell = cell == "participant" ? "учасником" : "шлюзом";
        row.push_back(cell);
      }
      rows2.push_back(std::move(row));
    }
    s << "<h2>" << title << "</h2>" << htmlTable(cols, rows2, "");
  };
  list("Прострочені зараз", r.at("overdue").as_array(),
       {"Номер УКЦ", "Вид", "Учасник", "Строк (Київ)", "Днів прострочення"},
       {"ucc_number", "kind", "participant", "due", "days_late"});
  list("Повторні звернення", r.at("repeated").as_array(), {"Номер УКЦ", "Перше звернення", "Питання"},
       {"ucc_number", "first_ucc_number", "topic"});
  list("Переслано як не за належністю", r.at("misrouting").as_array(),
       {"Правило маршрутизації", "Умови правила", "Учасник", "Переслано", "З них із порушенням строку"},
       {"rule", "rule_matches", "participant", "forwarded", "late"});
  list("Відхилені пакети за кодом помилки", r.at("rejections").as_array(),
       {"Ким відхилено", "Код", "Значення", "Пакетів"}, {"by", "code", "meaning_uk", "packages"});
  list("Доставка за адаптерами", r.at("deliveries").as_array(),
       {"Адаптер", "Пакетів", "Доставлено", "З повторами", "Повторів", "Не доставлено"},
       {"adapter", "packages", "delivered", "retried", "retries", "failed"});
}
}  // namespace

std::string renderReportHtml(const std::string& text_json) {
  auto r = json::parse(text_json).as_object();
  std::ostringstream s;
  std::string period = text(r.at("from")) + " — " + text(r.at("to"));
  s << "<!DOCTYPE html>\n<html lang=\"uk\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>Єдиний вхід: звіт за "
    << escapeMarkup(period) << "</title><style>" << kStyle << "</style></head><body><main>";
  s << "<h1>Звіт про роботу єдиного входу</h1>";
  if (const auto* p = r.if_contains("participant")) {
    // A participant's own report: its cases and packages, nobody else's.
    s << "<p class=\"participant\" data-participant=\"" << escapeMarkup(text(p->at("org_id")))
      << "\">Учасник: " << escapeMarkup(text(p->at("name"))) << " (ЄДРПОУ " << escapeMarkup(text(p->at("org_id")))
      << ")</p>";
  }
  s << "<p class=\"meta\">Звернення, що надійшли " << escapeMarkup(period) << " (за київським часом); стан на "
    << escapeMarkup(text(r.at("as_of")))
    << ". Персональні дані не наводяться; справи з обмеженим доступом враховано лише в підсумках.</p>";
  if (r.at("empty").as_bool()) {
    s << "<p class=\"empty\" data-empty=\"true\">Немає звернень за цей період.</p></main></body></html>\n";
    return s.str();
  }
  const auto& t = r.at("totals").as_object();
  htmlCards(s, t);

  s << "<h2>Надходження і відповіді за днями</h2><p class=\"legend\"><span><i style=\"background:#1f5fbf\"></i>"
       "надійшло</span><span><i style=\"background:#b7791f\"></i>надано відповідь</span></p>"
    << seriesChart(r.at("daily").as_array());

  htmlCharts(s, r);

  htmlMeasures(s, t, r.at("groups").as_array());

  htmlEvaluation(s, r);

  htmlLists(s, r);
  s << "</main></body></html>\n";
  return s.str();
}

}  // namespace vkhid::flows
