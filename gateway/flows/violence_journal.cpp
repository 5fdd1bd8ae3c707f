#include "gateway/flows/violence_journal.hpp"

#include <boost/json.hpp>

#include <map>
#include <sstream>

#include "gateway/app/digest.hpp"
#include "gateway/domain/calendar.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

Error invalid(const std::string& message) { return Error::invalid("journal.invalid", message); }

// The forms of violence in the law's words (Law 2229-VIII art. 1).
std::string formsInWords(const json::value* forms) {
  static const std::pair<const char*, const char*> kWords[] = {
      {"physical", "фізичне"}, {"sexual", "сексуальне"}, {"psychological", "психологічне"}, {"economic", "економічне"}};
  std::string out;
  if (forms == nullptr || !forms->is_array()) return out;
  for (const auto& f : forms->as_array()) {
    for (const auto& [code, word] : kWords) {
      if (f.is_string() && f.as_string() == code) out += (out.empty() ? "" : ", ") + std::string(word);
    }
  }
  return out;
}

std::string field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Who told the UCC: the applicant as they gave themselves, or that they did not.
std::string informant(const json::object& body) {
  const auto* a = body.if_contains("applicant");
  if (a == nullptr || !a->is_object()) return "анонімно";
  const auto& ap = a->as_object();
  const auto* anonymous = ap.if_contains("anonymous");
  if (anonymous && anonymous->is_bool() && anonymous->as_bool()) return "анонімно";
  std::string who = field(ap, "surname") + " " + field(ap, "first_name");
  if (!field(ap, "patronymic").empty()) who += " " + field(ap, "patronymic");
  for (const char* contact : {"phone", "email", "address"}) {
    if (!field(ap, contact).empty()) who += "; " + field(ap, contact);
  }
  return who;
}

const std::map<std::string, std::string>& statusWords() {
  static const std::map<std::string, std::string> words = {
      {"registered", "зареєстровано УКЦ"},      {"routed", "спрямовано учаснику"},
      {"sent", "надіслано учаснику"},           {"delivered", "доставлено учаснику"},
      {"accepted", "прийнято учасником"},       {"registered_by_participant", "зареєстровано учасником"},
      {"answered", "надано відповідь"},         {"closed", "розгляд завершено"},
      {"forwarded", "переслано за належністю"}, {"rejected", "відхилено учасником"},
      {"extended", "строк продовжено"},         {"delivery_failed", "не доставлено"},
      {"withdrawn", "відкликано заявником"},    {"not_considered", "не розглядається"},
      {"returned", "повернуто заявнику"}};
  return words;
}

constexpr const char* kEntries = R"SQL(
SELECT j.entry_no, c.id, c.ucc_number, j.entered_by, coalesce(j.register_ref, '') AS register_ref,
       to_char(c.received_at AT TIME ZONE 'Europe/Kyiv', 'DD.MM.YYYY HH24:MI') AS received, c.channel, c.urgency,
       c.body::text AS body, c.personal, coalesce(p.name, '') AS participant, coalesce(c.participant_org_id, '') AS org_id,
       (SELECT to_char(min(e.at) AT TIME ZONE 'Europe/Kyiv', 'DD.MM.YYYY HH24:MI') FROM case_event e
        WHERE e.case_id = c.id AND e.event IN ('delivered_to_transport', 'receipt_1', 'receipt_2')) AS passed_at,
       (SELECT to_char(min(e.at) AT TIME ZONE 'Europe/Kyiv', 'DD.MM.YYYY HH24:MI') FROM case_event e
        WHERE e.case_id = c.id AND e.event = 'answered') AS answered_at,
       c.status, coalesce(c.participant_reg_number, '') AS reg_number
FROM violence_journal j JOIN cases c ON c.id = j.case_id LEFT JOIN participant p ON p.org_id = c.participant_org_id
)SQL";

