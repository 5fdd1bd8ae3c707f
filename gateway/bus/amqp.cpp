#include "gateway/bus/amqp.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <atomic>
#include <cstring>

namespace vkhid::bus {
namespace {

constexpr amqp_channel_t kChannel = 1;

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

amqp_bytes_t bytes(std::string_view s) { return {s.size(), const_cast<char*>(s.data())}; }

std::string replyText(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "ok";
    case AMQP_RESPONSE_NONE: return "missing reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed by broker: " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed by broker: " + std::to_string(m->reply_code) + " " +
               std::string(static_cast<char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "broker exception";
  }
  return "unknown reply";
}

// Holds the amqp_table_t entries for the duration of one call.
class ArgTable {
 public:
  explicit ArgTable(const AmqpArgs& args) {
    entries_.reserve(args.size());
    for (const auto& [key, value] : args) {
      amqp_table_entry_t e{};
      e.key = bytes(key);
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = *i;
      } else {
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes = bytes(std::get<std::string>(value));
      }
      entries_.push_back(e);
    }
    table_.num_entries = static_cast<int>(entries_.size());
    table_.entries = entries_.empty() ? nullptr : entries_.data();
  }
  amqp_table_t get() const { return table_; }

 private:
  std::vector<amqp_table_entry_t> entries_;
  amqp_table_t table_{0, nullptr};
};

}  // namespace

AmqpConnection::AmqpConnection(AmqpConnection&& o) noexcept { *this = std::move(o); }

AmqpConnection& AmqpConnection::operator=(AmqpConnection&& o) noexcept {
  if (this != &o) {
    destroy();
    state_ = std::exchange(o.state_, nullptr);
    broken_ = o.broken_;
    next_tag_ = o.next_tag_;
    confirms_ = std::move(o.confirms_);
    nacked_ = o.nacked_;
    returned_ = std::move(o.returned_);
    rpc_timeout_ = o.rpc_timeout_;
    queue_type_ = std::move(o.queue_type_);
    node_ = std::move(o.node_);
  }
  return *this;
}

AmqpConnection::~AmqpConnection() { destroy(); }

void AmqpConnection::destroy() {
  if (state_ == nullptr) return;
  if (!broken_) {
    // Polite close, bounded by the RPC timeout; a dead broker just makes these fail.
    amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(state_);
  state_ = nullptr;
}

Error AmqpConnection::fail(std::string code, std::string message) {
  broken_ = true;
  return Error::unavailable(std::move(code), "broker: " + std::move(message));
}

Status AmqpConnection::check(const char* what) {
  auto r = amqp_get_rpc_reply(state_);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
  return fail("amqp.unavailable", std::string(what) + ": " + replyText(r));
}

std::vector<std::string> brokerNodes(const std::string& urls) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= urls.size()) {
    auto comma = urls.find(',', at);
    std::string one = urls.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    auto first = one.find_first_not_of(" \t");
    auto last = one.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(one.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::string brokerVhost(const std::string& urls) {
  const auto nodes = brokerNodes(urls);
  if (nodes.empty()) return "/";
  std::string url = nodes.front();  // amqp_parse_url writes into the buffer and points into it
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(url.data(), &info) != AMQP_STATUS_OK || !info.vhost) return "/";
  return info.vhost;
}

std::string brokerUrlsAs(const std::string& urls, const std::string& user, const std::string& password,
                         const std::string& vhost) {
  std::string out;
  for (const auto& url : brokerNodes(urls)) {
    std::string host_port = url.substr(url.find('@') + 1);
    host_port = host_port.substr(0, host_port.find('/'));
    out += (out.empty() ? "" : ",") + ("amqp://" + user + ":" + password + "@" + host_port + "/" + vhost);
  }
  return out;
}

Result<AmqpConnection> AmqpConnection::connect(const AmqpSettings& settings) {
  auto nodes = brokerNodes(settings.url);
  if (nodes.empty())
    return Error::invalid("amqp.bad_url", "broker: no URL (expected amqp://user:password@host:port/vhost)");
  // Connections spread over the nodes: each starts from the next one, and moves on while one fails.
  static std::atomic<std::size_t> next_start{0};
  const std::size_t start = next_start++ % nodes.size();
  std::optional<Error> last;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto c = connectNode(settings, nodes[(start + i) % nodes.size()]);
    if (c) return c;
    if (c.error().code == "amqp.bad_url") return c.error();
    last = c.error();
  }
  if (nodes.size() > 1) last->message += " (and every other node of broker.url)";
  return *last;
}

