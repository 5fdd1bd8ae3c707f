#include "adapters/http/config.hpp"

namespace vkhid::adapters::http {

Settings settingsFrom(const app::Config& config) {
  Settings s;
  s.listen = config.edms.listen;
  s.tls_cert_file = config.edms.tls_cert;
  s.tls_key_file = config.edms.tls_key;
  s.client_ca_file = config.edms.client_ca;
  s.max_package_bytes = static_cast<std::size_t>(config.edms.max_package_bytes);
  s.publish_timeout = std::chrono::milliseconds(config.delivery.publish_timeout_ms);
  s.inbound_workers = config.gateway.workers;
  return s;
}

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const app::Config& config) { return makeAdapter(settingsFrom(config)); });
}

}  // namespace vkhid::adapters::http