// The entries with their columns (journalColumns' order), from kEntries' rows.
// A case whose sealed data does not open (store::openPersonal logged and counted it) shows its kept
// facts: the other entries are not held back by it.
std::vector<JournalEntry> entriesOf(store::PgConnection& db, const store::PgResult& r) {
  std::vector<JournalEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    auto text = store::personalBody(db, r.get(i, "id"), r.optional(i, r.column("personal")), r.get(i, "body"));
    boost::system::error_code ec;
    json::value parsed = json::parse(text ? std::string_view(*text) : r.get(i, "body"), ec);
    const json::object body = !ec && parsed.is_object() ? parsed.as_object() : json::object{};
    const auto* v = body.if_contains("violence");
    const json::object facts = v && v->is_object() ? v->as_object() : json::object{};
    const auto* child = facts.if_contains("child_involved");
    std::string victim = field(facts, "victim");
    if (child && child->is_bool() && child->as_bool()) victim += (victim.empty() ? "" : "; ") + std::string("дитина");
    std::string passed;
    if (!r.get(i, "participant").empty()) {
      passed = std::string(r.get(i, "participant")) + " (ЄДРПОУ " + std::string(r.get(i, "org_id")) + ")";
      if (!r.isNull(i, "passed_at")) passed += ", " + std::string(r.get(i, "passed_at"));
    }
    const std::string status(r.get(i, "status"));
    auto word = statusWords().find(status);
    std::string result = word == statusWords().end() ? status : word->second;
    if (!r.get(i, "reg_number").empty()) result += "; реєстраційний № учасника " + std::string(r.get(i, "reg_number"));
    if (!r.isNull(i, "answered_at")) result += "; відповідь " + std::string(r.get(i, "answered_at"));
    std::string urgency(r.get(i, "urgency"));
    std::string source = "Урядовий контактний центр, канал «" + std::string(r.get(i, "channel")) + "»";
    if (urgency == "threat_to_life") source += "; загроза життю";

    JournalEntry e;
    e.entry_no = r.getInt(i, "entry_no");
    e.case_id = std::string(r.get(i, "id"));
    e.ucc_number = std::string(r.get(i, "ucc_number"));
    e.register_ref = std::string(r.get(i, "register_ref"));
    e.columns = {std::to_string(e.entry_no),
                 std::string(r.get(i, "received")),
                 source,
                 informant(body),
                 victim,
                 field(facts, "offender"),
                 formsInWords(facts.if_contains("forms")),
                 field(body, "text"),
                 passed,
                 result,
                 e.ucc_number,
                 std::string(r.get(i, "entered_by"))};
    out.push_back(std::move(e));
  }
  return out;
}

std::string asCsv(const std::vector<JournalEntry>& entries) {
  // A byte-order mark, so a spreadsheet opens the Ukrainian text as UTF-8.
  std::string out = "\xEF\xBB\xBF";
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvField(cells[i]);
    out += "\r\n";
  };
  line(journalColumns());
  for (const auto& e : entries) line(e.columns);
  return out;
}

std::string asHtml(const std::vector<JournalEntry>& entries, const JournalRead& read) {
  std::ostringstream s;
  s << "<!DOCTYPE html>\n<html lang=\"uk\"><head><meta charset=\"utf-8\"><title>Журнал реєстрації фактів виявлення "
       "(звернення) про вчинення домашнього насильства та насильства за ознакою статі</title><style>"
       "@page { size: A4 landscape; margin: 12mm; } body { font: 10pt/1.3 \"DejaVu Serif\", serif; } "
       ".annex { text-align: right; font-size: 9pt; } h1 { font-size: 12pt; text-align: center; } "
       "table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #000; padding: 2px 4px; "
       "vertical-align: top; } th { font-weight: normal; } thead tr.n th { font-size: 8pt; }"
       "</style></head><body>"
       "<p class=\"annex\">Додаток 6<br>до Порядку взаємодії суб’єктів, що здійснюють заходи у сфері запобігання та "
       "протидії домашньому насильству і насильству за ознакою статі<br>(постанова Кабінету Міністрів України від "
       "22 серпня 2018 р. № 658)</p>"
       "<h1>ЖУРНАЛ<br>реєстрації фактів виявлення (звернення) про вчинення домашнього насильства та насильства за "
       "ознакою статі</h1><p>Урядовий контактний центр; записи за "
    << escapeMarkup(read.from) << " — " << escapeMarkup(read.to) << ".</p><table><thead><tr>";
  for (const auto& c : journalColumns()) s << "<th scope=\"col\">" << escapeMarkup(c) << "</th>";
  s << "</tr><tr class=\"n\">";
  for (std::size_t i = 1; i <= journalColumns().size(); ++i) s << "<th>" << i << "</th>";
  s << "</tr></thead><tbody>";
  for (const auto& e : entries) {
    s << "<tr data-entry=\"" << e.entry_no << "\">";
    for (const auto& cell : e.columns) s << "<td>" << escapeMarkup(cell) << "</td>";
    s << "</tr>";
  }
  if (entries.empty()) {
    s << "<tr><td colspan=\"" << journalColumns().size() << "\">Записів за цей період немає.</td></tr>";
  }
  s << "</tbody></table></body></html>\n";
  return s.str();
}

