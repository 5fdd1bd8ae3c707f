#include "gateway/flows/queue_consumer.hpp"

#include <algorithm>

#include "gateway/app/logging.hpp"

namespace vkhid::flows {
namespace {

// At most this many handled deliveries wait for one acknowledgement (under the prefetch, so the broker
// keeps sending meanwhile).
constexpr int kAckEvery = 8;

}  // namespace

QueueConsumer::QueueConsumer(std::string name, bus::AmqpSettings settings, Setup setup, QueueList queues,
                             Handler handler, std::uint16_t prefetch, std::chrono::milliseconds refresh)
    : QueueConsumer(
          std::move(name), std::move(settings), std::move(setup), std::move(queues),
          [handler = std::move(handler)](const std::vector<bus::Delivery>& batch) {
            return std::vector<Disposition>{handler(batch.front())};
          },
          1, prefetch, refresh) {}

QueueConsumer::QueueConsumer(std::string name, bus::AmqpSettings settings, Setup setup, QueueList queues,
                             BatchHandler handler, std::size_t max_batch, std::uint16_t prefetch,
                             std::chrono::milliseconds refresh)
    : name_(std::move(name)),
      settings_(std::move(settings)),
      setup_(std::move(setup)),
      queues_(std::move(queues)),
      handler_(std::move(handler)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      prefetch_(prefetch),
      refresh_(refresh) {}

bool QueueConsumer::handle(bus::AmqpConnection& c, bus::AckBatch& acks, const std::vector<bus::Delivery>& batch) {
  const auto dispositions = handler_(batch);
  bool requeued = false;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (dispositions.at(i) == Disposition::Ack) {
      if (!acks.handled(batch[i].tag)) return false;
      continue;
    }
    if (!acks.flush() || !c.nack(batch[i].tag, true)) return false;
    requeued = true;
  }
  if (requeued) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return true;
}

void QueueConsumer::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void QueueConsumer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void QueueConsumer::run() {
  std::chrono::milliseconds backoff{250};
  auto pause = [&] {
    for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stopping_;
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
  };
  while (!stopping_) {
    auto queues = queues_();
    auto c = bus::AmqpConnection::connect(settings_);
    Status ready = c ? setup_(*c) : Status(c.error());
    if (ready) ready = c->setPrefetch(prefetch_);
    for (const auto& q : queues) {
      if (!ready) break;
      ready = c->consume(q);
    }
    if (!ready) {
      log::warn("consumer cannot start", {{"consumer", name_}, {"error", ready.error().message}});
      pause();
      continue;
    }
    backoff = std::chrono::milliseconds(250);
    auto next_refresh = std::chrono::steady_clock::now() + refresh_;
    // While more deliveries are waiting, one ack covers several of them.
    bus::AckBatch acks(*c, kAckEvery);
    while (!stopping_) {
      if (std::chrono::steady_clock::now() >= next_refresh) {
        next_refresh = std::chrono::steady_clock::now() + refresh_;
        if (queues_() != queues) break;  // the set of queues changed: consume the new set
      }
      auto d = c->next(acks.pending() ? std::chrono::milliseconds(0) : std::chrono::milliseconds(200));
      if (!d) {
        log::warn("consumer lost the broker", {{"consumer", name_}, {"error", d.error().message}});
        break;
      }
      if (!d->has_value()) {
        if (!acks.flush()) break;  // nothing more waiting
        continue;
      }
      // What else is waiting already joins it, up to the batch's size.
      auto batch = bus::withWaiting(*c, std::move(**d), max_batch_);
      if (!batch || !handle(*c, acks, *batch)) break;  // lost: unacknowledged, all of them come again
    }
    (void)acks.flush();
  }
}

}  // namespace vkhid::flows
