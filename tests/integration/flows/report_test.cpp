// Reports against a seeded database of known cases: on time, late, overdue, forwarded, repeated and
// restricted — exact figures in every format, the HTML page rendered in headless Chromium, an empty
// period, the admin API and the metrics.
#define BOOST_TEST_MODULE integration_report
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr const char* kAsOf = "2026-11-30T12:00:00+02:00";

// Participant A = org(0), B = org(1). Times are Kyiv (+02 in November).
struct Seeded {
  ExchangeHarness x;
  std::string a, b, rule;

  Seeded() {
    x.setUp();
    x.addParticipant();
    a = x.org(0);
    b = x.org(1);
    rule =
        x.sql("INSERT INTO routing_rule (priority, topic, target_org_id) VALUES (50, '003', '" + b + "') RETURNING id");
    const std::string ivan = R"({"surname":"Іваненко","first_name":"Іван","email":"ivan@example.org"})";
    const std::string ivan_again = R"({"surname":"ІВАНЕНКО","first_name":"іван","email":"Ivan@Example.org"})";
    const std::string petro = R"({"surname":"Петренко","first_name":"Петро","phone":"+380 44 000 00 01"})";
    const std::string anonymous = R"({"anonymous":true})";
    // n, kind, channel, topic, participant, restricted, received, due, status, applicant, declined_by
    addCase(1, "appeal", "web", "006", a, false, "2026-11-02 10:00", "2026-12-02 23:59:59", "closed", ivan);
    addCase(2, "appeal", "phone", "006", b, false, "2026-11-03 10:00", "2026-11-18 23:59:59", "closed", petro);
    addCase(3, "appeal", "web", "010", a, false, "2026-11-10 10:00", "2026-11-25 23:59:59", "delivered", petro);
    addCase(4, "appeal", "web", "006", a, false, "2026-11-20 10:00", "2026-12-20 23:59:59", "delivered", ivan_again);
    addCase(5, "appeal", "web", "003", a, false, "2026-11-08 10:00", "2026-12-08 23:59:59", "closed", anonymous,
            "{" + b + "}");
    addCase(6, "violence_report", "phone", "013", b, true, "2026-11-15 10:00", "2026-11-16 10:00", "closed", anonymous);
    addCase(7, "violence_report", "phone", "013", b, true, "2026-11-21 10:00", "2026-11-22 10:00", "sent", anonymous);
    // Ivan's earlier appeal on the same topic, 48 days before case 1: outside the 30-day window.
    addCase(8, "appeal", "web", "006", a, false, "2026-09-15 10:00", "2026-10-15 23:59:59", "closed", ivan);

    answer(1, "2026-11-05 10:00", "valid");
    answer(2, "2026-11-20 10:00", "absent");
    answer(5, "2026-11-12 10:00", "valid");
    answer(6, "2026-11-15 20:00", "valid");
    answer(8, "2026-09-20 10:00", "valid");

    // Case 5 was placed at B by the rule, forwarded by B as not in its competence, then routed to A.
    event(5, "routed", "2026-11-08 10:01", R"({"participant":")" + b + R"(","rule":)" + rule + "}");
    event(5, "forwarded", "2026-11-09 10:00", R"({"from_participant":")" + b + R"("})");
    event(5, "routed", "2026-11-09 10:01", R"({"participant":")" + a + R"("})");

    // Packages out: delivered first time, delivered after two retries, dead after four.
    outbound(1, a, "sent", 1);
    outbound(2, b, "sent", 3);
    outbound(3, a, "dead", 5);
    // B rejected case 2's package (code 132); the gateway refused one of A's packages (code 111).
    // A receipt is recorded in its own row (migration 0034): the package it acknowledges is its reference.
    x.sql(
        "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, status, "
        "created_at, receipt) VALUES ('00000000-0000-4000-8000-0000000000b2', 'in', '" +
        b +
        "', 0, 4, '00000000-0000-4000-8000-0000000000a2', '\\x00', 'x', 'applied', '2026-11-04 10:00+02', "
        "'{\"error_code\": 132}'); "
        // …and its ordinary delivery receipt, which carries error code 0: not a rejection.
        "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, status, "
        "created_at, receipt) VALUES ('00000000-0000-4000-8000-0000000000b3', 'in', '" +
        b +
        "', 0, 1, '00000000-0000-4000-8000-0000000000a2', '\\x00', 'x', 'applied', '2026-11-04 09:00+02', "
        "'{\"error_code\": 0}'); "
        "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, bytes, sha256, status, error_code, created_at) "
        "VALUES ('00000000-0000-4000-8000-0000000000c1', 'in', '" +
        a + "', 3, '\\x00', 'x', 'rejected', 111, '2026-11-06 10:00+02')");
  }

