// An owning wrapper over one rabbitmq-c connection with one channel in confirm mode. Every call has a
// deadline (the connection's RPC timeout). Not thread-safe: a connection belongs to one thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/domain/error.hpp"

struct amqp_connection_state_t_;

namespace vkhid::bus {

struct AmqpSettings {
  // amqp://user:password@host:port/vhost — or several nodes of a cluster, comma-separated: a connection
  // tries them in turn, each new connection starting from the next node, and takes the first that answers.
  std::string url;
  int connect_timeout_s = 5;
  int heartbeat_s = 30;
  std::chrono::milliseconds rpc_timeout{5000};
  // "classic", or "quorum": the queues of the gateway's topology (bus::declare) are quorum queues,
  // replicated across a cluster's nodes (they have no priorities in RabbitMQ 3.10).
  std::string queue_type = "classic";
};

// The node URLs of a comma-separated list, spaces trimmed, empty items dropped.
std::vector<std::string> brokerNodes(const std::string& urls);
// The virtual host the first node's URL names ("/" when it names none, as amqp_parse_url has it).
std::string brokerVhost(const std::string& urls);
// The same nodes (one URL or a comma-separated list) as `user` on virtual host `vhost`.
std::string brokerUrlsAs(const std::string& urls, const std::string& user, const std::string& password,
                         const std::string& vhost);

// Queue and exchange arguments, e.g. {"x-message-ttl", 10000}, {"x-dead-letter-exchange", "vkhid.dead"}.
using AmqpArgValue = std::variant<std::int64_t, std::string>;
using AmqpArgs = std::map<std::string, AmqpArgValue>;

struct PublishProperties {
  std::string message_id;
  std::string content_type;
  std::string type;
  std::string user_id;  // checked by the broker against the connection's user when set
  bool persistent = true;
  std::string expiration;  // per-message TTL in ms, as text (retry jitter)
  std::optional<std::uint8_t> priority;
  std::map<std::string, std::string> headers;
};

// One message taken from a queue; ack or nack it by its tag on the same connection.
struct Delivery {
  std::uint64_t tag = 0;
  bool redelivered = false;
  std::string exchange, routing_key;
  std::string body;
  std::string message_id, user_id, type;
  std::map<std::string, std::string> headers;  // string-valued headers only
};

// Which publishes of a channel the broker has confirmed. Confirms may come out of order — a priority
// queue confirms each priority level on its own — and one may cover every tag up to its own
// (`multiple`): the tags up to the first unconfirmed one are done; those confirmed singly above it wait.
class ConfirmTracker {
 public:
  void reset() {
    up_to_ = 0;
    above_.clear();
  }
  void confirm(std::uint64_t tag, bool multiple) {
    if (multiple) {
      up_to_ = std::max(up_to_, tag);
      above_.erase(above_.begin(), above_.upper_bound(up_to_));
    } else if (tag > up_to_) {
      above_.insert(tag);
    }
    while (!above_.empty() && *above_.begin() == up_to_ + 1) {
      up_to_ = *above_.begin();
      above_.erase(above_.begin());
    }
  }
  // Whether every publish with a tag below `next_tag` is confirmed.
  bool allBefore(std::uint64_t next_tag) const { return up_to_ + 1 >= next_tag; }

 private:
  std::uint64_t up_to_ = 0;
  std::set<std::uint64_t> above_;
};

class AmqpConnection {
 public:
  static Result<AmqpConnection> connect(const AmqpSettings& settings);

  AmqpConnection(AmqpConnection&&) noexcept;
  AmqpConnection& operator=(AmqpConnection&&) noexcept;
  ~AmqpConnection();

  Status declareExchange(const std::string& name, const std::string& type, const AmqpArgs& args = {});
  // A queue that exists with other arguments fails with code "amqp.queue_args"; the channel is
  // reopened, so the connection stays usable.
  Status declareQueue(const std::string& name, const AmqpArgs& args = {});
  // Deletes a queue only while it holds no messages ("amqp.queue_not_empty" otherwise).
  Status deleteEmptyQueue(const std::string& name);
  Status bindQueue(const std::string& queue, const std::string& exchange, const std::string& key);
  // A passive declare: one round trip that fails when the broker or the queue is gone.
  Result<std::uint32_t> queueDepth(const std::string& name);
  // How many consumers the queue has now (a passive declare, as queueDepth).
  Result<std::uint32_t> queueConsumers(const std::string& name);