Result<AmqpConnection> AmqpConnection::connectNode(const AmqpSettings& settings, const std::string& node_url) {
  std::string url = node_url;  // amqp_parse_url writes into the buffer and points into it
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(url.data(), &info) != AMQP_STATUS_OK) {
    return Error::invalid("amqp.bad_url", "broker: cannot parse URL (expected amqp://user:password@host:port/vhost)");
  }
  AmqpConnection c;
  c.rpc_timeout_ = settings.rpc_timeout;
  c.queue_type_ = settings.queue_type;
  c.state_ = amqp_new_connection();
  if (c.state_ == nullptr) return Error::internal("amqp.alloc", "broker: out of memory");
  amqp_socket_t* socket = amqp_tcp_socket_new(c.state_);
  if (socket == nullptr) return Error::internal("amqp.alloc", "broker: cannot create socket");

  std::string where = std::string(info.host) + ":" + std::to_string(info.port);
  c.node_ = where;
  timeval connect_tv = toTimeval(std::chrono::seconds(settings.connect_timeout_s));
  if (int rc = amqp_socket_open_noblock(socket, info.host, info.port, &connect_tv); rc != AMQP_STATUS_OK) {
    c.broken_ = true;
    return Error::unavailable("amqp.unavailable", "broker: cannot connect to " + where + ": " + amqp_error_string2(rc));
  }
  timeval rpc_tv = toTimeval(settings.rpc_timeout);
  amqp_set_handshake_timeout(c.state_, &rpc_tv);
  amqp_set_rpc_timeout(c.state_, &rpc_tv);

  auto login = amqp_login(c.state_, info.vhost, 0, 131072, settings.heartbeat_s, AMQP_SASL_METHOD_PLAIN, info.user,
                          info.password);
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    c.broken_ = true;
    return Error::unavailable("amqp.login", "broker: login to " + where + " failed: " + replyText(login));
  }
  amqp_channel_open(c.state_, kChannel);
  if (auto s = c.check("channel.open"); !s) return s.error();
  amqp_confirm_select(c.state_, kChannel);
  if (auto s = c.check("confirm.select"); !s) return s.error();
  return c;
}

Status AmqpConnection::declareExchange(const std::string& name, const std::string& type, const AmqpArgs& args) {
  ArgTable table(args);
  amqp_exchange_declare(state_, kChannel, bytes(name), bytes(type), 0, 1, 0, 0, table.get());
  return check(("exchange.declare " + name).c_str());
}

Status AmqpConnection::recoverChannel(const char* what, int expected_code, const char* error_code) {
  auto r = amqp_get_rpc_reply(state_);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return {};
  if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || r.reply.id != AMQP_CHANNEL_CLOSE_METHOD ||
      static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code != expected_code) {
    return fail("amqp.unavailable", std::string(what) + ": " + replyText(r));
  }
  std::string text = replyText(r);
  amqp_channel_close_ok_t close_ok{};
  if (amqp_send_method(state_, kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok) != AMQP_STATUS_OK) {
    return fail("amqp.unavailable", std::string(what) + ": cannot acknowledge the channel close");
  }
  amqp_channel_open(state_, kChannel);
  if (auto s = check("channel.open"); !s) return s;
  amqp_confirm_select(state_, kChannel);
  if (auto s = check("confirm.select"); !s) return s;
  next_tag_ = 1;  // a new channel numbers its publishes from 1
  confirms_.reset();
  return Error{ErrorKind::Conflict, error_code, std::string("broker: ") + what + ": " + text};
}

Status AmqpConnection::declareQueue(const std::string& name, const AmqpArgs& args) {
  ArgTable table(args);
  amqp_queue_declare(state_, kChannel, bytes(name), 0, 1, 0, 0, table.get());
  return recoverChannel(("queue.declare " + name).c_str(), AMQP_PRECONDITION_FAILED, "amqp.queue_args");
}

Status AmqpConnection::deleteEmptyQueue(const std::string& name) {
  amqp_queue_delete(state_, kChannel, bytes(name), 0, 1);
  return recoverChannel(("queue.delete " + name).c_str(), AMQP_PRECONDITION_FAILED, "amqp.queue_not_empty");
}

Status AmqpConnection::bindQueue(const std::string& queue, const std::string& exchange, const std::string& key) {
  amqp_queue_bind(state_, kChannel, bytes(queue), bytes(exchange), bytes(key), amqp_empty_table);
  return check(("queue.bind " + queue).c_str());
}

