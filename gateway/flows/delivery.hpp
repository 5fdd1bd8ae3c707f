// Delivery (DESIGN §7.3): one outbound message claimed, handed to its participant's adapter, and its
// outcome recorded — sent, a retry later, or dead with an alert.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "adapters/adapter.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/queue_consumer.hpp"

namespace vkhid::flows {

// What a delivery's outcome leads to: sent; a retry after tier `tier`'s delay (the n-th attempt waits
// in the n-th tier); or dead — the adapter said it never will be, or every tier has been waited out.
struct DeliveryStep {
  enum class Kind { Sent, Retry, Dead };
  Kind kind = Kind::Dead;
  std::size_t tier = 0;  // Retry: which of the retry tiers
};
DeliveryStep deliveryStep(adapters::DeliveryOutcome::Kind outcome, int attempts, std::size_t tiers);

class Deliverer {
 public:
  // `stopping`: the gateway is stopping — an outcome the database did not take is not tried again.
  Deliverer(ExchangeContext& context, const std::atomic<bool>& stopping) : context_(context), stopping_(stopping) {}

  // Several queued packages taken from one participant's queue together (issue 25): claimed in one
  // statement, sent through the endpoint's adapter together, their outcomes recorded in one
  // transaction. What to tell the broker of each, in order.
  std::vector<Disposition> deliverAll(const std::vector<std::string>& msg_ids);
  // The msg_ids this process's workers carry out now, as a PostgreSQL text[] literal: the sweeper
  // returns none of them.
  std::string inFlight() const;

 private:
  // A message claimed for delivery: what the claim read.
  struct Claim {
    std::string msg_id, bytes, org, case_id;
    std::string adapter_name = "none";
    int attempts = 0, msg_type = 0;
    std::optional<adapters::Endpoint> endpoint;  // none: the participant has no active endpoint
  };
  void claimAll(const std::vector<std::string>& msg_ids, std::vector<Claim>& claims,
                std::vector<Disposition>& dispositions);
  std::vector<adapters::DeliveryOutcome> sendAll(const std::vector<Claim>& claims);
  // Each claim's result ("delivered", "retry", "dead"; empty: not recorded) into `results`.
  Status recordOutcomes(const std::vector<Claim>& claims, const std::vector<adapters::DeliveryOutcome>& outcomes,
                        std::vector<std::string>& results);
  // `moved_on`: what moving its claim on to `sent` came to (false: recorded already); `locked`: the cases
  // locked with it (store::moveClaims) by id, each status taken once (null: none).
  Status recordSent(store::PgConnection& db, const Claim& c, bool moved_on,
                    std::map<std::string, std::string, std::less<>>* locked);
  Status recordRetry(store::PgConnection& db, const Claim& c, const adapters::DeliveryOutcome& outcome,
                     const bus::RetryTier& tier);
  Status recordDead(store::PgConnection& db, const Claim& c, const adapters::DeliveryOutcome& outcome);

  // Marks a delivery as being carried out by this process for as long as it lives.
  class InFlight {
   public:
    InFlight(Deliverer& d, std::string msg_id);
    ~InFlight();
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    Deliverer& d_;
    std::string msg_id_;
  };

  ExchangeContext& context_;
  const std::atomic<bool>& stopping_;
  mutable std::mutex mutex_;
  std::multiset<std::string> in_flight_;
};

}  // namespace vkhid::flows
