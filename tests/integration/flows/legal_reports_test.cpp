// The law's workflow beyond the answer (issue 30), the parts people read: the journal of violence
// reports as the Social Policy ministry gets it, the applicant's rating, the cost per appeal, and a
// participant body's own report. Real gateway, database, broker and participant simulators.
#define BOOST_TEST_MODULE integration_legal_reports
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <thread>

#include "gateway/flows/violence_journal.hpp"
#include "gateway/store/at_rest.hpp"
#include "tests/support/exchange_harness.hpp"
#include "tests/support/pki.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

HttpReply adminGet(ExchangeHarness& x, const std::string& token, const std::string& path_and_query) {
  return httpRequest("GET", "127.0.0.1", x.adminPort(), "/api/v1/admin/" + path_and_query,
                     {{"Authorization", "Bearer " + token}}, "");
}

// Query-string encoding of UTF-8 text (RFC 3986 unreserved characters kept).
std::string urlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string today(ExchangeHarness& x) {
  return x.sql("SELECT to_char(now() AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD')");
}

json::object reportAs(ExchangeHarness& x, const std::string& token, const std::string& extra = "") {
  auto r = adminGet(x, token, "reports?from=" + today(x) + "&to=" + today(x) + "&format=json" + extra);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  return json::parse(r.body).as_object();
}

HttpReply rate(ExchangeHarness& x, const std::string& code, const std::string& body) {
  return httpRequest("POST", "127.0.0.1", x.intakePort(), "/api/v1/track/" + code + "/rating",
                     {{"Content-Type", "application/json"}}, body);
}

std::string violenceReport(const std::string& victim, const json::array& forms) {
  return exampleCaseWith([&](json::object& o) {
    o["kind"] = "violence_report";
    o["text"] = "Сусід регулярно б’є дружину, чути крики щовечора.";
    o["urgency"] = "urgent";
    o["channel"] = "hotline";
    o.erase("addressee_org_id");
    o["classification"].as_object().erase("type");
    o["violence"] = json::object{
        {"forms", forms}, {"victim", victim}, {"offender", "Чоловік, близько 40 років"}, {"child_involved", true}};
  });
}

