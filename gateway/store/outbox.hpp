// The outbox repository (DESIGN §6): what the exchange will publish to the broker, written in the
// transaction whose state change it reports, and relayed — published with confirms, then marked sent —
// by any gateway process. Sent rows are kept for a while (delivery.outbox_retention_hours), then pruned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// This process's outbox rows, committed: what wakes its relay at once, instead of the relay asking the
// database again and again while nothing is there. Rows other processes write are found by the
// relay's idle poll.
class OutboxSignal {
 public:
  void notify();
  // How many times it was raised: read before a relay's round, so that rows committed after it (and
  // perhaps after the round's snapshot) wake the next wait.
  std::uint64_t raised() const;
  // Until raised more than `seen` times, or `timeout`; true when raised.
  bool waitBeyond(std::uint64_t seen, std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t raised_ = 0;
};
OutboxSignal& outboxSignal();

// Adds a publication: inside a transaction gathered with the transaction's others and written as one row
// with its COMMIT; outside one, a row at once. The process's outbox signal is raised when it is committed.
Status appendOutbox(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                    const std::string& message_id, std::string_view payload, const std::string& headers_json,
                    int priority);

// Adds the publication that hands our packages to delivery (gathered as appendOutbox's): `job` names them
// (flows::deliveryJob), `msg_id` is the first, and its priority is `priority` when that package's case is a priority
// one (art. 20 applicants), else 0.
Status appendDelivery(PgConnection& db, const std::string& exchange, const std::string& routing_key,
                      const std::string& msg_id, std::string_view job, const std::string& headers_json, int priority);

// One publication of an unsent row: a row holds those its transaction asked for, the first in its columns
// and the others in `more` (migration 0040); each is read as its own OutboxRow, with the row's place.
struct OutboxRow {
  std::string place;  // where the row is (its ctid): what markSent names, in the transaction that read it
  std::string exchange, routing_key, message_id;
  std::string payload;
  std::string headers_json;
  int priority = 0;
};

// The publications of up to `limit` unsent rows, by priority then age, once this transaction holds the relay's lock
// (one relay at a time across the processes, until the transaction ends).
Result<std::vector<OutboxRow>> lockUnsent(PgConnection& db, int limit);

// The rows (their places, as lockUnsent read them in this transaction) are sent, with the COMMIT.
Status markSent(PgConnection& db, const std::vector<std::string>& places);

// Deletes up to `limit` rows created and sent more than `retention_hours` ago; how many.
Result<long long> pruneSent(PgConnection& db, int retention_hours, int limit);

}  // namespace vkhid::store
