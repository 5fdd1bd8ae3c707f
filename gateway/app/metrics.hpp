// Process metrics in the Prometheus text exposition format. Labels carry ids and codes only.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vkhid::app {

using Labels = std::vector<std::pair<std::string, std::string>>;

// One time series. Thread-safe; the handle stays valid for the registry's lifetime.
class Series {
 public:
  void inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Metrics {
 public:
  enum class Type { Counter, Gauge };

  // Returns the series for name+labels, creating it on first use. Counters should end in _total.
  Series& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Series& gauge(const std::string& name, const std::string& help, const Labels& labels = {});

  std::string exposition() const;

 private:
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, Series> series;  // key: rendered label set, e.g. {a="1"}
  };
  Series& get(Type type, const std::string& name, const std::string& help, const Labels& labels);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

// The process-wide registry.
Metrics& metrics();

}  // namespace vkhid::app
