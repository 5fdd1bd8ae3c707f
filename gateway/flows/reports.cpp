#include "gateway/flows/reports.hpp"

#include "gateway/flows/report_query.hpp"

#include <boost/json.hpp>

#include "gateway/app/legal_config.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/domain/calendar.hpp"
#include "gateway/domain/kyiv_time.hpp"

namespace vkhid::flows {
namespace json = boost::json;
namespace {

using report_detail::share;

Error invalid(const std::string& message) { return Error::invalid("report.invalid", message); }

// The cases of the period with every fact a measure needs. Parameters: $1 from, $2 to (Kyiv dates),
// $3 the instant the report is as of, $4 the repeat window in days, $5 one participant's EDRPOU code
// (its own report: the cases it holds or forwarded on) or ''.
constexpr const char* kBase = R"SQL(
WITH base AS (
  SELECT c.id, c.ucc_number, c.kind, c.channel, c.restricted, c.status, c.received_at, c.due_at,
         coalesce(c.body->'classification'->>'topic', '') AS topic,
         -- In a participant's own report, a case it forwarded on is "forwarded_on": the body now holding it
         -- is another's business.
         CASE WHEN $5::text <> '' AND coalesce(c.participant_org_id, '') <> $5::text THEN 'forwarded_on'
              ELSE coalesce(c.participant_org_id, '') END AS participant,
         a.answered_at,
         a.answered_at IS NOT NULL AND c.answer_msg_id IS NOT NULL AND
           (coalesce(m.seal_verdict = 'valid', false) OR
            (jsonb_array_length(coalesce(m.signatures, '[]')) > 0 AND
             NOT jsonb_path_exists(m.signatures, '$[*] ? (@.state != "valid")')))
           AS electronic_signed,
         cardinality(c.declined_by) > 0 AS forwarded,
         EXISTS (SELECT 1 FROM case_event fl WHERE fl.case_id = c.id AND fl.event = 'forwarded'
                 AND fl.detail->>'late' = 'true' AND fl.at <= $3::timestamptz) AS forwarded_late,
         c.participant_reg_number IS NULL AS no_number,
         coalesce((c.body->>'handling_minutes')::int, 0) AS handling_minutes,
         rep.first_ucc
  FROM cases c
  LEFT JOIN LATERAL (SELECT min(e.at) AS answered_at FROM case_event e
                     WHERE e.case_id = c.id AND e.event = 'answered' AND e.at <= $3::timestamptz) a ON true
  LEFT JOIN message m ON m.msg_id = c.answer_msg_id
  LEFT JOIN LATERAL (
    SELECT f.ucc_number AS first_ucc FROM cases f
    WHERE c.kind = 'appeal' AND f.kind = 'appeal' AND f.id <> c.id
      AND NOT coalesce((c.body->'applicant'->>'anonymous')::boolean, false)
      AND f.received_at < c.received_at AND f.received_at >= c.received_at - make_interval(days => $4::int)
      AND f.body->'classification'->>'topic' = c.body->'classification'->>'topic'
      AND c.applicant_key IS NOT NULL AND f.applicant_key = c.applicant_key  -- keyed hashes (migration 0024)
      AND f.contact_keys && c.contact_keys
    ORDER BY f.received_at LIMIT 1) rep ON true
  WHERE (c.received_at AT TIME ZONE 'Europe/Kyiv')::date BETWEEN $1::date AND $2::date
    AND c.channel <> 'conformance'  -- a vendor's conformance run: test cases, no citizen's
    AND ($5::text = '' OR c.participant_org_id = $5::text OR $5::text = ANY (c.declined_by))
)
)SQL";

// The measures of a set of cases, named m_* (read by `measures`).
constexpr const char* kMeasuresSql = R"SQL(
  count(*) AS m_received,
  count(answered_at) AS m_answered,
  count(*) FILTER (WHERE answered_at <= coalesce(due_at, 'infinity')) AS m_on_time,
  coalesce(round((percentile_cont(0.5) WITHIN GROUP
                  (ORDER BY extract(epoch FROM answered_at - received_at) / 86400))::numeric, 1)::text, '') AS m_median,
  coalesce(round((percentile_cont(0.9) WITHIN GROUP
                  (ORDER BY extract(epoch FROM answered_at - received_at) / 86400))::numeric, 1)::text, '') AS m_p90,
  count(*) FILTER (WHERE answered_at IS NULL AND due_at < $3::timestamptz
                   AND status NOT IN ('closed', 'withdrawn', 'not_considered', 'merged', 'returned')) AS m_overdue,
  count(*) FILTER (WHERE electronic_signed) AS m_signed,
  count(first_ucc) AS m_repeated,
  count(*) FILTER (WHERE forwarded) AS m_forwarded,
  count(*) FILTER (WHERE forwarded_late) AS m_forwarded_late,
  count(*) FILTER (WHERE restricted) AS m_restricted,
  count(*) FILTER (WHERE answered_at IS NOT NULL AND no_number) AS m_no_number
)SQL";

