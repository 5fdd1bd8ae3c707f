// The `amqp` adapter's settings and registration. Endpoint settings (all optional):
//   inbox_queue  = "edms.<org_id>.in"    where we put packages for the participant
//   outbox_queue = "edms.<org_id>.out"   where the participant puts packages for us
//   broker_user  = "<user>"              the participant's broker user (validated user_id)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"

namespace vkhid::adapters::amqp {

inline constexpr const char* kName = "amqp";

std::string inboxQueue(const Endpoint& e);
std::string outboxQueue(const Endpoint& e);

// What the adapter takes from the gateway's configuration: the broker (broker.*), the publish timeout
// and prefetch (delivery.*), and the consumer threads (gateway.workers).
struct Settings {
  std::string broker_url;
  std::string queue_type = "classic";  // broker.queue_type: participants' queues too
  int connect_timeout_s = 5;
  std::chrono::milliseconds publish_timeout{10000};
  std::uint16_t prefetch = 16;
  int inbound_workers = 2;
  // Stamped as user_id on every package published, when given (the broker checks it is the connection's
  // user): how the one that consumes them learns who sent them. The gateway's side needs none; a
  // participant's (the simulator) gives its broker user.
  std::string user_id;
};
Settings settingsFrom(const app::Config& config);

void registerAdapter(AdapterRegistry& registry);

}  // namespace vkhid::adapters::amqp
