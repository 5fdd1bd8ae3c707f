// The RabbitMQ topology the gateway relies on, as data, and its idempotent declaration.
// docs/architecture.md draws it; this file is the truth.
#pragma once

#include <string>
#include <vector>

#include "gateway/bus/amqp.hpp"

namespace vkhid::bus {

// Names shared by publishers and consumers.
namespace names {
inline constexpr const char* kEvents = "vkhid.events";                // topic: internal events from the outbox
inline constexpr const char* kDelivery = "vkhid.delivery";            // direct: key = participant org_id
inline constexpr const char* kRetry = "vkhid.retry";                  // direct: key = delay tier, e.g. "10s"
inline constexpr const char* kDead = "vkhid.dead";                    // fanout: what needs a person
inline constexpr const char* kAlerts = "vkhid.alerts";                // topic: escalations for the UCC
inline constexpr const char* kNotifications = "vkhid.notifications";  // topic: applicant notices (SMS, e-mail)
inline constexpr const char* kRoutingQueue = "vkhid.routing";
inline constexpr const char* kDeadQueue = "vkhid.dead";
inline constexpr const char* kReviewQueue = "vkhid.review";                // cases no rule places
inline constexpr const char* kAlertsQueue = "vkhid.alerts";                // consumed by the UCC's monitoring
inline constexpr const char* kNotificationsQueue = "vkhid.notifications";  // consumed by the SMS and e-mail systems
// Priority levels on the routing and delivery queues: art. 20 applicants go ahead of the others.
inline constexpr std::int64_t kMaxPriority = 5;
}  // namespace names

struct ExchangeSpec {
  std::string name;
  std::string type;
};
struct QueueSpec {
  std::string name;
  AmqpArgs args;
};
struct BindingSpec {
  std::string queue;
  std::string exchange;
  std::string key;
};

struct Topology {
  std::vector<ExchangeSpec> exchanges;
  std::vector<QueueSpec> queues;
  std::vector<BindingSpec> bindings;
};

// Retry tiers: a delivery job published to vkhid.retry with key "<tier>.<org_id>" waits in
// vkhid.retry.<tier> for the tier's TTL (or its own shorter expiration: jitter), then dead-letters
// back to vkhid.delivery with the same key, which the participant's queue is bound to.
struct RetryTier {
  std::string name;  // e.g. "10000ms": named by the delay, so changing delays never clashes
  long long delay_ms;
};
std::vector<RetryTier> retryTiers(const std::vector<long long>& delays_ms);

// The static part of the topology (per-participant queues are added when participants are).
Topology gatewayTopology(const std::vector<long long>& retry_delays_ms = {10000, 60000, 600000, 3600000, 21600000});

// The delivery queue of one participant, bound to vkhid.delivery with its org_id.
Topology participantTopology(const std::string& org_id);
std::string deliveryQueueName(const std::string& org_id);

// Declares everything; safe to repeat (declarations with the same arguments are no-ops).
Status declare(AmqpConnection& connection, const Topology& topology);

// A queue the other side declares too (a participant's own queues on the amqp adapter): of the
// connection's queue type (quorum on a cluster, so it survives a node); one that exists already with
// other arguments is used as it is.
Status declarePeerQueue(AmqpConnection& connection, const std::string& name);

}  // namespace vkhid::bus