json::value numberOrNull(std::string_view text) {
  if (text.empty()) return nullptr;
  return std::stod(std::string(text));
}

// One row's measures (kMeasuresSql) as a JSON object.
json::object measures(const store::PgResult& r, int row) {
  long long received = r.getInt(row, "m_received"), answered = r.getInt(row, "m_answered"),
            on_time = r.getInt(row, "m_on_time");
  long long signed_answers = r.getInt(row, "m_signed");
  return {
      {"received", received},
      {"answered", answered},
      {"answered_on_time", on_time},
      {"on_time_share", share(on_time, answered)},
      {"days_to_answer_median", numberOrNull(r.get(row, "m_median"))},
      {"days_to_answer_p90", numberOrNull(r.get(row, "m_p90"))},
      {"overdue_now", r.getInt(row, "m_overdue")},
      {"answered_electronically_signed", signed_answers},
      {"electronic_signed_share", share(signed_answers, answered)},
      {"repeated", r.getInt(row, "m_repeated")},
      {"forwarded_not_in_competence", r.getInt(row, "m_forwarded")},
      // Forwarded after the law's term for it (Law 393 art. 7: 5 days; Law 2939-VI art. 22: 5 working days).
      {"forwarded_late", r.getInt(row, "m_forwarded_late")},
      {"restricted", r.getInt(row, "m_restricted")},
      // Answered, but the participant never sent its registration receipt (3): the case has no number of
      // the participant's to quote.
      {"answered_without_number", r.getInt(row, "m_no_number")},
  };
}

std::string groupColumn(const std::string& by) {
  if (by == "participant") return "participant";
  if (by == "kind") return "kind";
  if (by == "topic") return "topic";
  return "channel";
}

}  // namespace

Status refreshCaseGauges(store::PgConnection& db) {
  auto r = db.exec(
      // From the open cases alone (migration 0030), not a scan of every case ever received.
      "SELECT count(*) AS open, count(*) FILTER (WHERE due_at < now()) AS overdue FROM case_open");
  if (!r) return r.error();
  app::metrics()
      .gauge("vkhid_cases_open", "Cases not yet answered or closed")
      .set(static_cast<double>(r->getInt(0, "open")));
  app::metrics()
      .gauge("vkhid_cases_overdue", "Cases not yet answered whose answer deadline has passed")
      .set(static_cast<double>(r->getInt(0, "overdue")));
  return {};
}

Status applyReportSettings(const app::ReportSettings& settings, ReportOptions& o) {
  auto names = app::loadTopicNames(settings.classifier_file);
  if (!names) return names.error();
  o.topic_names = std::move(names).value();
  o.repeat_window_days = settings.repeat_window_days;
  auto costs = app::loadUnitCosts(settings.costs_file);
  if (!costs) return costs.error();
  o.costs = std::move(costs).value();
  return {};
}

