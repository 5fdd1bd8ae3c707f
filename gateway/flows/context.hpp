// What every flow needs (DESIGN §7): the configuration, the database pools, the seal, who the UCC is in
// an envelope, the legal clock, the evidence sealer, the adapters and the trust stores. Owned by the
// Exchange; each use case takes it in its constructor.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/adapter.hpp"
#include "gateway/app/config.hpp"
#include "gateway/bus/amqp.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/flows/deadlines.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {

// The broker as the gateway's configuration names it.
bus::AmqpSettings brokerSettings(const app::Config& config);

// What every flow needs. Owned by Exchange; shared read-only with the flows' threads.
class ExchangeContext {
 public:
  ExchangeContext(const app::Config& config, store::PgPool& pool, const crypto::Signer& signer);

  const app::Config& config;
  store::PgPool& pool;
  const crypto::Signer& signer;
  sev::EnvelopeParty ucc;               // who we are in every envelope
  std::string process_id;               // "<instance>:<pid>": who holds a delivery claim
  std::vector<long long> retry_delays;  // ms
  LegalClock legal;                     // the calendar and deadline rules
  std::unique_ptr<AuditSealer> audit;   // chains, seals and time-stamps the evidence log

  bus::AmqpSettings broker() const;
  // Where read-only work goes (reports, tracking, evidence export): the replica's pool when
  // database.read_url names one, else the primary's. A replica may lag the primary a little.
  store::PgPool& readPool() { return read_pool_ ? *read_pool_ : pool; }
  void useReadPool(store::PgPool& replica) { read_pool_ = &replica; }
  // The URL read-only connections of their own use (an evidence export).
  const std::string& readUrl() const {
    return config.database.read_url.empty() ? config.database.url : config.database.read_url;
  }
  // The adapter instance for a name (made once, shared); nullptr for an unknown name.
  adapters::Adapter* adapter(const std::string& name);
  // Stops the inbound threads of every adapter made so far, and waits for them. Not under the lock of
  // adapter() and trustFor(): those threads call them while they handle a package.
  void stopAdapters();
  // The trust store for a participant: its CA certificates (PEM) and the qualified providers' list it
  // pinned at onboarding (`pinned_list`, as published), or else the global trust.qualified_lists; the
  // CRLs of trust.crl_files. Built once and shared; thread-safe.
  std::shared_ptr<const crypto::TrustStore> trustFor(const std::string& pem, const std::string& pinned_list = {});
  // The global trust lists and CRLs as read at start; an error names the file that could not be read.
  const Status& trustSettingsStatus() const { return trust_status_; }

 private:
  store::PgPool* read_pool_ = nullptr;
  adapters::AdapterRegistry registry_;
  std::mutex mutex_;                                                        // adapters_, trust_
  std::mutex stop_mutex_;                                                   // one stopAdapters() at a time
  std::map<std::string, std::unique_ptr<adapters::Adapter>> adapters_;      // only ever added to
  std::map<std::string, std::shared_ptr<const crypto::TrustStore>> trust_;  // by PEM text and pinned list
  std::vector<std::string> crls_;                                           // trust.crl_files, read once
  crypto::TrustStore qualified_;                                            // trust.qualified_lists, read once
  Status trust_status_;
};

}  // namespace vkhid::flows
