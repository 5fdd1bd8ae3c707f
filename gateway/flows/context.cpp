// What every flow shares: the configuration, the pools, the seal, the adapters made so far and the trust
// stores built for participants.
#include "gateway/flows/context.hpp"

#include <unistd.h>

#include "gateway/app/logging.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/domain/text.hpp"

namespace vkhid::flows {

ExchangeContext::ExchangeContext(const app::Config& cfg, store::PgPool& p, const crypto::Signer& s)
    : config(cfg),
      pool(p),
      signer(s),
      ucc{cfg.gateway.org_id, cfg.gateway.organization, cfg.gateway.sys_id, cfg.gateway.system},
      process_id(cfg.gateway.instance + ":" + std::to_string(getpid())),
      retry_delays(*app::parseDelays(cfg.delivery.retry_delays)),
      legal(LegalClock::loadOrShipped(cfg.deadlines)) {
  adapters::registerBuiltinAdapters(registry_);
  for (const auto& path : splitList(cfg.trust.crl_files)) {
    if (auto crl = crypto::readFile(path)) {
      crls_.push_back(*crl);
    } else {
      log::error("trust: a CRL file cannot be read", {{"file", path}, {"error", crl.error().message}});
      trust_status_ = Error::invalid("config.trust", "trust.crl_files: " + crl.error().message);
    }
  }
  for (const auto& path : splitList(cfg.trust.qualified_lists)) {
    auto list = crypto::TrustStore::fromPath(path);
    if (!list) {
      log::error("trust: a qualified trust list cannot be read", {{"file", path}, {"error", list.error().message}});
      trust_status_ = Error::invalid("config.trust", "trust.qualified_lists: " + list.error().message);
      continue;
    }
    qualified_.addFrom(*list);
  }
}

bus::AmqpSettings brokerSettings(const app::Config& config) {
  return {config.broker.url, config.broker.connect_timeout_s, config.broker.heartbeat_s,
          std::chrono::milliseconds(config.delivery.publish_timeout_ms), config.broker.queue_type};
}

bus::AmqpSettings ExchangeContext::broker() const { return brokerSettings(config); }

adapters::Adapter* ExchangeContext::adapter(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = adapters_.find(name);
  if (it != adapters_.end()) return it->second.get();
  auto made = registry_.create(name, config);
  if (!made) return nullptr;
  return adapters_.emplace(name, std::move(made)).first->second.get();
}

void ExchangeContext::stopAdapters() {
  std::lock_guard stopping(stop_mutex_);
  std::vector<adapters::Adapter*> made;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, a] : adapters_) made.push_back(a.get());  // stable: adapters are never removed
  }
  // Outside mutex_: an adapter's stop waits for its consumers, and a consumer inside receive() asks
  // trustFor() (mutex_) — holding it here stopped both for good (every later delivery and the
  // gateway's shutdown with them) whenever endpoints changed while packages arrived.
  for (auto* a : made) a->stop();
}

std::shared_ptr<const crypto::TrustStore> ExchangeContext::trustFor(const std::string& pem,
                                                                    const std::string& pinned_list) {
  std::lock_guard lock(mutex_);
  auto& slot = trust_[pem + '\0' + pinned_list];
  if (!slot) {
    auto store = std::make_shared<crypto::TrustStore>();
    if (!pem.empty()) (void)store->addPem(pem);
    if (!pinned_list.empty()) {
      (void)store->addAny(pinned_list);
    } else {
      store->addFrom(qualified_);
    }
    for (const auto& crl : crls_) {
      (void)(crl.find("-----BEGIN") != std::string::npos ? store->addCrl(crl) : store->addCrlDer(crl));
    }
    slot = std::move(store);
  }
  return slot;
}

}  // namespace vkhid::flows
