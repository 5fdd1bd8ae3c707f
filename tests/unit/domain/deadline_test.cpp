// The calendar and the legal deadlines, table-driven, against the shipped data (config/calendars/ua.toml,
// config/deadlines.toml) as the binary carries it.
#include <boost/test/unit_test.hpp>

#include "gateway/app/legal_config.hpp"

using namespace vkhid;
using namespace vkhid::domain;

namespace {

Date d(const char* s) { return *parseDate(s); }

Calendar shipped(std::optional<bool> martial = std::nullopt) {
  auto data = app::loadCalendar("");
  BOOST_REQUIRE_MESSAGE(data.ok(), (data.ok() ? "" : data.error().message));
  return Calendar(std::move(data).value(), martial);
}

const DeadlineRules& rules() {
  static const DeadlineRules r = [] {
    auto loaded = app::loadDeadlineRules("");
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return std::move(loaded).value();
  }();
  return r;
}

struct Row {
  const char* kind;
  const char* received;
  const char* martial;  // "", "on", "off"
  const char* due;      // as printed: ISO 8601 with the Kyiv offset
};

}  // namespace

BOOST_AUTO_TEST_SUITE(calendar)

BOOST_AUTO_TEST_CASE(orthodox_easter_and_trinity_by_date) {
  BOOST_TEST(formatDate(orthodoxEaster(2021)) == "2021-05-02");
  BOOST_TEST(formatDate(orthodoxEaster(2023)) == "2023-04-16");
  BOOST_TEST(formatDate(orthodoxEaster(2024)) == "2024-05-05");
  BOOST_TEST(formatDate(orthodoxEaster(2025)) == "2025-04-20");
  BOOST_TEST(formatDate(orthodoxEaster(2026)) == "2026-04-12");
  auto c = shipped(false);
  BOOST_TEST(c.holidayOn(d("2026-05-31")).value_or("") == "Трійця");
  BOOST_TEST(c.holidayOn(d("2026-04-12")).value_or("") == "Великдень (Пасха)");
  BOOST_TEST(c.isDayOff(d("2026-04-13")));  // Easter is a Sunday: Monday is the day off
  BOOST_TEST(c.isDayOff(d("2026-06-01")));  // and after Trinity
}

BOOST_AUTO_TEST_CASE(holidays_in_force_by_their_dates) {
  auto c = shipped(false);
  BOOST_TEST(c.holidayOn(d("2022-01-07")).has_value());  // Orthodox Christmas, until 2023
  BOOST_TEST(!c.holidayOn(d("2024-01-07")).has_value());
  BOOST_TEST(c.holidayOn(d("2022-07-28")).has_value());  // Statehood Day, 28 July until 2023
  BOOST_TEST(!c.holidayOn(d("2024-07-28")).has_value());
  BOOST_TEST(c.holidayOn(d("2024-07-15")).has_value());  // then 15 July
  BOOST_TEST(c.holidayOn(d("2023-10-01")).has_value());  // Defenders' Day moved to 1 October
  BOOST_TEST(!c.holidayOn(d("2023-10-14")).has_value());
  BOOST_TEST(c.holidayOn(d("2016-05-02")).has_value());  // 2 May until 2017
  BOOST_TEST(!c.holidayOn(d("2018-05-02")).has_value());
  BOOST_TEST(!c.holidayOn(d("2016-12-25")).has_value());  // 25 December since 2017
  BOOST_TEST(c.holidayOn(d("2018-12-25")).has_value());
}

BOOST_AUTO_TEST_CASE(a_weekend_holiday_moves_the_day_off_except_under_martial_law) {
  // 2021 (before martial law): 1 May Saturday and Easter 2 May -> 3 and 4 May off; 9 May Sunday -> 10 May.
  auto c = shipped();
  for (const char* off : {"2021-05-01", "2021-05-02", "2021-05-03", "2021-05-04", "2021-05-10"}) {
    BOOST_TEST(c.isDayOff(d(off)), off);
  }
  BOOST_TEST(c.isWorkingDay(d("2021-05-05")));
  // 2026 is under martial law (the shipped switch since 2022-02-24): 28 June is a Sunday and
  // 29 June a working day; 24 August (Monday) is worked too.
  BOOST_TEST(c.martialLaw(d("2026-06-28")));
  BOOST_TEST(c.isWorkingDay(d("2026-06-29")));
  BOOST_TEST(c.isWorkingDay(d("2026-08-24")));
  // With martial law switched off the same days are off.
  auto peace = shipped(false);
  BOOST_TEST(peace.isDayOff(d("2026-06-29")));
  BOOST_TEST(peace.isDayOff(d("2026-08-24")));
  // And switched on for 2021, nothing is moved and the holidays are worked.
  auto war = shipped(true);
  BOOST_TEST(war.isWorkingDay(d("2021-05-03")));
  BOOST_TEST(war.isWorkingDay(d("2021-05-10")));
  BOOST_TEST(war.isDayOff(d("2021-05-01")));  // still a Saturday
}

