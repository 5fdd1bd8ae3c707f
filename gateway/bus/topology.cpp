#include "gateway/bus/topology.hpp"

namespace vkhid::bus {

const std::vector<RetryTier>& retryTiers() {
  static const std::vector<RetryTier> tiers = {
      {"10s", 10'000}, {"1m", 60'000}, {"10m", 600'000}, {"1h", 3'600'000}, {"6h", 21'600'000},
  };
  return tiers;
}

Topology gatewayTopology() {
  using namespace names;
  Topology t;
  t.exchanges = {
      {kEvents, "topic"}, {kDelivery, "direct"}, {kRetry, "direct"},
      {kDead, "fanout"},  {kAlerts, "topic"},    {kNotifications, "topic"},
  };
  t.queues = {
      {kRoutingQueue, {}},
      {kInboundQueue, {}},
      {kDeadQueue, {}},
      {kReviewQueue, {}},
  };
  t.bindings = {
      {kRoutingQueue, kEvents, "case.registered"},
      {kRoutingQueue, kEvents, "case.forwarded"},
      {kReviewQueue, kEvents, "case.unrouted"},
      {kDeadQueue, kDead, ""},
  };
  for (const auto& tier : retryTiers()) {
    std::string queue = std::string("vkhid.retry.") + tier.name;
    t.queues.push_back({queue,
                        {{"x-message-ttl", static_cast<std::int64_t>(tier.delay_ms)},
                         {"x-dead-letter-exchange", std::string(kDelivery)}}});
    t.bindings.push_back({queue, kRetry, tier.name});
  }
  return t;
}

std::string deliveryQueueName(const std::string& org_id) { return "vkhid.deliver." + org_id; }

Topology participantTopology(const std::string& org_id) {
  Topology t;
  t.queues = {{deliveryQueueName(org_id), {}}};
  t.bindings = {{deliveryQueueName(org_id), names::kDelivery, org_id}};
  return t;
}

Status declare(AmqpConnection& connection, const Topology& topology) {
  for (const auto& e : topology.exchanges) {
    if (auto s = connection.declareExchange(e.name, e.type); !s) return s;
  }
  for (const auto& q : topology.queues) {
    if (auto s = connection.declareQueue(q.name, q.args); !s) return s;
  }
  for (const auto& b : topology.bindings) {
    if (auto s = connection.bindQueue(b.queue, b.exchange, b.key); !s) return s;
  }
  return {};
}

}  // namespace vkhid::bus
