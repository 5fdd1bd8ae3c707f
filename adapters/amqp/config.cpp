#include "adapters/amqp/config.hpp"

#include "adapters/amqp/amqp_adapter.hpp"

namespace vkhid::adapters::amqp {

std::string inboxQueue(const Endpoint& e) { return e.setting("inbox_queue", "edms." + e.org_id + ".in"); }
std::string outboxQueue(const Endpoint& e) { return e.setting("outbox_queue", "edms." + e.org_id + ".out"); }

Settings settingsFrom(const app::Config& config) {
  Settings s;
  s.broker_url = config.broker.url;
  s.queue_type = config.broker.queue_type;
  s.connect_timeout_s = config.broker.connect_timeout_s;
  s.publish_timeout = std::chrono::milliseconds(config.delivery.publish_timeout_ms);
  s.prefetch = static_cast<std::uint16_t>(config.delivery.prefetch);
  s.inbound_workers = config.gateway.workers;
  return s;
}

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const app::Config& config) { return std::make_unique<AmqpAdapter>(settingsFrom(config)); });
}

}  // namespace vkhid::adapters::amqp