  static std::string caseId(int n) { return "00000000-0000-4000-8000-00000000000" + std::to_string(n); }

  void addCase(int n, const std::string& kind, const std::string& channel, const std::string& topic,
               const std::string& participant, bool restricted, const std::string& received, const std::string& due,
               const std::string& status, const std::string& applicant, const std::string& declined = "{}") {
    std::string body = R"({"kind":")" + kind + R"(","applicant":)" + applicant + R"(,"classification":{"topic":")" +
                       topic + R"("},"text":"…"})";
    x.sql(
        "INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, channel, "
        "received_at, participant_org_id, due_at, body, client_id, declined_by) VALUES ('" +
        caseId(n) + "', 'УКЦ-2026-000000" + std::to_string(n) + "', 'T" + std::to_string(n) + "', '" + kind + "', '" +
        status + "', " + (restricted ? "true" : "false") + ", false, 'normal', '" + channel + "', '" + received +
        "+02', '" + participant + "', '" + due + "+02', $j$" + body + "$j$::jsonb, 'seed', '" + declined + "')");
    // What the intake writes for a named applicant's appeal: keyed hashes of the name and of each contact
    // (migration 0024), which the report compares. Seeded with md5 of the same normalised values.
    x.sql(
        "UPDATE cases SET applicant_key = md5(lower(a->>'surname') || '|' || lower(a->>'first_name') || '|' || "
        "lower(coalesce(a->>'patronymic', ''))), contact_keys = array_remove(ARRAY[md5('e' || "
        "lower(NULLIF(a->>'email', ''))), md5('p' || NULLIF(regexp_replace(a->>'phone', '[^0-9]', '', 'g'), '')), "
        "md5('a' || lower(NULLIF(a->>'address', '')))], NULL) FROM (SELECT body->'applicant' AS a FROM cases "
        "WHERE id = '" +
        caseId(n) + "') s WHERE id = '" + caseId(n) +
        "' AND kind = 'appeal' AND a->>'surname' "
        "IS NOT NULL");
  }

  void answer(int n, const std::string& at, const std::string& seal) {
    std::string msg = "00000000-0000-4000-8000-0000000000d" + std::to_string(n);
    x.sql(
        "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, status, "
        "seal_verdict, created_at) SELECT '" +
        msg + "', 'in', id, participant_org_id, 3, '\\x00', 'x', 'applied', '" + seal + "', '" + at +
        "+02' FROM cases WHERE id = '" + caseId(n) + "'; UPDATE cases SET answer_msg_id = '" + msg + "' WHERE id = '" +
        caseId(n) + "'");
    event(n, "answered", at, R"({"msg_id":")" + msg + R"("})");
  }

  void event(int n, const std::string& name, const std::string& at, const std::string& detail) {
    x.sql("INSERT INTO case_event (case_id, at, actor, event, detail) VALUES ('" + caseId(n) + "', '" + at +
          "+02', 'seed', '" + name + "', $j$" + detail + "$j$::jsonb)");
  }

  void outbound(int n, const std::string& org, const std::string& status, int attempts) {
    x.sql(
        "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, status, attempts, "
        "created_at) VALUES ('00000000-0000-4000-8000-0000000000a" +
        std::to_string(n) + "', 'out', '" + caseId(n) + "', '" + org + "', 1, '\\x00', 'x', '" + status + "', " +
        std::to_string(attempts) + ", '2026-11-0" + std::to_string(n + 1) + " 10:00+02')");
  }

  // `vkhid report` for November with `extra` options; returns what it wrote to --out.
  std::string report(const std::vector<std::string>& extra) {
    std::string out = x.dir() + "/report-" + std::to_string(++runs);
    std::vector<std::string> args{"report",  "--from", "2026-11-01", "--to", "2026-11-30",
                                  "--as-of", kAsOf,    "--out",      out};
    args.insert(args.end(), extra.begin(), extra.end());
    x.runVkhid(args);
    return readFile(out);
  }
  int runs = 0;
};

json::object groupOf(const json::object& r, const std::string& key) {
  for (const auto& g : r.at("groups").as_array()) {
    if (g.at("key").as_string() == key) return g.as_object();
  }
  BOOST_FAIL("no group " + key);
  return {};
}

