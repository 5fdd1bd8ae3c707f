// Participants that speak AMQP: we publish each package to their inbox queue (persistent, confirmed)
// and consume their outbox queue. RabbitMQ validates the user_id property against the connection's
// user, so the broker tells us who sent a package.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/adapter.hpp"
#include "adapters/amqp/config.hpp"
#include "gateway/bus/amqp.hpp"

namespace vkhid::adapters::amqp {

// The participants' outbox queues dealt out among `consumers` consumers (fewer when there are fewer
// queues), each queue to one: a participant's packages are then taken in the order it sent them.
std::vector<std::vector<Endpoint>> dealQueues(const std::vector<Endpoint>& endpoints, int consumers);

class AmqpAdapter final : public Adapter {
 public:
  explicit AmqpAdapter(Settings settings) : settings_(std::move(settings)) {}
  ~AmqpAdapter() override { stop(); }

  // Adapter
  std::string name() const override { return "amqp"; }
  DeliveryOutcome deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& endpoint) override;
  // Publishes them all, then waits once for the broker's confirms: all delivered, or all to retry.
  std::vector<DeliveryOutcome> deliverAll(const std::vector<OutboundPackage>& packages,
                                          const Endpoint& endpoint) override;
  Status health(const Endpoint& endpoint) override;
  Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink) override;
  // What is waiting (up to the prefetch) goes to `batch` in one call: one transaction for them all.
  Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink, InboundBatchSink batch) override;
  void stop() override;

 private:
  void consumeLoop(std::vector<Endpoint> endpoints, InboundBatchSink batch);
  DeliveryOutcome publishOnce(const std::vector<OutboundPackage>& packages, const Endpoint& endpoint);
  Result<bus::AmqpConnection> connect() const;

  Settings settings_;
  std::mutex publish_mutex_;
  std::optional<bus::AmqpConnection> publisher_;
  // Participants' queues declared on publisher_ since it connected: declared once per connection, not
  // before every package. Publishes are mandatory, so a queue deleted since comes back as unroutable —
  // the connection is dropped with this memory, and the retry declares the queue again.
  std::set<std::string> declared_;
  void dropPublisher();
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> consumers_;  // gateway.workers of them, each its own connection
};

}  // namespace vkhid::adapters::amqp
