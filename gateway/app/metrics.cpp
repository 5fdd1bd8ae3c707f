#include "gateway/app/metrics.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace vkhid::app {
namespace {

std::string renderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string renderValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  // The shortest text that reads back as the same double: a time-stamp gauge (seconds since the
  // epoch, with microseconds) keeps every digit.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

}  // namespace

Series& Metrics::get(Type type, const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}});
  assert(it->second.type == type && "a metric name is either a counter or a gauge");
  return it->second.series[renderLabels(labels)];
}

Series& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
  return get(Type::Counter, name, help, labels);
}

Series& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  return get(Type::Gauge, name, help, labels);
}

std::string Metrics::exposition() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + (family.type == Type::Counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, series] : family.series) {
      out += name + labels + " " + renderValue(series.value()) + "\n";
    }
  }
  return out;
}

Metrics& metrics() {
  static Metrics registry;
  return registry;
}

}  // namespace vkhid::app