double num(const json::value& v) { return v.is_double() ? v.as_double() : static_cast<double>(v.as_int64()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(report_figures_are_exact_in_json_csv_and_table) {
  Seeded s;
  auto r = json::parse(s.report({"--by", "participant", "--format", "json"})).as_object();

  // Totals: cases 1–7 (8 was received in September). Restricted 6 and 7 count here and nowhere else.
  const auto& t = r.at("totals").as_object();
  BOOST_TEST(t.at("received").as_int64() == 7);
  BOOST_TEST(t.at("answered").as_int64() == 4);          // 1, 2, 5, 6
  BOOST_TEST(t.at("answered_on_time").as_int64() == 3);  // 2 was answered two days late
  BOOST_TEST(num(t.at("on_time_share")) == 0.75);
  BOOST_TEST(num(t.at("days_to_answer_median")) == 3.5);  // 0.4, 3, 4, 17
  BOOST_TEST(num(t.at("days_to_answer_p90")) == 13.1);
  BOOST_TEST(t.at("overdue_now").as_int64() == 2);  // 3, and restricted 7
  BOOST_TEST(t.at("answered_electronically_signed").as_int64() == 3);
  BOOST_TEST(t.at("repeated").as_int64() == 1);
  BOOST_TEST(t.at("forwarded_not_in_competence").as_int64() == 1);
  BOOST_TEST(t.at("restricted").as_int64() == 2);

  auto ga = groupOf(r, s.a);
  BOOST_TEST(ga.at("received").as_int64() == 4);
  BOOST_TEST(ga.at("answered").as_int64() == 2);
  BOOST_TEST(num(ga.at("on_time_share")) == 1.0);
  BOOST_TEST(num(ga.at("days_to_answer_p90")) == 3.9);
  BOOST_TEST(ga.at("overdue_now").as_int64() == 1);
  BOOST_TEST(ga.at("repeated").as_int64() == 1);
  auto gb = groupOf(r, s.b);
  BOOST_TEST(gb.at("received").as_int64() == 1);  // B's restricted cases are not B's here
  BOOST_TEST(num(gb.at("on_time_share")) == 0.0);
  BOOST_TEST(num(gb.at("days_to_answer_median")) == 17.0);
  auto gr = groupOf(r, "restricted");
  BOOST_TEST(gr.at("received").as_int64() == 2);
  BOOST_TEST(gr.at("name").as_string() == "обмежений доступ");
  BOOST_TEST(r.at("groups").as_array().size() == 3u);

  // Lists: by UCC number, never a restricted case.
  const auto& overdue = r.at("overdue").as_array();
  BOOST_REQUIRE(overdue.size() == 1u);
  BOOST_TEST(overdue[0].at("ucc_number").as_string() == "УКЦ-2026-0000003");
  BOOST_TEST(num(overdue[0].at("days_late")) == 4.5);
  const auto& repeated = r.at("repeated").as_array();
  BOOST_REQUIRE(repeated.size() == 1u);
  BOOST_TEST(repeated[0].at("ucc_number").as_string() == "УКЦ-2026-0000004");
  BOOST_TEST(repeated[0].at("first_ucc_number").as_string() == "УКЦ-2026-0000001");
  const auto& misrouting = r.at("misrouting").as_array();
  BOOST_REQUIRE(misrouting.size() == 1u);
  BOOST_TEST(std::to_string(misrouting[0].at("rule").as_int64()) == s.rule);
  BOOST_TEST(misrouting[0].at("participant").as_string() == s.b);
  BOOST_TEST(misrouting[0].at("rule_matches").as_string() == "topic=003");
  BOOST_TEST(json::serialize(r.at("rejections")) ==
             R"x([{"by":"participant","code":132,"meaning":"the case is not in the participant's competence",)x"
             R"x("meaning_uk":"Звернення не належить до компетенції органу","packages":1},{"by":"gateway","code":111,)x"
             R"x("meaning":"the package seal does not verify (content changed or wrong key)",)x"
             R"x("meaning_uk":"Електронна печатка пакета недійсна","packages":1}])x");
  BOOST_TEST(json::serialize(r.at("deliveries")) ==
             R"([{"adapter":"amqp","packages":3,"delivered":2,"retried":2,"retries":6,"failed":1}])");
  BOOST_TEST(json::serialize(r.at("days_to_answer")).find(R"({"from_days":3,"to_days":5,"answered":2})") !=
             std::string::npos);
  BOOST_TEST(json::serialize(r.at("topics").as_array()[0]) ==
             R"({"topic":"006","name":"соціальний захист","cases":3,"last_week":0,"week_before":1,"change":-1})");
  for (const auto& topic : r.at("topics").as_array()) BOOST_TEST(topic.at("topic").as_string() != "013");
  const auto& daily = r.at("daily").as_array();
  BOOST_TEST(daily.size() == 30u);
  BOOST_TEST(json::serialize(daily[4]) == R"({"date":"2026-11-05","received":0,"answered":1})");
  // No personal data anywhere in the report.
  std::string all = json::serialize(r);
  for (const char* personal : {"Іваненко", "ІВАНЕНКО", "Петренко", "ivan@", "380"}) {
    BOOST_TEST(all.find(personal) == std::string::npos, personal);
  }

  // CSV: the same figures, one row per group and the total.
  std::string csv = s.report({"--by", "participant", "--format", "csv"});
  BOOST_TEST(csv.starts_with("group,name,received,answered,answered_on_time,on_time_share,"));
  // The seed records no participant number for any case: the four answered have none.
  BOOST_TEST(csv.find("\r\ntotal,,7,4,3,0.75,3.5,13.1,2,3,0.75,1,1,0,2,4\r\n") != std::string::npos, csv);
  BOOST_TEST(csv.find("\r\nrestricted,обмежений доступ,2,1,1,1,0.4,0.4,1,1,1,0,0,0,2,1\r\n") != std::string::npos, csv);

  // The table, for a terminal.
  std::string table = s.report({"--format", "table"});
  BOOST_TEST(table.find("УКЦ-2026-0000003") != std::string::npos, table);
  BOOST_TEST(table.find("75.0%") != std::string::npos, table);
  BOOST_TEST(table.find("Іваненко") == std::string::npos);

  // The breakdown by topic never shows a restricted case's topic.
  auto by_topic = json::parse(s.report({"--by", "topic", "--format", "json"})).as_object();
  BOOST_TEST(groupOf(by_topic, "006").at("received").as_int64() == 3);
  BOOST_TEST(json::serialize(by_topic).find("\"013\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(report_html_renders_its_charts_in_chromium) {
  Seeded s;
  std::string html = s.x.dir() + "/report.html";
  writeFile(html, s.report({"--by", "kind", "--format", "html"}));
  BOOST_TEST(readFile(html).find("<script") == std::string::npos);  // self-contained: no scripts at all
  std::string shots = s.x.dir() + "/report";
  ChildProcess node({"/usr/bin/env", "node", sourceDir() + "/tests/browser/render_report.mjs", html, shots}, {},
                    s.x.dir() + "/render.log");
  auto code = node.wait(120s);
  BOOST_REQUIRE_MESSAGE(code && *code == 0, node.log());
  std::string out = node.log();
  auto rendered = json::parse(out.substr(out.find('{'))).as_object();
  for (const char* viewport : {"laptop", "phone"}) {
    const auto& v = rendered.at(viewport).as_object();
    BOOST_TEST(v.at("lang").as_string() == "uk");
    BOOST_TEST(v.at("external").as_array().empty(), viewport << " fetched from outside");
    BOOST_TEST(!v.at("horizontalOverflow").as_bool(), viewport << " wider than the screen");
    std::map<std::string, json::object> charts;
    for (const auto& c : v.at("charts").as_array()) charts[std::string(c.at("id").as_string())] = c.as_object();
    for (const char* id : {"daily", "on-time", "days", "topics"}) {
      BOOST_REQUIRE_MESSAGE(charts.count(id), viewport << ": no chart " << id);
      const auto& c = charts[id];
      BOOST_TEST(c.at("width").as_int64() > 200, viewport << " " << id);
      BOOST_TEST(c.at("height").as_int64() > 40, viewport << " " << id);
      BOOST_TEST(num(c.at("smallestText")) >= 9.0, viewport << " " << id << ": labels too small to read");
      BOOST_TEST(c.at("drawn").as_int64() > 0, viewport << " " << id << " draws nothing");
      BOOST_TEST(c.at("drawn").as_int64() == c.at("shapes").as_int64(), viewport << " " << id);
    }
    BOOST_TEST(charts["daily"].at("shapes").as_int64() == 2 + 2 * 30);  // two lines, a point a day each
    BOOST_TEST(charts["topics"].at("shapes").as_int64() == 3);          // 006, 003, 010; never 013
    BOOST_TEST(charts["on-time"].at("shapes").as_int64() == 2);         // A and B
  }
  for (const char* shot : {"-laptop.png", "-phone.png"}) {
    std::string png = readFile(shots + shot);
    BOOST_TEST(png.size() > 20000u, shot << " is " << png.size() << " bytes");
    BOOST_TEST(png.substr(1, 3) == "PNG");
  }
}

BOOST_AUTO_TEST_CASE(report_empty_period_says_no_cases) {
  Seeded s;
  std::vector<std::string> base{"report", "--from", "2025-01-01", "--to", "2025-01-31", "--out"};
  auto run = [&](const std::string& format) {
    std::string out = s.x.dir() + "/empty." + format;
    auto args = base;
    args.insert(args.end(), {out, "--format", format});
    s.x.runVkhid(args);
    return readFile(out);
  };
  auto r = json::parse(run("json")).as_object();
  BOOST_TEST(r.at("empty").as_bool());
  BOOST_TEST(r.at("totals").at("received").as_int64() == 0);
  BOOST_TEST(r.at("totals").at("days_to_answer_median").is_null());
  BOOST_TEST(run("table").find("No cases in this period.") != std::string::npos);
  BOOST_TEST(run("html").find("Немає звернень за цей період.") != std::string::npos);
  BOOST_TEST(run("csv").find("total,,0,0,0,0,,,0,0,0,0,0,0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(report_bad_options_are_refused_with_the_option_named) {
  Seeded s;
  auto refused = [&](const std::vector<std::string>& args, const std::string& named) {
    auto [code, out] = s.x.runVkhidStatus(args);
    BOOST_TEST(code == 2, out);
    BOOST_TEST(out.find(named) != std::string::npos, out);
  };
  refused({"report", "--from", "2026-02-30", "--to", "2026-03-01"}, "--from: expected a date YYYY-MM-DD");
  refused({"report", "--from", "2026-03-02", "--to", "2026-03-01"}, "--to: expected a date on or after --from");
  refused({"report", "--from", "2026-03-01", "--to", "2026-03-02", "--by", "colour"}, "--by: expected participant");
  refused({"report", "--from", "2026-03-01", "--to", "2026-03-02", "--format", "pdf"}, "--format: expected table");
}

BOOST_AUTO_TEST_CASE(report_on_the_admin_api_and_as_metrics) {
  Seeded s;
  s.x.startGateway();
  std::string token = s.x.issueToken("dashboard", "auditor");
  auto get = [&](const std::string& target) {
    return httpRequest("GET", "127.0.0.1", s.x.adminPort(), target, {{"Authorization", "Bearer " + token}}, "");
  };
  auto reply =
      get("/api/v1/admin/reports?from=2026-11-01&to=2026-11-30&by=channel&as_of=2026-11-30T12%3A00%3A00%2B02%3A00");
  BOOST_REQUIRE_MESSAGE(reply.status == 200, reply.body);
  auto r = json::parse(reply.body).as_object();
  BOOST_TEST(r.at("totals").at("received").as_int64() == 7);
  BOOST_TEST(groupOf(r, "web").at("received").as_int64() == 4);
  BOOST_TEST(groupOf(r, "phone").at("received").as_int64() == 1);  // 2; 6 and 7 are restricted
  auto html = get("/api/v1/admin/reports?from=2026-11-01&to=2026-11-30&format=html");
  BOOST_TEST(html.status == 200);
  BOOST_TEST(html.body.find("<svg") != std::string::npos);
  auto bad = get("/api/v1/admin/reports?from=2026-11-31&to=2026-11-30");
  BOOST_TEST(bad.status == 422);
  BOOST_TEST(bad.body.find("--from") != std::string::npos, bad.body);

  // Gauges, totals only: open cases 3, 4 and 7; overdue those of them whose deadline has passed by now.
  BOOST_REQUIRE(eventually(
      [&] {
        return httpGet("127.0.0.1", s.x.adminPort(), "/metrics").body.find("vkhid_cases_open 3\n") != std::string::npos;
      },
      30s));
  std::string overdue = s.x.sql("SELECT count(*) FROM cases WHERE status IN ('delivered', 'sent') AND due_at < now()");
  auto metrics = httpGet("127.0.0.1", s.x.adminPort(), "/metrics").body;
  BOOST_TEST(metrics.find("vkhid_cases_overdue " + overdue + "\n") != std::string::npos, metrics);
  BOOST_TEST(metrics.find("restricted") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