Status checkReportOptions(const ReportOptions& o) {
  auto from = domain::parseDate(o.from);
  if (!from) return invalid("--from: expected a date YYYY-MM-DD, not '" + o.from + "'");
  auto to = domain::parseDate(o.to);
  if (!to) return invalid("--to: expected a date YYYY-MM-DD, not '" + o.to + "'");
  if (*to < *from) return invalid("--to: expected a date on or after --from (" + o.from + "), not '" + o.to + "'");
  // Dates from 2000 to 2100, and a period of at most five years (a
  // period of a millennium kept three admin threads busy for minutes).
  if (from->year < 2000 || to->year > 2100) {
    return invalid("--from, --to: expected dates between 2000-01-01 and 2100-12-31");
  }
  if (domain::daysSinceEpoch(*to) - domain::daysSinceEpoch(*from) > 5 * 366) {
    return invalid("--to: a report covers at most 5 years");
  }
  static const std::vector<std::string> groupings{"", "participant", "kind", "topic", "channel"};
  if (std::find(groupings.begin(), groupings.end(), o.by) == groupings.end()) {
    return invalid("--by: expected participant, kind, topic or channel, not '" + o.by + "'");
  }
  if (!o.as_of.empty() && !domain::parseInstant(o.as_of)) {
    return invalid("--as-of: expected an ISO 8601 instant (e.g. 2026-11-30T23:59:59+02:00), not '" + o.as_of + "'");
  }
  if (!o.participant.empty() &&
      (o.participant.size() < 8 || o.participant.size() > 10 ||
       !std::all_of(o.participant.begin(), o.participant.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))) {
    return invalid("--participant: expected an EDRPOU code (8 to 10 digits), not '" + o.participant + "'");
  }
  if (o.repeat_window_days < 1 || o.repeat_window_days > 366) {
    return invalid("--repeat-window: expected 1 to 366 days, not " + std::to_string(o.repeat_window_days));
  }
  return {};
}

namespace report_detail {

double share(long long part, long long whole) {
  if (whole == 0) return 0;
  return static_cast<double>(
             static_cast<long long>(static_cast<double>(part) * 1000.0 / static_cast<double>(whole) + 0.5)) /
         1000.0;
}

Result<store::PgResult> ReportQuery::query(const std::string& select) const { return db.exec(kBase + select, params); }

Result<store::PgResult> ReportQuery::query(const std::string& select, const std::vector<store::PgParam>& all) const {
  return db.exec(kBase + select, all);
}

std::string ReportQuery::topicName(const std::string& code) const {
  auto it = o.topic_names.find(code);
  return it == o.topic_names.end() ? std::string() : it->second;
}

}  // namespace report_detail

