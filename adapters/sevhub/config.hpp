// The `sev-hub` adapter's settings and registration (the adapter: adapters/sevhub/sevhub_adapter.hpp).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"

namespace vkhid::adapters::sevhub {

inline constexpr const char* kName = "sev-hub";

// What the adapter takes from the gateway's configuration: the gateway's own account on the SEV OVV
// 2.0 hub (sevhub.*, the password read from sevhub.password_file) and the publish timeout.
struct Settings {
  std::string url, system_id, password, ca_file;
  std::chrono::milliseconds poll{1000};
  std::chrono::milliseconds publish_timeout{10000};
};
// A password file that cannot be read is logged and the account used without one (the hub refuses it,
// and the check says so).
Settings settingsFrom(const app::Config& config);

std::unique_ptr<Adapter> makeAdapter(Settings settings);
void registerAdapter(AdapterRegistry& registry);

}  // namespace vkhid::adapters::sevhub
