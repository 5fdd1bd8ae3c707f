#include "gateway/app/health.hpp"

namespace vkhid::app {

void HealthRegistry::expect(const std::string& name, const std::string& detail) {
  std::lock_guard lock(mutex_);
  checks_.try_emplace(name, CheckState{false, detail});
}

void HealthRegistry::set(const std::string& name, bool ok, const std::string& detail) {
  std::lock_guard lock(mutex_);
  checks_[name] = CheckState{ok, ok ? std::string() : detail};
}

bool HealthRegistry::ready() const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, state] : checks_) {
    if (!state.ok) return false;
  }
  return true;
}

std::map<std::string, CheckState> HealthRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  return checks_;
}

}  // namespace vkhid::app
