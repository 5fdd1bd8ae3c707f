// The two criteria of the Procedure's п. 3 that are not about the answer's time: the applicants'
// satisfaction (their 1–5 ratings) and the cost per appeal (unit costs from config/costs.toml applied to
// each case's channel, recorded handling minutes and packages). Both over the report's cases; restricted
// cases count in the totals and in a row of their own, never by participant, topic or channel.
// docs/reports.md says what each counts and what it does not.
#include <boost/json.hpp>

#include "gateway/flows/report_query.hpp"

namespace vkhid::flows::report_detail {
namespace {

namespace json = boost::json;

// Kopecks as hryvnias with two decimals, exactly: 123456 → "1234.56".
std::string money(long long kopecks) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", kopecks < 0 ? "-" : "", std::llabs(kopecks) / 100,
                std::llabs(kopecks) % 100);
  return buf;
}

// Whole kopecks per case, rounded half up (0 with no cases).
long long perCase(long long total, long long cases) { return cases == 0 ? 0 : (total * 2 + cases) / (2 * cases); }

json::object costFigures(long long cases, long long total) {
  const long long each = perCase(total, cases);
  return {{"cases", cases},
          {"total", money(total)},
          {"total_kopecks", total},
          {"per_appeal", money(each)},
          {"per_appeal_kopecks", each}};
}

double averageOf(const store::PgResult& r, int row, const char* column) {
  return r.isNull(row, column) ? 0.0 : std::stod(std::string(r.get(row, column)));
}

// A row's ratings: how many, their average (two decimals) and how many gave each score.
json::object ratingFigures(const store::PgResult& r, int row) {
  json::array distribution;
  for (const char* score : {"s1", "s2", "s3", "s4", "s5"}) distribution.push_back(r.getInt(row, score));
  return {{"ratings", r.getInt(row, "ratings")},
          {"average", averageOf(r, row, "average")},
          {"distribution", std::move(distribution)}};
}

// The rating measures over `rated` (the period's cases joined to their ratings), named as ratingFigures
// reads them.
constexpr const char* kRatingMeasures =
    "count(*) AS ratings, round(avg(score), 2)::text AS average, count(*) FILTER (WHERE score = 1) AS s1, "
    "count(*) FILTER (WHERE score = 2) AS s2, count(*) FILTER (WHERE score = 3) AS s3, "
    "count(*) FILTER (WHERE score = 4) AS s4, count(*) FILTER (WHERE score = 5) AS s5";

// The period's rated cases: ratings given up to the report's instant.
constexpr const char* kRated =
    ", rated AS (SELECT b.*, r.score, r.rated_at FROM base b JOIN case_rating r ON r.case_id = b.id "
    "WHERE r.rated_at <= $3::timestamptz) ";

}  // namespace

Result<json::object> sectionSatisfaction(const ReportQuery& q) {
  auto totals = q.query(std::string(kRated) + "SELECT " + kRatingMeasures + " FROM rated");
  if (!totals) return totals.error();
  json::object out = ratingFigures(*totals, 0);

  auto grouped = [&](const std::string& column, const char* key) -> Result<json::array> {
    auto rows = q.query(std::string(kRated) + "SELECT CASE WHEN restricted THEN 'restricted' ELSE " + column +
                        " END AS g, bool_or(restricted) AS r, coalesce((SELECT p.name FROM participant p WHERE "
                        "p.org_id = min(participant) AND NOT bool_or(restricted)), '') AS participant_name, " +
                        kRatingMeasures + " FROM rated GROUP BY 1 ORDER BY bool_or(restricted), 1");
    if (!rows) return rows.error();
    json::array list;
    for (int i = 0; i < rows->rows(); ++i) {
      json::object g = ratingFigures(*rows, i);
      const std::string k(rows->get(i, "g"));
      g[key] = k;
      g["name"] = rows->getBool(i, "r")         ? std::string("обмежений доступ")
                  : std::string(key) == "topic" ? q.topicName(k)
                                                : std::string(rows->get(i, "participant_name"));
      list.push_back(std::move(g));
    }
    return list;
  };
  auto by_participant = grouped("participant", "participant");
  if (!by_participant) return by_participant.error();
  out["by_participant"] = std::move(*by_participant);
  auto by_topic = grouped("topic", "topic");
  if (!by_topic) return by_topic.error();
  out["by_topic"] = std::move(*by_topic);

  // Week by week (Monday to Sunday, Kyiv), by when the ratings were given, with the change in the
  // average from the week before.
  auto weeks =
      q.query(std::string(kRated) +
              "SELECT to_char(date_trunc('week', rated_at AT TIME ZONE 'Europe/Kyiv'), 'YYYY-MM-DD') AS week, " +
              kRatingMeasures + " FROM rated GROUP BY 1 ORDER BY 1");
  if (!weeks) return weeks.error();
  json::array weekly;
  for (int i = 0; i < weeks->rows(); ++i) {
    json::object w = ratingFigures(*weeks, i);
    w["week"] = std::string(weeks->get(i, "week"));
    if (i > 0) {
      const double change = averageOf(*weeks, i, "average") - averageOf(*weeks, i - 1, "average");
      w["change"] = static_cast<double>(std::llround(change * 100)) / 100.0;
    }
    weekly.push_back(std::move(w));
  }
  out["weekly"] = std::move(weekly);
  return out;
}

