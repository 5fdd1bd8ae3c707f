// The `amqp` adapter's settings and registration. Endpoint settings (all optional):
//   inbox_queue  = "edms.<org_id>.in"    where we put packages for the participant
//   outbox_queue = "edms.<org_id>.out"   where the participant puts packages for us
//   broker_user  = "<user>"              the participant's broker user (validated user_id)
#pragma once

#include <string>

#include "adapters/adapter.hpp"

namespace vkhid::adapters::amqp {

inline constexpr const char* kName = "amqp";

std::string inboxQueue(const Endpoint& e);
std::string outboxQueue(const Endpoint& e);

void registerAdapter(AdapterRegistry& registry);

}  // namespace vkhid::adapters::amqp
