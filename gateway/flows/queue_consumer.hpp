// A thread that consumes RabbitMQ queues with manual acks and hands each delivery to a handler,
// reconnecting with backoff when the broker goes away. Delivery is at least once: handlers must be
// idempotent (they are: every effect is keyed by an id in the database).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/bus/amqp.hpp"

namespace vkhid::flows {

enum class Disposition {
  Ack,      // handled (the database committed), or nothing to do
  Requeue,  // not handled now (database away): offer it again
};

class QueueConsumer {
 public:
  using Handler = std::function<Disposition(const bus::Delivery&)>;
  // Several deliveries that were waiting together (issue 25), in order: what to do with each.
  using BatchHandler = std::function<std::vector<Disposition>(const std::vector<bus::Delivery>&)>;
  using Setup = std::function<Status(bus::AmqpConnection&)>;    // declares what the queues need
  using QueueList = std::function<std::vector<std::string>()>;  // re-read every `refresh`

  QueueConsumer(std::string name, bus::AmqpSettings settings, Setup setup, QueueList queues, Handler handler,
                std::uint16_t prefetch, std::chrono::milliseconds refresh = std::chrono::seconds(10));
  // Hands the handler what is waiting, up to `max_batch` deliveries at once (at least the one that woke
  // it; never waiting for more).
  QueueConsumer(std::string name, bus::AmqpSettings settings, Setup setup, QueueList queues, BatchHandler handler,
                std::size_t max_batch, std::uint16_t prefetch,
                std::chrono::milliseconds refresh = std::chrono::seconds(10));
  ~QueueConsumer() { stop(); }
  QueueConsumer(const QueueConsumer&) = delete;
  QueueConsumer& operator=(const QueueConsumer&) = delete;

  void start();
  void stop();

 private:
  void run();
  // Handles one batch and acknowledges (or requeues) each delivery of it; false when the connection is lost.
  bool handle(bus::AmqpConnection& c, bus::AckBatch& acks, const std::vector<bus::Delivery>& batch);

  std::string name_;
  bus::AmqpSettings settings_;
  Setup setup_;
  QueueList queues_;
  BatchHandler handler_;
  std::size_t max_batch_ = 1;
  std::uint16_t prefetch_;
  std::chrono::milliseconds refresh_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace vkhid::flows
