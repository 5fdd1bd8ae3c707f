// The running exchange (DESIGN §2, §7): the outbox relay, the consumers that drive routing and delivery,
// the inbound adapters, the timers and the evidence sealer, around the use cases Router, Deliverer,
// InboundHandler and Timers. Every state change and the event it announces commit together (outbox); every
// consumer is idempotent by id, so a crash at any line leaves a state the restart completes.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/adapter.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/delivery.hpp"
#include "gateway/flows/inbound.hpp"
#include "gateway/flows/queue_consumer.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/flows/timers.hpp"

namespace vkhid::flows {

class Exchange {
 public:
  // `timestamps` fetches RFC 3161 answers for the evidence batches (none: batches are not stamped).
  Exchange(const app::Config& config, store::PgPool& pool, const crypto::Signer& signer,
           TimestampFetch timestamps = {});
  ~Exchange() { stop(); }

  void start();
  void stop();
  ExchangeContext& context() { return context_; }

  // The use cases, public so tests and the CLI can drive them one step at a time.
  Disposition route(const std::string& case_id) { return router_.route(case_id); }
  Status receive(const adapters::InboundPackage& package) { return inbound_.receive(package); }
  // Publishes one batch of the outbox; returns how many rows were published.
  Result<int> relayOnce(bus::AmqpConnection& connection);
  // Deletes outbox rows sent longer ago than delivery.outbox_retention_hours, up to a round's worth;
  // returns how many.
  Result<long long> pruneSentOutbox();

 private:
  void relayLoop();
  void timerLoop();
  void auditLoop();
  void refreshInbound();
  void refreshDeliveryConsumers();
  Status sweepStuckDeliveries();

  ExchangeContext context_;
  std::atomic<bool> stopping_{false};
  Router router_{context_};
  Deliverer deliverer_{context_, stopping_};
  InboundHandler inbound_{context_};
  Timers timers_{context_};
  std::vector<std::unique_ptr<QueueConsumer>> consumers_;  // routing
  std::mutex delivery_mutex_;
  std::map<std::string, std::vector<std::unique_ptr<QueueConsumer>>> delivery_consumers_;  // by participant
  std::thread relay_;
  std::thread timer_thread_;
  std::thread audit_;
  std::mutex inbound_mutex_;
  std::string inbound_signature_;  // the endpoints the inbound adapters were started with
  bool inbound_started_ = false;
  bool started_ = false;
};

}  // namespace vkhid::flows