  // Publishes and returns the delivery tag; the broker's confirm arrives later (waitForConfirms).
  Result<std::uint64_t> publish(const std::string& exchange, const std::string& key, std::string_view body,
                                const PublishProperties& props);
  // Waits until the broker has confirmed every publish so far. A nack or an unroutable mandatory
  // message is an error; so is the deadline passing.
  Status waitForConfirms(std::chrono::milliseconds timeout);
  // Serves the connection's heartbeats while it has nothing else to do (without blocking): rabbitmq-c
  // sends and reads them only inside its own calls, and a connection left alone for two intervals is
  // closed by the broker — its next publish then fails. Call it from the connection's own thread while
  // idle; an error means the connection is gone.
  Status keepAlive();

  // Consuming, with manual acknowledgement. `prefetch` bounds unacknowledged deliveries.
  Status setPrefetch(std::uint16_t prefetch);
  Status consume(const std::string& queue);
  // The next delivery, or nullopt when none arrived within `timeout`.
  Result<std::optional<Delivery>> next(std::chrono::milliseconds timeout);
  // With `multiple`, acknowledges every delivery up to and including `tag` not acknowledged yet.
  Status ack(std::uint64_t tag, bool multiple = false);
  Status nack(std::uint64_t tag, bool requeue);
  // One message without a consumer (basic.get); nullopt when the queue is empty.
  Result<std::optional<Delivery>> get(const std::string& queue);

  // The message_ids of mandatory publishes the broker returned (no queue took them) since the last call.
  std::vector<std::string> takeReturned() { return std::exchange(returned_, {}); }

  bool open() const { return state_ != nullptr && !broken_; }
  const std::string& queueType() const { return queue_type_; }
  const std::string& node() const { return node_; }  // host:port of the node connected to

 private:
  AmqpConnection() = default;
  Status check(const char* what);  // reads the last RPC reply
  // After the broker closed our channel with `code` (precondition failed): acknowledges the close and
  // opens the channel again; any other failure leaves the connection broken.
  Status recoverChannel(const char* what, int expected_code, const char* error_code);
  Error fail(std::string code, std::string message);
  void destroy();

  amqp_connection_state_t_* state_ = nullptr;
  bool broken_ = false;
  std::uint64_t next_tag_ = 1;  // delivery tag of the next publish
  ConfirmTracker confirms_;
  bool nacked_ = false;
  std::vector<std::string> returned_;
  std::chrono::milliseconds rpc_timeout_{5000};
  std::string queue_type_ = "classic";
  std::string node_;
  // Connects to one node's URL.
  static Result<AmqpConnection> connectNode(const AmqpSettings& settings, const std::string& url);
};

// `first` and what else is already waiting on the connection (never waiting for more), up to `max`
// deliveries. An error: the connection was lost meanwhile, and every one of them comes again.
Result<std::vector<Delivery>> withWaiting(AmqpConnection& connection, Delivery first, std::size_t max);

// Acknowledges handled deliveries of one connection together: the consumer calls handled() for each,
// and flush() when nothing more is waiting or before it returns a delivery (nack); one ack with
// `multiple` then covers them, and at most `every` wait for it. Deliveries not yet acknowledged when
// the connection is lost are offered again, so handlers must be idempotent — as they must be anyway.
class AckBatch {
 public:
  AckBatch(AmqpConnection& connection, int every) : connection_(connection), every_(every) {}
  bool pending() const { return count_ > 0; }
  Status handled(std::uint64_t tag) {
    last_ = tag;
    return ++count_ >= every_ ? flush() : Status{};
  }
  Status flush() {
    if (count_ == 0) return {};
    count_ = 0;
    return connection_.ack(last_, true);
  }

 private:
  AmqpConnection& connection_;
  int every_;
  int count_ = 0;
  std::uint64_t last_ = 0;
};

}  // namespace vkhid::bus