namespace {

using report_detail::ReportQuery;
using report_detail::sectionDeliveries;
using report_detail::sectionRejections;

Result<json::array> sectionGroups(const ReportQuery& q) {
  const auto& o = q.o;
  auto query = [&](const std::string& select) { return q.query(select); };
  auto topicName = [&](const std::string& code) { return q.topicName(code); };
  // Breakdown: restricted cases form one row of their own, so no participant, topic or channel of a
  // restricted case can be read off the report.
  json::array groups;
  if (!o.by.empty()) {
    std::string column = groupColumn(o.by);
    auto rows = query("SELECT CASE WHEN restricted THEN 'restricted' ELSE " + column + " END AS g, " + kMeasuresSql +
                      ", CASE WHEN bool_or(restricted) THEN '' ELSE coalesce((SELECT p.name FROM participant p WHERE "
                      "p.org_id = min(participant)), '') END AS participant_name FROM base GROUP BY 1 ORDER BY "
                      "bool_or(restricted), 1");
    if (!rows) return rows.error();
    for (int i = 0; i < rows->rows(); ++i) {
      std::string key(rows->get(i, "g"));
      std::string name;
      if (key == "restricted") {
        name = "обмежений доступ";
      } else if (o.by == "participant") {
        name = key.empty()             ? "черга перевірки УКЦ"
               : key == "forwarded_on" ? "переслано іншим учасникам"
                                       : std::string(rows->get(i, "participant_name"));
      } else if (o.by == "topic") {
        name = topicName(key);
      }
      json::object g{{"key", key}, {"name", name}};
      for (auto& [k, v] : measures(*rows, i)) g[k] = v;
      groups.push_back(std::move(g));
    }
  }
  return groups;
}

Result<json::array> sectionOnTime(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  // On-time share per participant: the chart shows it whatever the breakdown.
  auto per_participant = query(
      "SELECT participant, coalesce((SELECT p.name FROM participant p WHERE p.org_id = participant), '') AS name, "
      "count(answered_at) AS answered, count(*) FILTER (WHERE answered_at <= coalesce(due_at, 'infinity')) AS in_time "
      "FROM base "
      "WHERE NOT restricted AND participant <> '' GROUP BY 1 HAVING count(answered_at) > 0 ORDER BY 1");
  if (!per_participant) return per_participant.error();
  json::array on_time;
  for (int i = 0; i < per_participant->rows(); ++i) {
    long long answered = per_participant->getInt(i, "answered"), in_time = per_participant->getInt(i, "in_time");
    on_time.push_back(json::object{{"participant", per_participant->get(i, "participant")},
                                   {"name", per_participant->get(i, "name")},
                                   {"answered", answered},
                                   {"on_time_share", share(in_time, answered)}});
  }
  return on_time;
}

Result<json::array> sectionOverdue(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  auto overdue = query(
      "SELECT ucc_number, kind, participant, to_char(due_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD HH24:MI') AS due, "
      "round((extract(epoch FROM $3::timestamptz - due_at) / 86400)::numeric, 1)::text AS days_late FROM base "
      "WHERE NOT restricted AND answered_at IS NULL AND due_at < $3::timestamptz "
      "AND status NOT IN ('closed', 'withdrawn', 'not_considered', 'merged', 'returned') ORDER BY due_at, ucc_number");
  if (!overdue) return overdue.error();
  json::array late;
  for (int i = 0; i < overdue->rows(); ++i) {
    late.push_back(json::object{{"ucc_number", overdue->get(i, "ucc_number")},
                                {"kind", overdue->get(i, "kind")},
                                {"participant", overdue->get(i, "participant")},
                                {"due", overdue->get(i, "due")},
                                {"days_late", std::stod(std::string(overdue->get(i, "days_late")))}});
  }
  return late;
}

Result<json::array> sectionRepeats(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  auto repeats = query(
      "SELECT ucc_number, first_ucc, topic FROM base WHERE NOT restricted AND first_ucc IS NOT NULL "
      "ORDER BY received_at");
  if (!repeats) return repeats.error();
  json::array repeated;
  for (int i = 0; i < repeats->rows(); ++i) {
    repeated.push_back(json::object{{"ucc_number", repeats->get(i, "ucc_number")},
                                    {"first_ucc_number", repeats->get(i, "first_ucc")},
                                    {"topic", repeats->get(i, "topic")}});
  }
  return repeated;
}

Result<json::array> sectionMisrouting(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  // Misrouting: each "not in our competence" forward, by the rule that had placed the case there, and
  // how many of them came after the law's term for forwarding.
  auto misrouted = query(
      "SELECT coalesce(r.detail->>'rule', '') AS rule, f.detail->>'from_participant' AS participant, "
      "count(*) AS forwarded, count(*) FILTER (WHERE f.detail->>'late' = 'true') AS late, "
      "coalesce((SELECT concat_ws(' ', 'kind=' || rr.kind, 'topic=' || rr.topic, 'addressee=' || rr.addressee_org_id) "
      "FROM routing_rule rr WHERE rr.id::text = r.detail->>'rule'), '') AS rule_matches "
      "FROM case_event f JOIN base b ON b.id = f.case_id "
      "LEFT JOIN LATERAL (SELECT detail FROM case_event x WHERE x.case_id = f.case_id AND x.event = 'routed' "
      "AND x.id < f.id ORDER BY x.id DESC LIMIT 1) r ON true "
      "WHERE f.event = 'forwarded' AND f.at <= $3::timestamptz "
      "AND ($5::text = '' OR f.detail->>'from_participant' = $5::text) GROUP BY 1, 2, 5 ORDER BY 3 DESC, 1, 2");
  if (!misrouted) return misrouted.error();
  json::array misrouting;
  for (int i = 0; i < misrouted->rows(); ++i) {
    std::string rule(misrouted->get(i, "rule"));
    json::object m{{"rule", rule.empty() ? json::value(nullptr) : json::value(std::stoll(rule))},
                   {"rule_matches", misrouted->get(i, "rule_matches")},
                   {"participant", misrouted->get(i, "participant")},
                   {"forwarded", misrouted->getInt(i, "forwarded")},
                   {"late", misrouted->getInt(i, "late")}};
    misrouting.push_back(std::move(m));
  }
  return misrouting;
}

// A case of the report's one participant ($4), or any case when there is none.
const std::string kDailyScope = "($4::text = '' OR c.participant_org_id = $4::text OR $4::text = ANY (c.declined_by))";

Result<json::array> sectionDaily(const ReportQuery& q) {
  auto& db = q.db;
  const auto& o = q.o;
  const auto& as_of = q.as_of;
  // The time series: cases received and answers given on each day of the period.
  auto daily = db.exec(
      "SELECT to_char(d, 'YYYY-MM-DD') AS date, "
      "(SELECT count(*) FROM cases c WHERE (c.received_at AT TIME ZONE 'Europe/Kyiv')::date = d "
      "AND c.channel <> 'conformance' AND " +
          kDailyScope +
          ") AS received, "
          "(SELECT count(DISTINCT e.case_id) FROM case_event e JOIN cases c ON c.id = e.case_id WHERE e.event = "
          "'answered' AND e.at <= $3::timestamptz AND (e.at AT TIME ZONE 'Europe/Kyiv')::date = d AND c.channel <> "
          "'conformance' AND " +
          kDailyScope +
          ") AS answered "
          "FROM generate_series($1::date, $2::date, interval '1 day') AS g(d) ORDER BY 1",
      {o.from, o.to, as_of, o.participant});
  if (!daily) return daily.error();
  json::array days;
  for (int i = 0; i < daily->rows(); ++i) {
    days.push_back(json::object{{"date", daily->get(i, "date")},
                                {"received", daily->getInt(i, "received")},
                                {"answered", daily->getInt(i, "answered")}});
  }
  return days;
}

Result<json::array> sectionHistogram(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  auto histogram = query(
      "SELECT b.lo, b.hi, count(x.d) AS answered FROM (VALUES (0, 1), (1, 3), (3, 5), (5, 10), (10, 15), (15, 30), "
      "(30, 45), "
      "(45, NULL)) AS b(lo, hi) LEFT JOIN (SELECT extract(epoch FROM answered_at - received_at) / 86400 AS d "
      "FROM base WHERE answered_at IS NOT NULL) x ON x.d >= b.lo AND (b.hi IS NULL OR x.d < b.hi) "
      "GROUP BY 1, 2 ORDER BY 1");
  if (!histogram) return histogram.error();
  json::array buckets;
  for (int i = 0; i < histogram->rows(); ++i) {
    buckets.push_back(json::object{
        {"from_days", histogram->getInt(i, "lo")},
        {"to_days", histogram->isNull(i, "hi") ? json::value(nullptr) : json::value(histogram->getInt(i, "hi"))},
        {"answered", histogram->getInt(i, "answered")}});
  }
  return buckets;
}

Result<json::array> sectionTopics(const ReportQuery& q) {
  auto query = [&](const std::string& select) { return q.query(select); };
  auto topicName = [&](const std::string& code) { return q.topicName(code); };
  // Topics: the ten most frequent, with their counts in the last two weeks of the period.
  auto topics = query(
      "SELECT topic, count(*) AS cases, "
      "count(*) FILTER (WHERE (received_at AT TIME ZONE 'Europe/Kyiv')::date > $2::date - 7) AS last_week, "
      "count(*) FILTER (WHERE (received_at AT TIME ZONE 'Europe/Kyiv')::date > $2::date - 14 AND "
      "(received_at AT TIME ZONE 'Europe/Kyiv')::date <= $2::date - 7) AS week_before "
      "FROM base WHERE NOT restricted AND topic <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10");
  if (!topics) return topics.error();
  json::array top;
  for (int i = 0; i < topics->rows(); ++i) {
    std::string code(topics->get(i, "topic"));
    long long last = topics->getInt(i, "last_week"), before = topics->getInt(i, "week_before");
    top.push_back(json::object{{"topic", code},
                               {"name", topicName(code)},
                               {"cases", topics->getInt(i, "cases")},
                               {"last_week", last},
                               {"week_before", before},
                               {"change", last - before}});
  }
  return top;
}

}  // namespace

