#include "gateway/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace vkhid::log {
namespace {

std::string& instanceName() {
  static std::string name;
  return name;
}

// Writes {"ts":…,"level":…,"instance":…, <payload>}. Our own calls pass a payload that is already
// a JSON member list starting with "msg"; anything else (a library logging through spdlog) is escaped.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(128 + msg.payload.size());
    line += "{\"ts\":\"";
    appendTimestamp(line, msg.time);
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"instance\":";
    appendJsonString(line, instanceName());
    line += ',';
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (payload.starts_with("\"msg\":")) {
      line += payload;
    } else {
      line += "\"msg\":";
      appendJsonString(line, payload);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }

 private:
  static void appendTimestamp(std::string& out, spdlog::log_clock::time_point tp) {
    auto t = spdlog::log_clock::to_time_t(tp);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    out += buf;
  }
};

void emit(spdlog::level::level_enum level, std::string_view event, std::initializer_list<Field> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string payload = "\"msg\":";
  appendJsonString(payload, event);
  for (const auto& f : fields) {
    payload += ',';
    appendJsonString(payload, f.key);
    payload += ':';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            appendJsonString(payload, v);
          } else if constexpr (std::is_same_v<T, bool>) {
            payload += v ? "true" : "false";
          } else {
            payload += std::to_string(v);
          }
        },
        f.value);
  }
  logger->log(level, spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace

void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void init(std::string_view level, std::string_view instance) {
  instanceName() = std::string(instance);
  auto logger = std::make_shared<spdlog::logger>("vkhid", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<JsonFormatter>());
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void debug(std::string_view event, std::initializer_list<Field> fields) { emit(spdlog::level::debug, event, fields); }
void info(std::string_view event, std::initializer_list<Field> fields) { emit(spdlog::level::info, event, fields); }
void warn(std::string_view event, std::initializer_list<Field> fields) { emit(spdlog::level::warn, event, fields); }
void error(std::string_view event, std::initializer_list<Field> fields) { emit(spdlog::level::err, event, fields); }

}  // namespace vkhid::log
