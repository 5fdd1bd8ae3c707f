#include "gateway/flows/queue_consumer.hpp"

#include "gateway/app/logging.hpp"

namespace vkhid::flows {
namespace {

// At most this many handled deliveries wait for one acknowledgement (under the prefetch, so the broker
// keeps sending meanwhile).
constexpr int kAckEvery = 8;

}  // namespace

QueueConsumer::QueueConsumer(std::string name, bus::AmqpSettings settings, Setup setup, QueueList queues,
                             Handler handler, std::uint16_t prefetch, std::chrono::milliseconds refresh)
    : name_(std::move(name)),
      settings_(std::move(settings)),
      setup_(std::move(setup)),
      queues_(std::move(queues)),
      handler_(std::move(handler)),
      prefetch_(prefetch),
      refresh_(refresh) {}

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
      if (handler_(**d) == Disposition::Ack) {
        if (!acks.handled((*d)->tag)) break;
        continue;
      }
      if (!acks.flush() || !c->nack((*d)->tag, true)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    (void)acks.flush();
  }
}

}  // namespace vkhid::flows
