#include "adapters/sevhub/config.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "gateway/app/logging.hpp"

namespace vkhid::adapters::sevhub {

Settings settingsFrom(const app::Config& config) {
  Settings s;
  s.url = config.sevhub.url;
  s.system_id = config.sevhub.system_id;
  s.ca_file = config.sevhub.ca_file;
  s.poll = std::chrono::milliseconds(config.sevhub.poll_interval_ms);
  s.publish_timeout = std::chrono::milliseconds(config.delivery.publish_timeout_ms);
  if (!config.sevhub.password_file.empty()) {
    std::ifstream in(config.sevhub.password_file, std::ios::binary);
    std::ostringstream text;
    if (in && (text << in.rdbuf())) {
      s.password = text.str();
      while (!s.password.empty() && std::isspace(static_cast<unsigned char>(s.password.back()))) s.password.pop_back();
    } else {
      log::warn("sevhub.password_file cannot be read", {{"file", config.sevhub.password_file}});
    }
  }
  return s;
}

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const app::Config& config) { return makeAdapter(settingsFrom(config)); });
}

}  // namespace vkhid::adapters::sevhub