// Cells of one CSV line (RFC 4180: quoted cells, "" for a quote).
std::vector<std::string> csvCells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(legal, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(legal_journal_export_with_its_columns) {
  ExchangeHarness x;
  x.setUp();
  const std::string ministry = x.issueToken("msp-reader", "auditor", true);
  const std::string plain_admin = x.issueToken("ops", "admin");
  x.startGateway();
  x.startSimulator();
  auto first =
      x.submitJson(violenceReport("Дружина, 35 років, м. Київ", json::array{"physical", "psychological"}), "v1");
  BOOST_REQUIRE_MESSAGE(first.status == 201, first.body);
  BOOST_REQUIRE(x.submit("a1").status == 201);  // an appeal: never in the journal
  auto second = x.submitJson(violenceReport("Донька, 12 років", json::array{"psychological"}), "v2");
  BOOST_REQUIRE_MESSAGE(second.status == 201, second.body);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 3, 60s), x.histogram());
  // Numbered in the order of entry, none skipped.
  BOOST_TEST(x.sql("SELECT string_agg(entry_no::text, ',' ORDER BY entry_no) FROM violence_journal") == "1,2");
  BOOST_TEST(x.sql("SELECT case_id FROM violence_journal WHERE entry_no = 1") == jsonField(first.body, "id"));

  const std::string period = "journal?from=" + today(x) + "&to=" + today(x);
  // Restricted: a client without restricted access is refused; with it, a reason is required.
  BOOST_TEST(adminGet(x, plain_admin, period + "&format=csv&reason=check").status == 403);
  auto no_reason = adminGet(x, ministry, period + "&format=csv");
  BOOST_TEST(no_reason.status == 422);
  BOOST_TEST(no_reason.body.find("reason") != std::string::npos, no_reason.body);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'journal.read'") == 0);

  auto csv = adminGet(x, ministry, period + "&format=csv&reason=" + urlEncode("Запит Мінсоцполітики № 12"));
  BOOST_REQUIRE_MESSAGE(csv.status == 200, csv.body);
  BOOST_TEST(csv.body.starts_with("\xEF\xBB\xBF"));
  std::vector<std::string> lines;
  for (std::size_t at = 3; at < csv.body.size();) {
    auto end = csv.body.find("\r\n", at);
    lines.push_back(csv.body.substr(at, end - at));
    at = end + 2;
  }
  BOOST_REQUIRE_EQUAL(lines.size(), 3u);  // the heading and two entries
  const auto heading = csvCells(lines[0]);
  BOOST_REQUIRE_EQUAL(heading.size(), 12u);
  BOOST_TEST(heading[0] == "№ з/п");
  BOOST_TEST(heading[4] == "Відомості про постраждалу особу");
  BOOST_TEST(heading[5] == "Відомості про кривдника");
  BOOST_TEST(heading[6] == "Форма насильства");
  const auto entry1 = csvCells(lines[1]), entry2 = csvCells(lines[2]);
  BOOST_REQUIRE_EQUAL(entry1.size(), 12u);
  BOOST_TEST(entry1[0] == "1");
  BOOST_TEST(entry2[0] == "2");
  BOOST_TEST(entry1[3].find("Шевченко Олена Петрівна") != std::string::npos, entry1[3]);
  BOOST_TEST(entry1[4] == "Дружина, 35 років, м. Київ; дитина");
  BOOST_TEST(entry1[5] == "Чоловік, близько 40 років");
  BOOST_TEST(entry1[6] == "фізичне, психологічне");
  BOOST_TEST(entry2[6] == "психологічне");
  BOOST_TEST(entry1[8].find("ЄДРПОУ " + x.org()) != std::string::npos, entry1[8]);
  BOOST_TEST(entry1[9].find("розгляд завершено") != std::string::npos, entry1[9]);
  BOOST_TEST(entry1[10] == x.sql("SELECT ucc_number FROM cases WHERE id = '" + jsonField(first.body, "id") + "'"));
  BOOST_TEST(csv.body.find("вуличне освітлення") == std::string::npos);  // the appeal is not there

  // The form's page: annex 6's heading, its columns numbered, one row per entry.
  auto html = adminGet(x, ministry, period + "&format=html&reason=inspection");
  BOOST_REQUIRE(html.status == 200);
  BOOST_TEST(html.body.find("Додаток 6") != std::string::npos);
  BOOST_TEST(html.body.find("№ 658") != std::string::npos);
  BOOST_TEST(html.body.find("data-entry=\"1\"") != std::string::npos);
  BOOST_TEST(html.body.find("data-entry=\"2\"") != std::string::npos);
  std::size_t th = 0;
  for (auto at = html.body.find("<th scope=\"col\">"); at != std::string::npos;
       at = html.body.find("<th scope=\"col\">", at + 1)) {
    ++th;
  }
  BOOST_TEST(th == 12u);

  // Each read is evidence: who, which entries, why, and the digest of exactly what they were given.
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'journal.read'") == 2);
  BOOST_TEST(x.sql("SELECT actor FROM audit_entry WHERE action = 'journal.read' ORDER BY id LIMIT 1") ==
             "admin:msp-reader");
  const std::string subject =
      x.sql("SELECT subject FROM audit_entry WHERE action = 'journal.read' ORDER BY id LIMIT 1");
  BOOST_TEST(subject.find("entries:1-2") != std::string::npos, subject);
  BOOST_TEST(subject.find("Запит Мінсоцполітики № 12") != std::string::npos, subject);
  BOOST_TEST(x.sql("SELECT encode(sha256(convert_to($j$" + csv.body + "$j$, 'UTF8')), 'hex')") ==
             x.sql("SELECT payload_sha256 FROM audit_entry WHERE action = 'journal.read' ORDER BY id LIMIT 1"));
  // The same from the command line, for an administrator at the UCC: the read logged with who ran it.
  x.runVkhid({"journal", "export", "--from", today(x), "--to", today(x), "--reason", "Перевірка", "--out",
              x.dir() + "/journal.csv"});
  BOOST_TEST(readFile(x.dir() + "/journal.csv") == csv.body);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'journal.read' AND actor LIKE 'admin:cli:%' "
                     "AND subject LIKE '%reason:Перевірка'") == 1);
  // Entering them was evidence too.
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'journal.insert'") == 2);
}