std::string asJson(const std::vector<JournalEntry>& entries, const JournalRead& read) {
  json::array columns;
  for (const auto& c : journalColumns()) columns.emplace_back(c);
  json::array rows;
  for (const auto& e : entries) {
    json::array cells;
    for (const auto& c : e.columns) cells.emplace_back(c);
    rows.push_back(
        json::object{{"entry_no", e.entry_no},
                     {"case_id", e.case_id},
                     {"register_ref", e.register_ref.empty() ? json::value(nullptr) : json::value(e.register_ref)},
                     {"columns", std::move(cells)}});
  }
  return json::serialize(json::object{
      {"from", read.from}, {"to", read.to}, {"columns", std::move(columns)}, {"entries", std::move(rows)}});
}

}  // namespace

const std::vector<std::string>& journalColumns() {
  static const std::vector<std::string> columns = {"№ з/п",
                                                   "Дата і час надходження інформації",
                                                   "Джерело і спосіб надходження інформації",
                                                   "Відомості про заявника (прізвище, ім’я, по батькові, контакти)",
                                                   "Відомості про постраждалу особу",
                                                   "Відомості про кривдника",
                                                   "Форма насильства",
                                                   "Стислий зміст звернення (повідомлення)",
                                                   "Кому передано інформацію (дата, час)",
                                                   "Вжиті заходи, результат розгляду",
                                                   "Номер звернення в УКЦ",
                                                   "Хто вніс запис"};
  return columns;
}

Status enterInJournal(store::PgConnection& db, const std::string& case_id, const std::string& actor) {
  // One number at a time, held to the end of the registering transaction: no gaps, no repeats.
  if (auto lock = db.exec("SELECT pg_advisory_xact_lock(hashtext('vkhid.violence_journal'))"); !lock) {
    return lock.error();
  }
  auto r = db.exec(
      "INSERT INTO violence_journal (entry_no, case_id, entered_by) SELECT coalesce(max(entry_no), 0) + 1, $1, $2 "
      "FROM violence_journal",
      {case_id, actor});
  return r ? Status() : Status(r.error());
}

Result<std::string> readJournal(store::PgConnection& db, const JournalRead& read) {
  auto from = domain::parseDate(read.from);
  auto to = domain::parseDate(read.to);
  if (!from) return invalid("from: expected a date YYYY-MM-DD, not '" + read.from + "'");
  if (!to || *to < *from) return invalid("to: expected a date YYYY-MM-DD on or after from, not '" + read.to + "'");
  if (read.format != "csv" && read.format != "html" && read.format != "json") {
    return invalid("format: expected csv, html or json, not '" + read.format + "'");
  }
  if (read.reason.empty() || read.reason.size() > 500 || !isCleanText(read.reason)) {
    return invalid("reason: why the journal is read (required, up to 500 bytes): it is recorded with the read");
  }
  std::string text;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto rows = db.exec(std::string(kEntries) +
                            "WHERE (j.entered_at AT TIME ZONE 'Europe/Kyiv')::date BETWEEN $1::date AND $2::date "
                            "ORDER BY j.entry_no",
                        {read.from, read.to});
    if (!rows) return rows.error();
    auto entries = entriesOf(db, *rows);
    text = read.format == "csv"    ? asCsv(entries)
           : read.format == "html" ? asHtml(entries, read)
                                   : asJson(entries, read);
    // The read is evidence: who, which entries, why, and the digest of exactly what they were given.
    std::string range = entries.empty()
                            ? "none"
                            : std::to_string(entries.front().entry_no) + "-" + std::to_string(entries.back().entry_no);
    auto logged = db.exec(
        std::string(
            "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ($1, 'journal.read', $2, $3)"),
        {read.actor,
         "journal from:" + read.from + " to:" + read.to + " entries:" + range + " format:" + read.format +
             " reason:" + read.reason,
         app::sha256Hex(text)});
    return logged ? Status() : Status(logged.error());
  });
  if (!done) return done.error();
  return text;
}

Result<int> passToRegister(store::PgConnection& db, ViolenceRegister& reg, int limit) {
  auto rows = db.exec(std::string(kEntries) + "WHERE j.register_ref IS NULL ORDER BY j.entry_no LIMIT $1",
                      {std::to_string(limit)});
  if (!rows) return rows.error();
  int passed = 0;
  for (const auto& entry : entriesOf(db, *rows)) {
    auto ref = reg.submit(entry);
    if (!ref) return passed;  // the register refused or is away: the rest wait for the next run
    // Recorded once: a second gateway that passed it too records nothing (the register deduplicates by
    // the entry's number).
    auto saved = db.exec(
        "UPDATE violence_journal SET register_ref = $2, register_at = now() WHERE entry_no = $1 AND register_ref IS "
        "NULL",
        {std::to_string(entry.entry_no), *ref});
    if (!saved) return saved.error();
    ++passed;
  }
  return passed;
}

}  // namespace vkhid::flows
