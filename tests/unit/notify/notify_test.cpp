// The notifier's pure parts (issue 27): addresses as people write them, the duty rota by Kyiv time, the
// shipped templates, and the e-mail as it goes on the wire.
#define BOOST_TEST_MODULE unit_notify
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "gateway/domain/contact.hpp"
#include "gateway/notify/channels.hpp"
#include "gateway/notify/rota.hpp"
#include "gateway/notify/templates.hpp"

using namespace vkhid;
using namespace vkhid::notify;
namespace json = boost::json;

namespace {

std::chrono::system_clock::time_point utc(const char* iso) {
  std::tm tm{};
  strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(contact)

BOOST_AUTO_TEST_CASE(phone_numbers_as_people_write_them_become_e164_and_others_are_refused) {
  for (const char* written :
       {"+380501234567", "+380 50 123-45-67", "(050) 123 45 67", "0501234567", "380501234567", "050.123.45.67"}) {
    BOOST_TEST(domain::normalisePhone(written).value_or("-") == "+380501234567", written);
  }
  BOOST_TEST(domain::normalisePhone("+48 601 234 567").value_or("-") == "+48601234567");
  for (const char* bad : {"", "050-ABC-45-67", "12345", "+0501234567", "05012345678", "50123456", "+3805012345678901",
                          "050 123 45 67 ext 2", "++380501234567", "0501234567+"}) {
    BOOST_TEST(!domain::normalisePhone(bad).has_value(), bad);
  }
  BOOST_TEST(domain::maskPhone("+380501234567") == "+38050*****67");
}

BOOST_AUTO_TEST_CASE(email_addresses_are_checked_and_masked) {
  for (const char* good : {"ivan@example.org", "o.petrenko+ucc@mail.gov.ua", "a@b.ua"}) {
    BOOST_TEST(domain::validEmail(good), good);
  }
  for (const char* bad : {"", "ivan", "ivan@", "@example.org", "ivan@example", "iv an@example.org", "a@b@c.org",
                          "\"q\"@example.org", "ivan@.org", "ivan@example.", ".ivan@example.org", "iv..an@example.org",
                          "ivan@exa..mple.org", "ivan@example.org\r\nBcc: x@y.org", "<ivan@example.org>"}) {
    BOOST_TEST(!domain::validEmail(bad), bad);
  }
  BOOST_TEST(domain::maskEmail("ivan@example.org") == "i***@example.org");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rota)

BOOST_AUTO_TEST_CASE(kyiv_weekday_and_minute_follow_daylight_saving) {
  // Winter, UTC+2: Thursday 22:30 UTC is Friday 00:30 in Kyiv.
  auto w = kyivMoment(utc("2026-12-03T22:30:00Z"));
  BOOST_TEST(w.weekday == 4);
  BOOST_TEST(w.minute == 30);
  // Summer, UTC+3: Wednesday 21:00 UTC is Thursday 00:00.
  auto s = kyivMoment(utc("2026-07-01T21:00:00Z"));
  BOOST_TEST(s.weekday == 3);
  BOOST_TEST(s.minute == 0);
}

BOOST_AUTO_TEST_CASE(who_is_on_duty_by_day_hours_and_restricted_cases) {
  auto r = Rota::parse(R"(
[[duty]]
name = "Day"
email = "day@ucc.example"
days = "mon-fri"
hours = "08:00-20:00"
[[duty]]
name = "Deputy"
email = "deputy@ucc.example"
days = "mon-fri"
hours = "08:00-20:00"
restricted = true
[[duty]]
name = "Night"
email = "night@ucc.example"
days = "mon-thu"
hours = "20:00-08:00"
restricted = true
)",
                       "rota.toml");
  BOOST_REQUIRE(r);
  auto names = [](const std::vector<DutyOfficer>& v) {
    std::string out;
    for (const auto& d : v) out += (out.empty() ? "" : ",") + d.name;
    return out;
  };
  BOOST_TEST(names(r->onDuty({0, 9 * 60}, false)) == "Day,Deputy");  // Monday 09:00
  BOOST_TEST(names(r->onDuty({0, 9 * 60}, true)) == "Deputy");       // a violence report: restricted only
  BOOST_TEST(names(r->onDuty({0, 20 * 60}, false)) == "Night");      // 20:00 is the night's
  // Tuesday 02:00 is Monday's night shift; Friday 02:00 is Thursday's; Saturday 02:00 belongs to a Friday
  // night nobody works.
  BOOST_TEST(names(r->onDuty({1, 120}, false)) == "Night");
  BOOST_TEST(names(r->onDuty({4, 120}, false)) == "Night");
  BOOST_TEST(names(r->onDuty({5, 120}, false)) == "");
  BOOST_TEST(names(r->onDuty({5, 12 * 60}, false)) == "");  // Saturday noon
  // Escalation steps go down the list of those on duty, then run out.
  BOOST_TEST(r->forStep({2, 10 * 60}, false, 0)->name == "Day");
  BOOST_TEST(r->forStep({2, 10 * 60}, false, 1)->name == "Deputy");
  BOOST_TEST(!r->forStep({2, 10 * 60}, false, 2));
  BOOST_TEST(withinHours(23 * 60, 21 * 60, 8 * 60));
  BOOST_TEST(withinHours(7 * 60 + 59, 21 * 60, 8 * 60));
  BOOST_TEST(!withinHours(8 * 60, 21 * 60, 8 * 60));
}

BOOST_AUTO_TEST_CASE(a_malformed_rota_names_the_entry_and_the_field) {
  auto no_email =
      Rota::parse("[[duty]]\nname = \"A\"\nemail = \"a@b.ua\"\n[[duty]]\nname = \"B\"\nemail = \"b\"\n", "rota.toml");
  BOOST_REQUIRE(!no_email);
  BOOST_TEST(no_email.error().message.find("[[duty]] 2: email") != std::string::npos, no_email.error().message);
  auto bad_days = Rota::parse("[[duty]]\nname = \"A\"\nemail = \"a@b.ua\"\ndays = \"weekdays\"\n", "rota.toml");
  BOOST_REQUIRE(!bad_days);
  BOOST_TEST(bad_days.error().message.find("days") != std::string::npos);
  auto bad_hours = Rota::parse("[[duty]]\nname = \"A\"\nemail = \"a@b.ua\"\nhours = \"8-20\"\n", "rota.toml");
  BOOST_REQUIRE(!bad_hours);
  BOOST_TEST(bad_hours.error().message.find("hours") != std::string::npos);
  BOOST_TEST(!parseHours("25:00-08:00"));
  BOOST_TEST(!parseHours("08:00-08:00"));
  BOOST_TEST(parseHours("21:00-24:00")->second == 1440);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(templates)

BOOST_AUTO_TEST_CASE(every_applicant_status_has_its_words_and_never_an_unrendered_tag) {
  auto t = Templates::load("");
  BOOST_REQUIRE(t);
  const std::map<std::string, std::string> words = {{"registered", "зареєстровано"},
                                                    {"forwarded", "передано"},
                                                    {"extended", "строк продовжено"},
                                                    {"answered", "надано відповідь"},
                                                    {"overdue", "строк"},
                                                    {"returned", "повернуто"},
                                                    {"withdrawn", "відкликано"},
                                                    {"not_considered", "не розглядатиметься"}};
  for (const auto& [status, word] : words) {
    json::object d{{"ucc_number", "УКЦ-1"},
                   {"tracking_code", "ABCD-1234"},
                   {"tracking_link", "https://t.example/ABCD-1234"},
                   {"due_date", "18.12.2026"}};
    for (const auto& [s, _] : words) d[s] = s == status;
    d["other"] = false;
    auto mail = t->email("applicant.email.mustache", d);
    BOOST_REQUIRE(mail);
    BOOST_TEST(mail->subject.find(word) != std::string::npos, status << ": " << mail->subject);
    BOOST_TEST(mail->body.find("ABCD-1234") != std::string::npos);
    BOOST_TEST(mail->body.find("{{") == std::string::npos);
    auto sms = t->text("applicant.sms.mustache", d);
    BOOST_REQUIRE(sms);
    BOOST_TEST(sms->find(word) != std::string::npos, status << ": " << *sms);
    BOOST_TEST(sms->find("https://t.example/ABCD-1234") != std::string::npos);
    BOOST_TEST(sms->find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_providers_request_escapes_the_text_as_json) {
  auto t = Templates::load("");
  BOOST_REQUIRE(t);
  const std::string text = "Звернення \"УКЦ-1\"\nрядок \\ ще </script>";
  auto body = t->jsonBody(
      "sms-request.json.mustache",
      json::object{{"phone_digits", "380501234567"}, {"sender", "Vkhid"}, {"text", text}, {"notice_id", "7"}});
  BOOST_REQUIRE(body);
  auto v = json::parse(*body).as_object();
  BOOST_TEST(v.at("sms").as_object().at("text").as_string() == text);
  BOOST_TEST(v.at("recipients").as_array().at(0).as_string() == "380501234567");
}

BOOST_AUTO_TEST_CASE(an_operators_template_replaces_the_shipped_one_and_a_broken_one_is_refused_by_name) {
  const auto dir = std::filesystem::temp_directory_path() / ("vkhid-templates-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "applicant.sms.mustache") << "Код {{tracking_code}}";
  auto t = Templates::load(dir.string());
  BOOST_REQUIRE(t);
  BOOST_TEST(*t->text("applicant.sms.mustache", json::object{{"tracking_code", "X-1"}}) == "Код X-1");
  BOOST_TEST(t->email("duty.email.mustache", json::object{{"kind", "delivery.failed"}}).ok());  // shipped
  std::ofstream(dir / "duty.email.mustache") << "Subject {{#open}} never closed\n\nbody";
  auto broken = Templates::load(dir.string());
  BOOST_REQUIRE(!broken);
  BOOST_TEST(broken.error().message.find("duty.email.mustache") != std::string::npos, broken.error().message);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mailer)

BOOST_AUTO_TEST_CASE(a_message_has_its_headers_an_encoded_subject_and_crlf_lines) {
  app::NotifySettings s;
  s.smtp_from = "Вхід <noreply@vkhid.example>";
  Mailer m(s);
  const std::string wire = m.message({"ivan@example.org", "Звернення УКЦ-1", "Рядок 1\nРядок 2", "42"});
  BOOST_TEST(wire.find("To: <ivan@example.org>\r\n") != std::string::npos);
  BOOST_TEST(wire.find("Subject: =?UTF-8?B?") != std::string::npos);
  BOOST_TEST(wire.find("Message-ID: <notice-42@vkhid>\r\n") != std::string::npos);
  BOOST_TEST(wire.find("Content-Type: text/plain; charset=UTF-8\r\n") != std::string::npos);
  BOOST_TEST(wire.find("Auto-Submitted: auto-generated\r\n") != std::string::npos);
  BOOST_TEST(wire.find("\r\n\r\nРядок 1\r\nРядок 2\r\n") != std::string::npos);
  BOOST_TEST(m.message({"a@b.ua", "Plain subject", "x", "1"}).find("Subject: Plain subject\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