Result<std::string> buildReport(store::PgConnection& db, const ReportOptions& o) {
  if (auto s = checkReportOptions(o); !s) return s.error();
  std::string as_of = o.as_of;
  if (as_of.empty()) {
    auto now = db.exec("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS now");
    if (!now) return now.error();
    as_of = std::string(now->get(0, "now"));
  }
  const ReportQuery q{db, o, as_of, {o.from, o.to, as_of, std::to_string(o.repeat_window_days), o.participant}};

  json::object report{
      {"from", o.from}, {"to", o.to}, {"as_of", as_of}, {"by", o.by}, {"repeat_window_days", o.repeat_window_days}};
  if (!o.participant.empty()) {
    auto name = db.exec("SELECT name FROM participant WHERE org_id = $1", {o.participant});
    if (!name) return name.error();
    report["participant"] =
        json::object{{"org_id", o.participant}, {"name", name->rows() ? std::string(name->get(0, 0)) : std::string()}};
  }

  auto totals = q.query(std::string("SELECT ") + kMeasuresSql + " FROM base");
  if (!totals) return totals.error();
  json::object total = measures(*totals, 0);
  report["empty"] = total["received"].as_int64() == 0;
  report["totals"] = total;

  using Section = Result<json::array> (*)(const ReportQuery&);
  static constexpr std::pair<const char*, Section> kSections[] = {{"groups", sectionGroups},
                                                                  {"on_time_by_participant", sectionOnTime},
                                                                  {"overdue", sectionOverdue},
                                                                  {"repeated", sectionRepeats},
                                                                  {"misrouting", sectionMisrouting},
                                                                  {"rejections", sectionRejections},
                                                                  {"deliveries", sectionDeliveries},
                                                                  {"daily", sectionDaily},
                                                                  {"days_to_answer", sectionHistogram},
                                                                  {"topics", sectionTopics}};
  for (const auto& [key, section] : kSections) {
    auto part = section(q);
    if (!part) return part.error();
    report[key] = std::move(*part);
  }
  // The Procedure's п. 3 criteria beyond the answer's time (flows/report_evaluation.cpp).
  auto satisfaction = report_detail::sectionSatisfaction(q);
  if (!satisfaction) return satisfaction.error();
  report["satisfaction"] = std::move(*satisfaction);
  auto cost = report_detail::sectionCost(q);
  if (!cost) return cost.error();
  report["cost"] = std::move(*cost);
  return json::serialize(report);
}

}  // namespace vkhid::flows
