#include "adapters/amqp/config.hpp"

#include "adapters/amqp/amqp_adapter.hpp"

namespace vkhid::adapters::amqp {

std::string inboxQueue(const Endpoint& e) { return e.setting("inbox_queue", "edms." + e.org_id + ".in"); }
std::string outboxQueue(const Endpoint& e) { return e.setting("outbox_queue", "edms." + e.org_id + ".out"); }

void registerAdapter(AdapterRegistry& registry) {
  registry.add(kName, [](const AdapterContext& context) { return std::make_unique<AmqpAdapter>(context); });
}

}  // namespace vkhid::adapters::amqp
