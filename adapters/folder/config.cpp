#include "adapters/folder/config.hpp"

namespace vkhid::adapters::folder {

Settings settingsFrom(const app::Config& config) {
  Settings s;
  s.max_package_bytes = static_cast<std::size_t>(config.edms.max_package_bytes);
  return s;
}

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const app::Config& config) { return makeAdapter(settingsFrom(config)); });
}

}  // namespace vkhid::adapters::folder
