// The `http` adapter's settings and registration (the adapter: adapters/http/http_adapter.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"

namespace vkhid::adapters::http {

inline constexpr const char* kName = "http";

// What the adapter takes from the gateway's configuration: the gateway's side of mutual TLS with
// participants and the inbound listener (edms.*), the publish timeout (delivery.publish_timeout_ms),
// the threads taking arrivals (gateway.workers).
struct Settings {
  std::string listen;
  std::string tls_cert_file, tls_key_file, client_ca_file;
  std::size_t max_package_bytes = std::size_t{50} << 20;
  std::chrono::milliseconds publish_timeout{10000};
  int inbound_workers = 2;
};
Settings settingsFrom(const app::Config& config);

std::unique_ptr<Adapter> makeAdapter(Settings settings);
void registerAdapter(AdapterRegistry& registry);

}  // namespace vkhid::adapters::http