Result<json::object> sectionCost(const ReportQuery& q) {
  const app::UnitCosts& u = q.o.costs;
  json::object per_channel;
  for (const auto& [channel, k] : u.per_channel) per_channel[channel] = k;
  // Each case's cost in kopecks: its channel's intake, its recorded handling minutes, its packages.
  std::vector<store::PgParam> params = q.params;
  params.emplace_back(json::serialize(per_channel));           // $6
  params.emplace_back(std::to_string(u.per_channel_default));  // $7
  params.emplace_back(std::to_string(u.per_handling_minute));  // $8
  params.emplace_back(std::to_string(u.per_package));          // $9
  const std::string costed =
      ", costed AS (SELECT b.id, b.restricted, b.participant, b.channel, b.received_at, "
      "coalesce(($6::jsonb->>b.channel)::bigint, $7::bigint) + $8::bigint * b.handling_minutes + "
      "$9::bigint * (SELECT count(*) FROM message m WHERE m.case_id = b.id AND m.created_at <= $3::timestamptz) "
      "AS kopecks FROM base b) ";
  auto query = [&](const std::string& select) { return q.query(costed + select, params); };

  auto totals = query("SELECT count(*) AS cases, coalesce(sum(kopecks), 0)::bigint AS total FROM costed");
  if (!totals) return totals.error();
  json::object out = costFigures(totals->getInt(0, "cases"), totals->getInt(0, "total"));
  out["currency"] = u.currency;
  out["unit_costs"] = json::object{{"per_package", money(u.per_package)},
                                   {"per_handling_minute", money(u.per_handling_minute)},
                                   {"per_channel_default", money(u.per_channel_default)}};

  auto grouped = [&](const std::string& column, const char* key) -> Result<json::array> {
    auto rows = query("SELECT CASE WHEN restricted THEN 'restricted' ELSE " + column +
                      " END AS g, count(*) AS cases, sum(kopecks)::bigint AS total, coalesce((SELECT p.name FROM "
                      "participant p WHERE p.org_id = min(participant) AND NOT bool_or(restricted)), '') AS name "
                      "FROM costed GROUP BY 1 ORDER BY bool_or(restricted), 1");
    if (!rows) return rows.error();
    json::array list;
    for (int i = 0; i < rows->rows(); ++i) {
      json::object g = costFigures(rows->getInt(i, "cases"), rows->getInt(i, "total"));
      g[key] = std::string(rows->get(i, "g"));
      if (std::string(key) == "participant") g["name"] = std::string(rows->get(i, "name"));
      list.push_back(std::move(g));
    }
    return list;
  };
  auto by_participant = grouped("participant", "participant");
  if (!by_participant) return by_participant.error();
  out["by_participant"] = std::move(*by_participant);
  auto by_channel = grouped("channel", "channel");
  if (!by_channel) return by_channel.error();
  out["by_channel"] = std::move(*by_channel);

  // The trend: week by week of receipt (Monday to Sunday, Kyiv).
  auto weeks = query(
      "SELECT to_char(date_trunc('week', received_at AT TIME ZONE 'Europe/Kyiv'), 'YYYY-MM-DD') AS week, count(*) AS "
      "cases, sum(kopecks)::bigint AS total FROM costed GROUP BY 1 ORDER BY 1");
  if (!weeks) return weeks.error();
  json::array weekly;
  for (int i = 0; i < weeks->rows(); ++i) {
    json::object w = costFigures(weeks->getInt(i, "cases"), weeks->getInt(i, "total"));
    w["week"] = std::string(weeks->get(i, "week"));
    weekly.push_back(std::move(w));
  }
  out["weekly"] = std::move(weekly);
  return out;
}

}  // namespace vkhid::flows::report_detail