// The register's side as its interface asks (flows/violence_journal.hpp): it numbers what it takes, and
// is away when told to be. The journal's passing is ours; the register is the outside party.
class RegisterAtHand : public vkhid::flows::ViolenceRegister {
 public:
  vkhid::Result<std::string> submit(const vkhid::flows::JournalEntry& entry) override {
    if (away_at == static_cast<int>(taken.size())) {
      away_at = -1;
      return vkhid::Error{vkhid::ErrorKind::Unavailable, "register.away", "the register does not answer"};
    }
    taken.push_back(entry);
    return "ЄДР-" + std::to_string(1000 + taken.size());
  }
  std::vector<vkhid::flows::JournalEntry> taken;
  int away_at = -1;  // refuse the submission after this many were taken, once
};

BOOST_AUTO_TEST_CASE(legal_journal_passes_entries_to_the_register_once) {
  ExchangeHarness x;
  x.setUp();
  x.startGateway();
  x.startSimulator();
  for (int i = 0; i < 3; ++i) {
    auto r =
        x.submitJson(violenceReport("Особа " + std::to_string(i), json::array{"physical"}), "v" + std::to_string(i));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  auto db = vkhid::store::PgConnection::connect({x.dbUrl(), 5, 30000, "legal-register"});
  BOOST_REQUIRE(db);
  // The journal's victims and offenders are sealed at rest: this process opens them with the master key.
  auto ring = vkhid::store::AtRest::fromFile(pkiDir() + "/master.key", "dev-master-1", {x.dbUrl(), 5, 30000, "keys"});
  BOOST_REQUIRE(ring);
  vkhid::store::installAtRest(*ring);
  RegisterAtHand reg;
  reg.away_at = 1;  // takes the first, then is away: the rest wait, in order
  auto first = vkhid::flows::passToRegister(*db, reg, 10);
  BOOST_REQUIRE(first);
  BOOST_TEST(*first == 1);
  auto rest = vkhid::flows::passToRegister(*db, reg, 10);
  BOOST_REQUIRE(rest);
  BOOST_TEST(*rest == 2);
  BOOST_REQUIRE_EQUAL(reg.taken.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    BOOST_TEST(reg.taken[i].entry_no == static_cast<long long>(i + 1));
    BOOST_TEST(reg.taken[i].columns.size() == vkhid::flows::journalColumns().size());
  }
  BOOST_TEST(reg.taken[2].columns[4] == "Особа 2; дитина");
  // Nothing twice: every entry carries the register's number, and a further run passes nothing.
  BOOST_TEST(x.sql("SELECT string_agg(register_ref, ',' ORDER BY entry_no) FROM violence_journal") ==
             "ЄДР-1001,ЄДР-1002,ЄДР-1003");
  auto again = vkhid::flows::passToRegister(*db, reg, 10);
  BOOST_REQUIRE(again);
  BOOST_TEST(*again == 0);
  BOOST_TEST(x.count("SELECT count(*) FROM audit_entry WHERE action = 'journal.update' AND subject LIKE "
                     "'%register:ЄДР-%'") == 3);
}

BOOST_AUTO_TEST_CASE(legal_rating_recorded_once) {
  ExchangeHarness x;
  x.setUp();
  const std::string auditor = x.issueToken("audit", "auditor");
  x.startGateway();
  // No participant yet: the case waits, unanswered, and cannot be rated.
  auto r = x.submit("r1");
  BOOST_REQUIRE(r.status == 201);
  const std::string code = jsonField(r.body, "tracking_code"), id = jsonField(r.body, "id");
  auto early = rate(x, code, R"({"score": 5})");
  BOOST_TEST(early.status == 409);
  BOOST_TEST(early.body.find("answer") != std::string::npos, early.body);

  x.startSimulator();
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 1, 60s), x.histogram());
  // The answer's notice offers the rating.
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'applicant.answered' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'rating' = '/api/v1/track/" +
                     code + "/rating'") == 1);
  auto tracked = json::parse(httpGet("127.0.0.1", x.intakePort(), "/api/v1/track/" + code).body).as_object();
  BOOST_TEST(tracked.at("rating").at("open").as_bool());

  // A wrong score is refused, naming the field; nothing is recorded.
  auto wrong = rate(x, code, R"({"score": 6})");
  BOOST_TEST(wrong.status == 422);
  BOOST_TEST(wrong.body.find("/score") != std::string::npos, wrong.body);
  BOOST_TEST(rate(x, "ABCD-EFGH-JKMN-PQRS", R"({"score": 3})").status == 404);
  BOOST_TEST(x.count("SELECT count(*) FROM case_rating") == 0);

  // Two ratings sent at once: one is recorded, the other refused.
  HttpReply a, b;
  std::thread ta([&] { a = rate(x, code, R"({"score": 4, "comment": "Швидко, дякую. Тел. 0501234567"})"); });
  std::thread tb([&] { b = rate(x, code, R"({"score": 1})"); });
  ta.join();
  tb.join();
  BOOST_TEST(((a.status == 201 && b.status == 409) || (a.status == 409 && b.status == 201)), a.body + b.body);
  const std::string kept = a.status == 201 ? "4" : "1";
  BOOST_TEST(x.sql("SELECT score FROM case_rating WHERE case_id = '" + id + "'") == kept);
  // Once, for good: a later one is refused too, and the first stands.
  auto again = rate(x, code, R"({"score": 2})");
  BOOST_TEST(again.status == 409);
  BOOST_TEST(again.body.find("rated once") != std::string::npos, again.body);
  BOOST_TEST(x.sql("SELECT score FROM case_rating WHERE case_id = '" + id + "'") == kept);
  tracked = json::parse(httpGet("127.0.0.1", x.intakePort(), "/api/v1/track/" + code).body).as_object();
  BOOST_TEST(!tracked.at("rating").at("open").as_bool());
  BOOST_TEST(tracked.at("rating").at("score").as_int64() == std::stoll(kept));
  // An event of the case, its evidence entry with the score and never the comment.
  BOOST_TEST(x.sql("SELECT detail->>'score' FROM case_event WHERE event = 'rated' AND case_id = '" + id + "'") == kept);
  BOOST_TEST(
      x.count("SELECT count(*) FROM audit_entry WHERE action = 'case.rated' AND subject LIKE 'case:" + id + "%'") == 1);
  BOOST_TEST(x.count("SELECT count(*) FROM case_event WHERE detail::text LIKE '%Швидко%'") == 0);

  // The report: the distribution by participant and topic, no comment, no tracking code.
  auto report = reportAs(x, auditor);
  const auto& s = report.at("satisfaction").as_object();
  BOOST_TEST(s.at("ratings").as_int64() == 1);
  BOOST_TEST(s.at("distribution").as_array().at(std::stoi(kept) - 1).as_int64() == 1);
  BOOST_TEST(s.at("by_participant").as_array().at(0).at("participant").as_string() == x.org());
  BOOST_TEST(s.at("by_topic").as_array().at(0).at("topic").as_string() == "004");
  BOOST_TEST(s.at("weekly").as_array().size() == 1u);
  const std::string text = json::serialize(report);
  BOOST_TEST(text.find("Швидко") == std::string::npos);
  BOOST_TEST(text.find(code) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(legal_cost_exact_on_known_dataset) {
  ExchangeHarness x;
  x.setUp();
  const std::string auditor = x.issueToken("audit", "auditor");
  // The UCC's unit costs: per channel, per handling minute, per package.
  const std::string costs = x.dir() + "/costs.toml";
  std::ofstream(costs) << "currency = \"UAH\"\nper_package = 0.40\nper_handling_minute = 6.50\n"
                          "[channel]\ndefault = 5.00\nhotline = 28.00\nweb = 3.00\n";
  x.startGateway(0, {{"VKHID_REPORTS_COSTS_FILE", costs}});
  x.startSimulator();
  struct Known {
    const char* channel;
    int minutes;
    long long channel_kopecks;
  };
  const Known known[] = {{"hotline", 12, 2800}, {"hotline", 3, 2800}, {"web", 0, 300}, {"fax", 5, 500}};
  std::vector<std::string> ids;
  int n = 0;
  for (const auto& k : known) {
    auto r = x.submitJson(exampleCaseWith([&](json::object& o) {
                            o["channel"] = k.channel;
                            if (k.minutes > 0) o["handling_minutes"] = k.minutes;
                            o["applicant"].as_object()["surname"] = "Заявник" + std::to_string(n);
                          }),
                          "c" + std::to_string(n));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    ids.push_back(jsonField(r.body, "id"));
    ++n;
  }
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 4, 60s), x.histogram());
  // Settled: the last receipts of the closing are in before the figure is taken.
  std::this_thread::sleep_for(2s);
  // Each case's packages, counted here; the cost by hand, in kopecks.
  long long total = 0, hotline = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const long long packages = x.count("SELECT count(*) FROM message WHERE case_id = '" + ids[i] + "'");
    BOOST_TEST(packages >= 4);  // the case, its receipts, the answer, our receipt of it
    const long long cost = known[i].channel_kopecks + 650LL * known[i].minutes + 40LL * packages;
    total += cost;
    if (std::string(known[i].channel) == "hotline") hotline += cost;
  }
  auto report = reportAs(x, auditor);
  const auto& c = report.at("cost").as_object();
  BOOST_TEST(c.at("cases").as_int64() == 4);
  BOOST_TEST(c.at("total_kopecks").as_int64() == total);
  BOOST_TEST(c.at("per_appeal_kopecks").as_int64() == (total * 2 + 4) / 8);
  char money[32];
  std::snprintf(money, sizeof money, "%lld.%02lld", total / 100, total % 100);
  BOOST_TEST(c.at("total").as_string() == money);
  BOOST_TEST(c.at("unit_costs").at("per_handling_minute").as_string() == "6.50");
  bool found_hotline = false;
  for (const auto& row : c.at("by_channel").as_array()) {
    if (row.at("channel").as_string() != "hotline") continue;
    found_hotline = true;
    BOOST_TEST(row.at("cases").as_int64() == 2);
    BOOST_TEST(row.at("total_kopecks").as_int64() == hotline);
    BOOST_TEST(row.at("per_appeal_kopecks").as_int64() == (hotline * 2 + 2) / 4);
  }
  BOOST_TEST(found_hotline);
  BOOST_TEST(c.at("by_participant").as_array().at(0).at("total_kopecks").as_int64() == total);
  BOOST_TEST(c.at("weekly").as_array().at(0).at("total_kopecks").as_int64() == total);

  // A costs file with a sum of three decimals is refused, naming the key.
  std::ofstream(costs) << "per_package = 0.405\n";
  std::ofstream(x.dir() + "/bad-costs.toml") << "[reports]\ncosts_file = \"" << costs << "\"\n";
  auto [rc, out] =
      x.runVkhidStatus({"report", "--from", today(x), "--to", today(x), "--config", x.dir() + "/bad-costs.toml"});
  BOOST_TEST(rc != 0);
  BOOST_TEST(out.find("per_package") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(legal_participant_sees_only_its_own_report) {
  ExchangeHarness x;
  x.setUp();
  const int other = x.addParticipant();
  const std::string admin = x.issueToken("ops", "admin");
  // A participant's client names its body; it may not be granted restricted cases.
  auto [no_org, no_org_out] = x.runVkhidStatus({"token", "issue", "--client", "body0", "--role", "participant"});
  BOOST_TEST(no_org != 0);
  BOOST_TEST(no_org_out.find("--org") != std::string::npos, no_org_out);
  auto [granted, granted_out] = x.runVkhidStatus(
      {"token", "issue", "--client", "body0", "--role", "participant", "--org", x.org(), "--restricted-access"});
  BOOST_TEST(granted != 0, granted_out);
  auto issued = x.runVkhid({"token", "issue", "--client", "body0", "--role", "participant", "--org", x.org()});
  const std::string mine = issued.substr(issued.rfind("vkh_"), 44);
  x.sql(
      "UPDATE participant SET contacts = '[{\"name\": \"Черговий\", \"email\": \"duty@body0.example\", "
      "\"role\": \"reports\"}, {\"name\": \"Телефон\", \"phone\": \"+380441234567\"}]' WHERE org_id = '" +
      x.org() + "' RETURNING 1");
  x.startGateway();
  x.startSimulator();
  x.startSimulator({}, other);
  // Information requests go to the other body.
  auto route = httpRequest("POST", "127.0.0.1", x.adminPort(), "/api/v1/admin/routes",
                           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin}},
                           R"({"target": ")" + x.org(other) + R"(", "kind": "info_request", "priority": 1})");
  BOOST_REQUIRE_MESSAGE(route.status == 201, route.body);
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(x.submit("a" + std::to_string(i)).status == 201);
  for (int i = 0; i < 2; ++i) {
    auto r =
        x.submitJson(exampleCaseWith([](json::object& o) { o["kind"] = "info_request"; }), "i" + std::to_string(i));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  }
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 5, 60s), x.histogram());

  // Its own figures, whatever it asks for.
  for (const std::string& ask : {std::string(), "&participant=" + x.org(other), std::string("&by=participant")}) {
    auto own = reportAs(x, mine, ask);
    BOOST_TEST(own.at("participant").at("org_id").as_string() == x.org());
    BOOST_TEST(own.at("totals").at("received").as_int64() == 3);
    BOOST_TEST(own.at("cost").at("cases").as_int64() == 3);
    const std::string text = json::serialize(own);
    BOOST_TEST(text.find(x.org(other)) == std::string::npos, text);
    // Its packages only: what went out to it, not to the other body.
    long long packages = 0;
    for (const auto& d : own.at("deliveries").as_array()) packages += d.at("packages").as_int64();
    BOOST_TEST(packages ==
               x.count("SELECT count(*) FROM message WHERE direction = 'out' AND peer_org_id = '" + x.org() + "'"));
    BOOST_TEST(packages < x.count("SELECT count(*) FROM message WHERE direction = 'out'"));
  }
  auto page = adminGet(x, mine, "reports?from=" + today(x) + "&to=" + today(x) + "&format=html");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.body.find("data-participant=\"" + x.org() + "\"") != std::string::npos);
  BOOST_TEST(page.body.find(x.org(other)) == std::string::npos);
  // Nothing else of the administration API.
  for (const char* path : {"cases", "participants", "deliveries", "audit/entries", "routes"}) {
    BOOST_TEST(adminGet(x, mine, path).status == 403, path);
  }
  // The UCC sees every body, or the one it asks for.
  BOOST_TEST(reportAs(x, admin).at("totals").at("received").as_int64() == 5);
  BOOST_TEST(reportAs(x, admin, "&participant=" + x.org(other)).at("totals").at("received").as_int64() == 2);
  // Each body's report of last month is built once, kept, and announced for its contacts' e-mail (the
  // notifier sends it); the body reads its own, never another's.
  const std::string last_month =
      x.sql("SELECT to_char(date_trunc('month', now() AT TIME ZONE 'Europe/Kyiv') - interval '1 month', 'YYYY-MM')");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM participant_report WHERE month = '" + last_month + "'", 2, 30s),
                        x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM outbox_message WHERE routing_key = 'participant.report' AND "
                     "convert_from(payload, 'UTF8')::jsonb->>'org_id' = '" +
                     x.org() +
                     "' AND convert_from(payload, 'UTF8')::jsonb->'recipients' = '[\"duty@body0.example\"]'") == 1);
  auto monthly = adminGet(x, mine, "reports/monthly?month=" + last_month + "&participant=" + x.org(other));
  BOOST_TEST(monthly.status == 200, monthly.body);
  BOOST_TEST(monthly.body.find("data-participant=\"" + x.org() + "\"") != std::string::npos);
  BOOST_TEST(monthly.body.find(x.org(other)) == std::string::npos);
  BOOST_TEST(adminGet(x, admin, "reports/monthly?month=" + last_month).status == 422);
  auto theirs = adminGet(x, admin, "reports/monthly?month=" + last_month + "&participant=" + x.org(other));
  BOOST_TEST(theirs.body.find("data-participant=\"" + x.org(other) + "\"") != std::string::npos);
  BOOST_TEST(adminGet(x, mine, "reports/monthly?month=1999-01").status == 404);

  // A case it forwards on counts in its report as forwarded, never naming the body that took it.
  x.stopSimulator(0);
  x.startSimulator({"--forward", x.org(other)}, 0);
  BOOST_REQUIRE(x.submit("f1").status == 201);
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", 6, 60s), x.histogram());
  auto forwarded = reportAs(x, mine, "&by=participant");
  BOOST_TEST(forwarded.at("totals").at("forwarded_not_in_competence").as_int64() == 1);
  BOOST_TEST(forwarded.at("totals").at("received").as_int64() == 4);
  BOOST_TEST(json::serialize(forwarded).find(x.org(other)) == std::string::npos, json::serialize(forwarded));

  // The console signs the participant in, and says whose it is.
  auto signin = httpRequest("POST", "127.0.0.1", x.adminPort(), "/console/session",
                            {{"Content-Type", "application/json"}}, R"({"token": ")" + mine + R"("})");
  BOOST_TEST(signin.status == 201, signin.body);
  BOOST_TEST(jsonField(signin.body, "role") == "participant");
  BOOST_TEST(jsonField(signin.body, "org_id") == x.org());
}

BOOST_AUTO_TEST_SUITE_END()
