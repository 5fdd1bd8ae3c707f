// The one interface every transport implements (DESIGN §6). An adapter knows this interface and the
// bytes it moves, never the store or the case: the core decides what to send and what an arrival means.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::app {
struct Config;
}

namespace vkhid::adapters {

// A participant's endpoint: which adapter, and its settings (the endpoint's TOML table, flattened
// to strings: "inbox_queue" = "edms.99999911.in").
struct Endpoint {
  std::string org_id;
  std::string adapter;
  std::map<std::string, std::string> settings;

  std::string setting(const std::string& key, const std::string& fallback = {}) const {
    auto it = settings.find(key);
    return it == settings.end() ? fallback : it->second;
  }
};

struct DeliveryOutcome {
  enum class Kind { Delivered, Retry, Failed };
  Kind kind = Kind::Retry;
  std::string detail;                                    // why, for the message record (no personal data)
  std::string remote_ref;                                // the transport's reference, when it gives one
  std::optional<std::chrono::milliseconds> retry_after;  // the peer's own wish (HTTP Retry-After)

  static DeliveryOutcome delivered(std::string ref = {}) { return {Kind::Delivered, {}, std::move(ref), {}}; }
  static DeliveryOutcome retry(std::string why) { return {Kind::Retry, std::move(why), {}, {}}; }
  static DeliveryOutcome failed(std::string why) { return {Kind::Failed, std::move(why), {}, {}}; }
};

// What the core made of an arrival, for transports that answer at once (HTTP: 202 or a problem).
struct InboundVerdict {
  bool accepted = false;  // applied, or a repeat of something applied
  int error_code = 0;     // the SEV code it was refused with (docs/sev-errors.md)
  std::string detail;
  std::string msg_id;
};

// The identity of a transport that vouches for an organisation through one of its endpoints (a folder
// only it writes to, a hub account the hub authenticated): "endpoint:<adapter>:<org_id>". The core
// accepts it for the participant with that org_id and an active endpoint on that adapter.
inline std::string endpointIdentity(const std::string& adapter, const std::string& org_id) {
  return "endpoint:" + adapter + ":" + org_id;
}

// A package as it arrived, before anything has read it.
struct InboundPackage {
  std::string bytes;
  std::string adapter;
  // Who the transport vouches for: the broker user, "tls:<client cert sha256>", or endpointIdentity().
  std::string peer_identity;
  std::string endpoint_org_id;        // the endpoint it came in through, when the transport knows
  InboundVerdict* verdict = nullptr;  // filled by the core when given
  // Set when the transport could not verify that these bytes are what was sent (a hub's hash that never
  // matched): the core keeps them as evidence, refuses them (code 106) and alerts; nothing reads them.
  std::string transfer_problem;
};

// Called for each arrival. Ok: the package is durably handled (or durably refused) and the transport
// may forget it. Error: not handled; the transport keeps it and offers it again later.
using InboundSink = std::function<Status(const InboundPackage&)>;
// Several arrivals that were waiting together, in order of arrival: one status each, as InboundSink's.
using InboundBatchSink = std::function<std::vector<Status>(const std::vector<InboundPackage>&)>;

// A TLS handshake with an endpoint, for the connectivity check.
struct TlsProbe {
  bool used = false;  // false: this adapter or endpoint has no TLS of its own
  bool ok = false;
  std::string detail;  // the certificate seen (subject, issuer, expiry), or why the handshake failed
};

// A package to send, as deliverAll() takes it.
struct OutboundPackage {
  std::string_view bytes;  // not owned
  std::string msg_id;
};

// Thread-safety: deliver() and health() may be called from several threads at once.
class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string name() const = 0;
  // Moves the bytes to the endpoint; blocks, bounded by the adapter's timeouts.
  virtual DeliveryOutcome deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& endpoint) = 0;
  // Several packages to one endpoint, in order: one outcome each. Once one is to be retried, so is every
  // one after it (not tried), so the order holds. The default hands each to deliver(); an adapter that
  // can have them in flight together overrides it (amqp: one wait for all the broker's confirms).
  virtual std::vector<DeliveryOutcome> deliverAll(const std::vector<OutboundPackage>& packages,
                                                  const Endpoint& endpoint);
  virtual Status health(const Endpoint& endpoint) = 0;
  // Where the endpoint is ("host:port"), for the check's resolution and TCP steps; empty = the broker.
  virtual std::string address(const Endpoint&) const { return {}; }
  virtual TlsProbe probeTls(const Endpoint&) { return {}; }
  // Starts taking packages arriving for these endpoints on the adapter's own threads.
  virtual Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink) = 0;
  // The same, for an adapter that can take what is waiting together and hand it to `batch` in one call
  // (amqp; issue 25). The default hands each arrival to `sink`.
  virtual Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink, InboundBatchSink batch) {
    (void)batch;
    return startInbound(endpoints, std::move(sink));
  }
  // Stops inbound threads; returns when none runs.
  virtual void stop() = 0;
};

// Makes an adapter from the gateway's configuration: each adapter reads its own settings from it
// (adapters/<name>/config.cpp).
using AdapterFactory = std::function<std::unique_ptr<Adapter>(const app::Config&)>;

class AdapterRegistry {
 public:
  void add(const std::string& name, AdapterFactory factory) { factories_[name] = std::move(factory); }
  bool has(const std::string& name) const { return factories_.count(name) > 0; }
  std::unique_ptr<Adapter> create(const std::string& name, const app::Config& config) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, AdapterFactory> factories_;
};

// Every adapter the product ships, listed in one place (adapters/registry.cpp).
void registerBuiltinAdapters(AdapterRegistry& registry);

}  // namespace vkhid::adapters
