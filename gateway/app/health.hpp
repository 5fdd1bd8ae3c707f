// What the process knows about its dependencies right now, written by the probes that watch them and
// read by /readyz. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace vkhid::app {

struct CheckState {
  bool ok = false;
  std::string detail;  // why not ok, for operators; no personal data
};

class HealthRegistry {
 public:
  // Declares a check that must pass for readiness; it starts failed with `detail`.
  void expect(const std::string& name, const std::string& detail = "not checked yet");
  void set(const std::string& name, bool ok, const std::string& detail = {});

  bool ready() const;
  std::map<std::string, CheckState> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, CheckState> checks_;
};

}  // namespace vkhid::app
