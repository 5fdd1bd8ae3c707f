#include "gateway/bus/topology.hpp"

#include "gateway/app/logging.hpp"

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
      {kRoutingQueue, {{"x-max-priority", kMaxPriority}}},
      {kDeadQueue, {}},
      {kReviewQueue, {}},
      {kAlertsQueue, {}},
      {kNotificationsQueue, {}},
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
  t.queues = {{deliveryQueueName(org_id), {{"x-max-priority", names::kMaxPriority}}}};
  t.bindings = {{deliveryQueueName(org_id), names::kDelivery, org_id},
                {deliveryQueueName(org_id), names::kDelivery, "*." + org_id}};
  return t;
}

namespace {
// A queue declared by an earlier version with other arguments (say, before priorities): replaced
// while it is empty; one holding messages is used as it is until it drains (its consumer is this
// gateway), and upgraded at a later start.
Status redeclare(AmqpConnection& connection, const QueueSpec& q) {
  auto depth = connection.queueDepth(q.name);
  if (!depth) return depth.error();
  if (*depth == 0) {
    auto s = connection.deleteEmptyQueue(q.name);
    if (s) s = connection.declareQueue(q.name, q.args);
    if (s) {
      log::warn("broker queue declared again with this version's arguments", {{"queue", q.name}});
      return s;
    }
    if (s.error().code != "amqp.queue_not_empty") return s;
  }
  log::warn("broker queue keeps an earlier version's arguments until it is empty", {{"queue", q.name}});
  return {};
}
}  // namespace

Status declare(AmqpConnection& connection, const Topology& topology) {
  for (const auto& e : topology.exchanges) {
    if (auto s = connection.declareExchange(e.name, e.type); !s) return s;
  }
  for (QueueSpec q : topology.queues) {
    if (connection.queueType() == "quorum") {
      // Replicated on the cluster's nodes; RabbitMQ 3.10's quorum queues take no priorities.
      q.args.erase("x-max-priority");
      q.args["x-queue-type"] = std::string("quorum");
    }
    auto s = connection.declareQueue(q.name, q.args);
    if (!s && s.error().code == "amqp.queue_args") s = redeclare(connection, q);
    if (!s) return s;
  }
  for (const auto& b : topology.bindings) {
    if (auto s = connection.bindQueue(b.queue, b.exchange, b.key); !s) return s;
  }
  return {};
}

Status declarePeerQueue(AmqpConnection& connection, const std::string& name) {
  AmqpArgs args;
  if (connection.queueType() == "quorum") args["x-queue-type"] = std::string("quorum");
  auto s = connection.declareQueue(name, args);
  if (!s && s.error().code == "amqp.queue_args") return {};  // the channel is open again
  return s;
}

}  // namespace vkhid::bus