BOOST_AUTO_TEST_CASE(civil_dates_and_months) {
  BOOST_TEST(formatDate(addMonths(d("2026-01-31"), 1)) == "2026-02-28");
  BOOST_TEST(formatDate(addMonths(d("2028-01-31"), 1)) == "2028-02-29");  // leap year
  BOOST_TEST(formatDate(addMonths(d("2026-12-15"), 1)) == "2027-01-15");
  BOOST_TEST(formatDate(addDays(d("2026-12-31"), 1)) == "2027-01-01");
  BOOST_TEST(weekday(d("2026-11-28")) == 6);  // a Saturday
  BOOST_TEST(weekday(d("1969-12-31")) == 3);
  BOOST_TEST(!parseDate("2026-02-29").has_value());
  BOOST_TEST(!parseDate("2026-13-01").has_value());
  BOOST_TEST(parseDate("2024-02-29").has_value());
}

BOOST_AUTO_TEST_CASE(an_xs_date_is_the_day_written_whatever_its_time_zone) {
  // What a participant's EDMS may write for a registration's date (XML Schema's xs:date).
  for (const char* written : {"2026-12-01", "2026-12-01Z", "2026-12-01+02:00", "2026-12-01-05:00"}) {
    auto day = parseXsDate(written);
    BOOST_TEST_REQUIRE(day.has_value(), written);
    BOOST_TEST(formatDate(*day) == "2026-12-01", written);
  }
  for (const char* not_a_day :
       {"2026-02-30", "2026-12-01+2:00", "2026-12-01+0::00", "2026-12-01T00:00:00", "-0001-01-01", "12026-01-01", ""}) {
    BOOST_TEST(!parseXsDate(not_a_day).has_value(), not_a_day);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deadlines)

BOOST_AUTO_TEST_CASE(every_kind_by_its_rule) {
  const Row rows[] = {
      // One month: 31 January -> 28 February (Saturday) -> Monday 2 March; leap year: 29 February.
      {"appeal", "2026-01-31T10:00:00+02:00", "", "2026-03-02T23:59:59+02:00"},
      {"appeal", "2028-01-31T10:00:00+02:00", "", "2028-02-29T23:59:59+02:00"},
      // Year end: 31 December + one month = 31 January 2027, a Sunday -> 1 February.
      {"appeal", "2026-12-31T10:00:00+02:00", "", "2027-02-01T23:59:59+02:00"},
      // Summer time: the end of the day is 23:59:59+03:00.
      {"appeal", "2026-05-20T09:00:00+03:00", "", "2026-06-22T23:59:59+03:00"},
      {"appeal_simple", "2026-01-31T10:00:00+02:00", "", "2026-02-16T23:59:59+02:00"},
      {"appeal_extended", "2026-01-15T10:00:00+02:00", "", "2026-03-02T23:59:59+02:00"},
      {"appeal_forward", "2026-06-24T10:00:00+03:00", "", "2026-06-29T23:59:59+03:00"},
      {"appeal_forward", "2026-06-24T10:00:00+03:00", "off", "2026-06-30T23:59:59+03:00"},
      {"appeal_return", "2026-03-02T10:00:00+02:00", "", "2026-03-12T23:59:59+02:00"},
      // Working days: from Saturday 31 January, 2..6 February.
      {"info_request", "2026-01-31T10:00:00+02:00", "", "2026-02-06T23:59:59+02:00"},
      // Over the New Year: under martial law 1 January is worked; without it, it is not.
      {"info_request", "2026-12-30T10:00:00+02:00", "", "2027-01-06T23:59:59+02:00"},
      {"info_request", "2026-12-30T10:00:00+02:00", "off", "2027-01-07T23:59:59+02:00"},
      // 2021 (no martial law): 3, 4 and 10 May are days off.
      {"info_request", "2021-04-29T10:00:00+03:00", "", "2021-05-11T23:59:59+03:00"},
      {"info_request_extended", "2026-01-31T10:00:00+02:00", "", "2026-02-27T23:59:59+02:00"},
      {"info_request_extension_notice", "2026-01-31T10:00:00+02:00", "", "2026-02-06T23:59:59+02:00"},
      {"info_request_forward", "2026-01-31T10:00:00+02:00", "", "2026-02-06T23:59:59+02:00"},
      // Hours are exact, across the spring change of the clocks too (29 March 2026).
      {"info_request_urgent", "2026-01-31T10:00:00+02:00", "", "2026-02-02T10:00:00+02:00"},
      {"info_request_urgent", "2026-03-28T12:00:00+02:00", "", "2026-03-30T13:00:00+03:00"},
      {"violence_report", "2026-01-31T23:30:00+02:00", "", "2026-02-01T23:30:00+02:00"},
      {"violence_report_threat", "2026-01-31T10:00:00Z", "", "2026-01-31T13:00:00+02:00"},
      // A receipt at 22:30 UTC on 31 January is 1 February in Kyiv: the count starts from there.
      {"appeal_forward", "2026-01-31T22:30:00Z", "", "2026-02-06T23:59:59+02:00"},
      // No zone: Kyiv time.
      {"appeal_forward", "2026-01-31T23:30:00", "", "2026-02-05T23:59:59+02:00"},
  };
  for (const auto& row : rows) {
    std::optional<bool> martial;
    if (std::string(row.martial) == "on") martial = true;
    if (std::string(row.martial) == "off") martial = false;
    auto cal = shipped(martial);
    const DeadlineRule* rule = rules().find(row.kind);
    BOOST_REQUIRE_MESSAGE(rule != nullptr, row.kind);
    auto received = parseInstant(row.received);
    BOOST_REQUIRE_MESSAGE(received.has_value(), row.received);
    auto due = computeDue(*rule, *received, cal, rules().policy);
    BOOST_TEST(formatKyiv(due.at) == row.due,
               row.kind << " received " << row.received << " martial '" << row.martial << "'");
    BOOST_TEST(formatDate(due.date) == std::string(row.due).substr(0, 10));
  }
}

BOOST_AUTO_TEST_CASE(the_day_off_policy_can_be_switched_off) {
  DeadlinePolicy exact{false};
  auto due = computeDue(*rules().find("appeal"), *parseInstant("2026-01-31T10:00:00+02:00"), shipped(), exact);
  BOOST_TEST(formatKyiv(due.at) == "2026-02-28T23:59:59+02:00");  // a Saturday, kept
}

BOOST_AUTO_TEST_CASE(every_rule_cites_its_law_and_malformed_rules_are_refused) {
  for (const char* kind :
       {"appeal", "appeal_simple", "appeal_extended", "appeal_forward", "appeal_return", "info_request",
        "info_request_urgent", "info_request_extended", "info_request_extension_notice", "info_request_forward",
        "violence_report", "violence_report_threat"}) {
    const auto* r = rules().find(kind);
    BOOST_REQUIRE_MESSAGE(r != nullptr, kind);
    BOOST_TEST((r->citation.find("Закон") != std::string::npos), kind);
  }
  auto bad = app::parseDeadlineRules("[appeal]\namount = 1\nunit = \"weeks\"\nrule = \"x\"\n", "t.toml");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("appeal: unit") != std::string::npos);
  auto no_rule = app::parseDeadlineRules("[appeal]\namount = 1\nunit = \"days\"\n", "t.toml");
  BOOST_REQUIRE(!no_rule.ok());
  BOOST_TEST(no_rule.error().message.find("citation") != std::string::npos);
  auto bad_day = app::parseCalendar("[[holiday]]\nname = \"x\"\ndate = \"02-30\"\n", "c.toml");
  BOOST_REQUIRE(!bad_day.ok());
  BOOST_TEST(bad_day.error().message.find("holiday 1: date") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
