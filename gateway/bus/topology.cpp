#include "gateway/bus/topology.hpp"

namespace vkhid::bus {

std::vector<RetryTier> retryTiers(const std::vector<long long>& delays_ms) {
  std::vector<RetryTier> tiers;
  for (long long d : delays_ms) tiers.push_back({std::to_string(d) + "ms", d});
  return tiers;
}

Topology gatewayTopology(const std::vector<long long>& retry_delays_ms) {
  using namespace names;
  Topology t;
  t.exchanges = {
      {kEvents, "topic"}, {kDelivery, "topic"}, {kRetry, "topic"},
      {kDead, "fanout"},  {kAlerts, "topic"},   {kNotifications, "topic"},
  };
  t.queues = {
      {kRoutingQueue, {}}, {kDeadQueue, {}}, {kReviewQueue, {}}, {kAlertsQueue, {}}, {kNotificationsQueue, {}},
  };
  t.bindings = {
      {kRoutingQueue, kEvents, "case.registered"},
      {kRoutingQueue, kEvents, "case.forwarded"},
      {kReviewQueue, kEvents, "case.unrouted"},
      {kDeadQueue, kDead, ""},
      {kAlertsQueue, kAlerts, "#"},
      {kNotificationsQueue, kNotifications, "#"},
  };
  for (const auto& tier : retryTiers(retry_delays_ms)) {
    std::string queue = std::string("vkhid.retry.") + tier.name;
    t.queues.push_back({queue,
                        {{"x-message-ttl", static_cast<std::int64_t>(tier.delay_ms)},
                         {"x-dead-letter-exchange", std::string(kDelivery)}}});
    t.bindings.push_back({queue, kRetry, tier.name + ".#"});
  }
  return t;
}

std::string deliveryQueueName(const std::string& org_id) { return "vkhid.deliver." + org_id; }

Topology participantTopology(const std::string& org_id) {
  Topology t;
  t.queues = {{deliveryQueueName(org_id), {}}};
  t.bindings = {{deliveryQueueName(org_id), names::kDelivery, org_id},
                {deliveryQueueName(org_id), names::kDelivery, "*." + org_id}};
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
