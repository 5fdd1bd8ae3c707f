#include "adapters/amqp/amqp_adapter.hpp"

#include <map>
#include "adapters/amqp/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"

namespace vkhid::adapters::amqp {
namespace {

constexpr int kAckEvery = 8;  // handled packages one acknowledgement may cover (under the prefetch)

}  // namespace

Result<bus::AmqpConnection> AmqpAdapter::connect() const {
  return bus::AmqpConnection::connect(
      {settings_.broker_url, settings_.connect_timeout_s, 30, settings_.publish_timeout, settings_.queue_type});
}

DeliveryOutcome AmqpAdapter::deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& endpoint) {
  return deliverAll({OutboundPackage{bytes, msg_id}}, endpoint).front();
}

std::vector<DeliveryOutcome> AmqpAdapter::deliverAll(const std::vector<OutboundPackage>& packages,
                                                     const Endpoint& endpoint) {
  if (packages.empty()) return {};
  std::lock_guard lock(publish_mutex_);
  // The cached connection may have been closed while idle (rabbitmq-c serves heartbeats only while
  // it reads): that is not the participant failing, so one fresh connection gets a second try.
  bool had_connection = publisher_.has_value();
  auto outcome = publishOnce(packages, endpoint);
  if (outcome.kind == DeliveryOutcome::Kind::Retry && had_connection) outcome = publishOnce(packages, endpoint);
  return std::vector<DeliveryOutcome>(packages.size(), outcome);
}

void AmqpAdapter::dropPublisher() {
  publisher_.reset();
  declared_.clear();
}

DeliveryOutcome AmqpAdapter::publishOnce(const std::vector<OutboundPackage>& packages, const Endpoint& endpoint) {
  // Idle since its last delivery, it served no heartbeats: its frames are read now, and one the broker
  // closed meanwhile is replaced before anything is published on it.
  if (publisher_ && !publisher_->keepAlive()) dropPublisher();
  if (!publisher_ || !publisher_->open()) {
    dropPublisher();
    auto c = connect();
    if (!c) return DeliveryOutcome::retry(c.error().message);
    publisher_.emplace(std::move(c).value());
  }
  const std::string queue = inboxQueue(endpoint);
  // The participant's queue is part of its endpoint: declaring it is idempotent and makes a first
  // delivery work before the participant ever connected.
  if (!declared_.contains(queue)) {
    if (auto s = bus::declarePeerQueue(*publisher_, queue); !s) {
      dropPublisher();
      return DeliveryOutcome::retry(s.error().message);
    }
    declared_.insert(queue);
  }
  for (const auto& p : packages) {
    bus::PublishProperties props;
    props.message_id = p.msg_id;
    props.content_type = "application/xml";
    props.type = "sev-ovv-1.5";
    if (!settings_.user_id.empty()) props.user_id = settings_.user_id;
    if (auto tag = publisher_->publish("", queue, p.bytes, props); !tag) {
      dropPublisher();
      return DeliveryOutcome::retry(tag.error().message);
    }
  }
  // One wait for every confirm: a package unconfirmed is retried with those beside it (the receiver
  // takes each msg_id once).
  if (auto s = publisher_->waitForConfirms(settings_.publish_timeout); !s) {
    dropPublisher();  // unconfirmed: never reuse a connection in an unknown state
    return DeliveryOutcome::retry(s.error().message);
  }
  return DeliveryOutcome::delivered(queue);
}

Status AmqpAdapter::health(const Endpoint& endpoint) {
  auto c = connect();
  if (!c) return c.error();
  if (auto s = bus::declarePeerQueue(*c, inboxQueue(endpoint)); !s) return s;
  return {};
}

Status AmqpAdapter::startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink) {
  return startInbound(endpoints, sink, [sink](const std::vector<InboundPackage>& packages) {
    std::vector<Status> out;
    for (const auto& p : packages) out.push_back(sink(p));
    return out;
  });
}

Status AmqpAdapter::startInbound(const std::vector<Endpoint>& endpoints, InboundSink, InboundBatchSink batch) {
  stopping_ = false;
  // Each participant's queue has one consumer here, so its packages are applied in the order it sent
  // them (with two sharing a queue, a receipt could be applied after the answer sent behind it). The
  // queues are dealt out among up to inbound_workers consumers: participants are taken in parallel.
  for (auto& share : dealQueues(endpoints, std::max(1, settings_.inbound_workers))) {
    consumers_.emplace_back([this, share = std::move(share), batch] { consumeLoop(share, batch); });
  }
  return {};
}

std::vector<std::vector<Endpoint>> dealQueues(const std::vector<Endpoint>& endpoints, int consumers) {
  std::map<std::string, std::vector<Endpoint>> byQueue;  // in the queues' order: the same deal each time
  for (const auto& e : endpoints) byQueue[outboxQueue(e)].push_back(e);
  std::vector<std::vector<Endpoint>> shares(std::min<std::size_t>(static_cast<std::size_t>(consumers), byQueue.size()));
  std::size_t next = 0;
  for (auto& [queue, sharing] : byQueue) {
    auto& share = shares[next++ % shares.size()];
    share.insert(share.end(), sharing.begin(), sharing.end());
  }
  return shares;
}

void AmqpAdapter::stop() {
  stopping_ = true;
  for (auto& t : consumers_) {
    if (t.joinable()) t.join();
  }
  consumers_.clear();
}

void AmqpAdapter::consumeLoop(std::vector<Endpoint> endpoints, InboundBatchSink batch) {
  std::chrono::milliseconds backoff{250};
  while (!stopping_) {
    auto c = connect();
    Status ready = c ? c->setPrefetch(settings_.prefetch) : Status(c.error());
    for (const auto& e : endpoints) {
      if (!ready) break;
      ready = bus::declarePeerQueue(*c, outboxQueue(e));
      if (ready) ready = c->consume(outboxQueue(e));
    }
    if (!ready) {
      log::warn("amqp adapter: cannot consume participants' queues", {{"error", ready.error().message}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
      continue;
    }
    backoff = std::chrono::milliseconds(250);
    // While more packages are waiting, one ack covers several (the core de-duplicates by msg_id
    // what a lost connection has offered again).
    bus::AckBatch acks(*c, kAckEvery);
    while (!stopping_) {
      auto d = c->next(acks.pending() ? std::chrono::milliseconds(0) : std::chrono::milliseconds(200));
      if (!d) break;  // connection lost: reconnect
      if (!d->has_value()) {
        if (!acks.flush()) break;  // nothing more waiting
        continue;
      }
      // What else is waiting already joins it, up to the prefetch; lost: all of them come again.
      auto waiting = bus::withWaiting(*c, std::move(**d), std::max<std::size_t>(1, settings_.prefetch));
      if (!waiting) break;
      std::vector<InboundPackage> packages;
      for (const auto& delivery : *waiting) {
        std::string org;
        for (const auto& e : endpoints) {
          if (outboxQueue(e) == delivery.routing_key) org = e.org_id;
        }
        packages.push_back({delivery.body, "amqp", delivery.user_id, org, nullptr, {}});
      }
      const auto statuses = batch(packages);
      bool broken = false;
      for (std::size_t i = 0; i < waiting->size() && !broken; ++i) {
        if (statuses.at(i)) {
          broken = !acks.handled((*waiting)[i].tag);
          continue;
        }
        // Not handled (database away, say): back to the queue, after a pause so it does not spin.
        if (!acks.flush()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        broken = !c->nack((*waiting)[i].tag, true);
      }
      if (broken) break;
    }
    (void)acks.flush();
  }
}

}  // namespace vkhid::adapters::amqp
