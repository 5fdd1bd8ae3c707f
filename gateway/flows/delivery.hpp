// Delivery (DESIGN §7.3): one outbound message claimed, handed to its participant's adapter, and its
// outcome recorded — sent, a retry later, or dead with an alert.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "gateway/flows/context.hpp"
#include "gateway/flows/queue_consumer.hpp"

namespace vkhid::flows {

class Deliverer {
 public:
  // `stopping`: the gateway is stopping — an outcome the database did not take is not tried again.
  Deliverer(ExchangeContext& context, const std::atomic<bool>& stopping) : context_(context), stopping_(stopping) {}

  Disposition deliver(const std::string& msg_id);
  // The msg_ids this process's workers carry out now, as a PostgreSQL text[] literal: the sweeper
  // returns none of them.
  std::string inFlight() const;

 private:
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