Result<std::uint32_t> AmqpConnection::queueDepth(const std::string& name) {
  auto* ok = amqp_queue_declare(state_, kChannel, bytes(name), 1, 0, 0, 0, amqp_empty_table);
  if (auto s = check(("queue.declare passive " + name).c_str()); !s) return s.error();
  return ok->message_count;
}

Result<std::uint32_t> AmqpConnection::queueConsumers(const std::string& name) {
  auto* ok = amqp_queue_declare(state_, kChannel, bytes(name), 1, 0, 0, 0, amqp_empty_table);
  if (auto s = check(("queue.declare passive " + name).c_str()); !s) return s.error();
  return ok->consumer_count;
}

Result<std::uint64_t> AmqpConnection::publish(const std::string& exchange, const std::string& key,
                                              std::string_view body, const PublishProperties& props) {
  amqp_basic_properties_t p{};
  p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  p.delivery_mode = props.persistent ? 2 : 1;
  if (!props.message_id.empty()) {
    p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    p.message_id = bytes(props.message_id);
  }
  if (!props.content_type.empty()) {
    p._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    p.content_type = bytes(props.content_type);
  }
  if (!props.type.empty()) {
    p._flags |= AMQP_BASIC_TYPE_FLAG;
    p.type = bytes(props.type);
  }
  if (!props.user_id.empty()) {
    p._flags |= AMQP_BASIC_USER_ID_FLAG;
    p.user_id = bytes(props.user_id);
  }
  if (!props.expiration.empty()) {
    p._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    p.expiration = bytes(props.expiration);
  }
  if (props.priority) {
    p._flags |= AMQP_BASIC_PRIORITY_FLAG;
    p.priority = *props.priority;
  }
  std::vector<amqp_table_entry_t> headers;
  if (!props.headers.empty()) {
    for (const auto& [k, v] : props.headers) {
      amqp_table_entry_t e{};
      e.key = bytes(k);
      e.value.kind = AMQP_FIELD_KIND_UTF8;
      e.value.value.bytes = bytes(v);
      headers.push_back(e);
    }
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    p.headers = {static_cast<int>(headers.size()), headers.data()};
  }
  int rc = amqp_basic_publish(state_, kChannel, bytes(exchange), bytes(key), 1, 0, &p, bytes(body));
  if (rc != AMQP_STATUS_OK) return fail("amqp.publish", std::string("publish: ") + amqp_error_string2(rc));
  return next_tag_++;
}

Status AmqpConnection::keepAlive() {
  if (!open()) return fail("amqp.unavailable", "the connection is closed");
  timeval none{0, 0};
  for (int frames = 0; frames < 16; ++frames) {
    amqp_frame_t frame{};
    int rc = amqp_simple_wait_frame_noblock(state_, &frame, &none);
    if (rc == AMQP_STATUS_TIMEOUT) return {};  // nothing waiting; a heartbeat went out if one was due
    if (rc != AMQP_STATUS_OK) return fail("amqp.unavailable", std::string("idle: ") + amqp_error_string2(rc));
    if (frame.frame_type == AMQP_FRAME_METHOD && (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                                                  frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)) {
      return fail("amqp.unavailable", "the broker closed the connection while it was idle");
    }
  }
  return {};
}

Status AmqpConnection::waitForConfirms(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool returned = false;
  // Until every publish is confirmed: returning at the highest tag confirmed would leave earlier ones
  // unconfirmed, and their confirms would arrive in the middle of the next RPC on the channel.
  while (!confirms_.allBefore(next_tag_)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error{ErrorKind::Timeout, "amqp.confirm_timeout", "broker: publish not confirmed in time"};
    }
    timeval tv = toTimeval(left);
    amqp_frame_t frame{};
    int rc = amqp_simple_wait_frame_noblock(state_, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) continue;
    if (rc != AMQP_STATUS_OK)
      return fail("amqp.unavailable", std::string("waiting for confirms: ") + amqp_error_string2(rc));
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        confirms_.confirm(ack->delivery_tag, ack->multiple != 0);
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
        confirms_.confirm(nack->delivery_tag, nack->multiple != 0);
        nacked_ = true;
        break;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        // A mandatory message no queue took; its content frames follow and are skipped.
        amqp_message_t message{};
        auto r = amqp_read_message(state_, kChannel, &message, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
          if (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
            returned_.emplace_back(static_cast<const char*>(message.properties.message_id.bytes),
                                   message.properties.message_id.len);
          }
          amqp_destroy_message(&message);
        }
        returned = true;
        break;
      }
      case AMQP_CHANNEL_CLOSE_METHOD:
      case AMQP_CONNECTION_CLOSE_METHOD:
        return fail("amqp.unavailable", "broker closed the channel while confirms were pending");
      default: break;
    }
  }
  if (nacked_ || returned) {
    nacked_ = false;
    return Error::unavailable(returned ? "amqp.unroutable" : "amqp.nack",
                              returned ? "broker: message had no queue to go to" : "broker: publish refused (nack)");
  }
  return {};
}

