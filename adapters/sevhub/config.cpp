#include "adapters/sevhub/config.hpp"

#include "gateway/app/logging.hpp"
#include "gateway/crypto/openssl.hpp"

namespace vkhid::adapters::sevhub {

Settings settingsFrom(const app::Config& config) {
  Settings s;
  s.url = config.sevhub.url;
  s.system_id = config.sevhub.system_id;
  s.ca_file = config.sevhub.ca_file;
  s.poll = std::chrono::milliseconds(config.sevhub.poll_interval_ms);
  s.publish_timeout = std::chrono::milliseconds(config.delivery.publish_timeout_ms);
  if (!config.sevhub.password_file.empty()) {
    if (auto password = crypto::readSecret(config.sevhub.password_file)) {
      s.password = *password;
    } else {
      log::warn("sevhub.password_file cannot be read", {{"error", password.error().message}});
    }
  }
  return s;
}

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const app::Config& config) { return makeAdapter(settingsFrom(config)); });
}

}  // namespace vkhid::adapters::sevhub
