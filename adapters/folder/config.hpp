// The `folder` adapter's settings and registration (the adapter: adapters/folder/folder_adapter.hpp).
#pragma once

#include <cstddef>
#include <memory>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"

namespace vkhid::adapters::folder {

inline constexpr const char* kName = "folder";

// What the adapter takes from the gateway's configuration: the largest package a participant may send
// (edms.max_package_bytes); a larger file is refused unread.
struct Settings {
  std::size_t max_package_bytes = std::size_t{50} << 20;
};
Settings settingsFrom(const app::Config& config);

std::unique_ptr<Adapter> makeAdapter(Settings settings);
void registerAdapter(AdapterRegistry& registry);

}  // namespace vkhid::adapters::folder
