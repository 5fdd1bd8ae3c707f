// What the report's renderers share (flows/report_render.cpp, flows/report_html.cpp): the measures in
// their order and names, and how a value of the report's JSON is shown. Not for other modules.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace vkhid::flows::report_detail {

namespace json = boost::json;

struct Measure {
  const char* key;
  const char* english;
  const char* ukrainian;
};

inline constexpr Measure kMeasures[] = {
    {"received", "received", "Надійшло"},
    {"answered", "answered", "Надано відповідь"},
    {"answered_on_time", "on time", "Вчасно"},
    {"on_time_share", "on-time share", "Частка вчасних"},
    {"days_to_answer_median", "days median", "Днів до відповіді (медіана)"},
    {"days_to_answer_p90", "days p90", "Днів до відповіді (90-й перцентиль)"},
    {"overdue_now", "overdue now", "Прострочено зараз"},
    {"answered_electronically_signed", "e-signed answers", "Відповідей в електронній формі з підписом"},
    {"electronic_signed_share", "e-signed share", "Частка електронних підписаних відповідей"},
    {"repeated", "repeated", "Повторні"},
    {"forwarded_not_in_competence", "forwarded", "Переслано як не за належністю"},
    {"forwarded_late", "forwarded late", "Переслано із порушенням строку"},
    {"restricted", "restricted", "З обмеженим доступом"},
    {"answered_without_number", "answered, no participant no.", "Відповідь без реєстраційного номера учасника"},
};

inline std::string text(const json::value& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.as_double());
    return buf;
  }
  return json::serialize(v);
}

inline long long integer(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_double()) return static_cast<long long>(v.as_double());
  return 0;
}

inline double number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_double()) return v.as_double();
  return 0;
}

inline std::string percent(const json::value& v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", number(v) * 100.0);
  return buf;
}

// Characters of UTF-8 text (what a terminal column or a label's length counts).
inline std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace vkhid::flows::report_detail