namespace {

std::string text(const amqp_bytes_t& b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

void fillDelivery(Delivery& d, const amqp_basic_properties_t& p, const amqp_bytes_t& body) {
  d.body = text(body);
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) d.message_id = text(p.message_id);
  if (p._flags & AMQP_BASIC_USER_ID_FLAG) d.user_id = text(p.user_id);
  if (p._flags & AMQP_BASIC_TYPE_FLAG) d.type = text(p.type);
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      const auto& e = p.headers.entries[i];
      if (e.value.kind == AMQP_FIELD_KIND_UTF8 || e.value.kind == AMQP_FIELD_KIND_BYTES) {
        d.headers[text(e.key)] = text(e.value.value.bytes);
      }
    }
  }
}

}  // namespace

Status AmqpConnection::setPrefetch(std::uint16_t prefetch) {
  amqp_basic_qos(state_, kChannel, 0, prefetch, 0);
  return check("basic.qos");
}

Status AmqpConnection::consume(const std::string& queue) {
  amqp_basic_consume(state_, kChannel, bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  return check(("basic.consume " + queue).c_str());
}

Result<std::optional<Delivery>> AmqpConnection::next(std::chrono::milliseconds timeout) {
  amqp_maybe_release_buffers(state_);
  amqp_envelope_t envelope{};
  timeval tv = toTimeval(timeout);
  auto r = amqp_consume_message(state_, &envelope, &tv, 0);
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
    return std::optional<Delivery>();
  }
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return fail("amqp.unavailable", "consume: " + replyText(r));
  Delivery d;
  d.tag = envelope.delivery_tag;
  d.redelivered = envelope.redelivered != 0;
  d.exchange = text(envelope.exchange);
  d.routing_key = text(envelope.routing_key);
  fillDelivery(d, envelope.message.properties, envelope.message.body);
  amqp_destroy_envelope(&envelope);
  return std::optional<Delivery>(std::move(d));
}

Status AmqpConnection::ack(std::uint64_t tag, bool multiple) {
  if (int rc = amqp_basic_ack(state_, kChannel, tag, multiple ? 1 : 0); rc != AMQP_STATUS_OK) {
    return fail("amqp.unavailable", std::string("ack: ") + amqp_error_string2(rc));
  }
  return {};
}

Status AmqpConnection::nack(std::uint64_t tag, bool requeue) {
  if (int rc = amqp_basic_nack(state_, kChannel, tag, 0, requeue ? 1 : 0); rc != AMQP_STATUS_OK) {
    return fail("amqp.unavailable", std::string("nack: ") + amqp_error_string2(rc));
  }
  return {};
}

Result<std::optional<Delivery>> AmqpConnection::get(const std::string& queue) {
  amqp_maybe_release_buffers(state_);
  auto r = amqp_basic_get(state_, kChannel, bytes(queue), 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return fail("amqp.unavailable", "basic.get: " + replyText(r));
  if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::optional<Delivery>();
  auto* ok = static_cast<amqp_basic_get_ok_t*>(r.reply.decoded);
  Delivery d;
  d.tag = ok->delivery_tag;
  d.redelivered = ok->redelivered != 0;
  d.exchange = text(ok->exchange);
  d.routing_key = text(ok->routing_key);
  amqp_message_t message{};
  auto m = amqp_read_message(state_, kChannel, &message, 0);
  if (m.reply_type != AMQP_RESPONSE_NORMAL) return fail("amqp.unavailable", "basic.get body: " + replyText(m));
  fillDelivery(d, message.properties, message.body);
  amqp_destroy_message(&message);
  return std::optional<Delivery>(std::move(d));
}

Result<std::vector<Delivery>> withWaiting(AmqpConnection& connection, Delivery first, std::size_t max) {
  std::vector<Delivery> batch{std::move(first)};
  while (batch.size() < max) {
    auto more = connection.next(std::chrono::milliseconds(0));
    if (!more) return more.error();
    if (!more->has_value()) break;
    batch.push_back(std::move(**more));
  }
  return batch;
}

}  // namespace vkhid::bus
