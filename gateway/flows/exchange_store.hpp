// Small helpers every exchange flow uses inside its transactions: the outbox, the case history,
// identifiers and digests. The writes are queued (PgConnection::later): they travel with the
// transaction's next statement or its COMMIT, and an error of theirs fails the transaction there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/outbox.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// Adds a row to the outbox: published by the relay after this transaction commits.
Status enqueueOutbox(store::PgConnection& db, const std::string& exchange, const std::string& routing_key,
                     const std::string& message_id, std::string_view payload, const std::string& headers_json = "{}",
                     int priority = 0);

// Queues an outbound message for delivery to `org` (or, with `retry_key`, onto the retry exchange
// under that key with `headers_json`). Carries the case's priority (art. 20 applicants) so the
// delivery queues serve it first.
inline constexpr int kPriorityApplicant = 5;
Status enqueueDelivery(store::PgConnection& db, const std::string& org, const std::string& msg_id,
                       const std::string& retry_key = {}, const std::string& headers_json = "{}");
// Several of our packages for `org`, queued in one transaction, handed to delivery as one job, in order.
Status enqueueDeliveries(store::PgConnection& db, const std::string& org, const std::vector<std::string>& msg_ids);

// What the outbox relay publishes for one round's rows (issue 25). The delivery jobs the round took for
// one participant's queue at one priority travel as one broker message naming every package, in the
// rows' order: {"msg_ids": [...]}, at most `max_ids` a message. Every other row — a retry's job (on
// vkhid.retry, with its own expiration) among them — travels as it was written. `rows` are the round's
// rows it carries.
struct RelayPublication {
  std::string exchange, routing_key, message_id, payload, expiration;
  int priority = 0;
  std::vector<std::size_t> rows;
};
std::vector<RelayPublication> relayPublications(const std::vector<store::OutboxRow>& rows, std::size_t max_ids);

// What a round marks sent once the broker answered, `returned` naming the publications (by message id) it
// gave back because no queue took them. A row (a place; its publications come one after another, as
// lockUnsent reads them) is sent when the broker took any of them; those it gave back from a row it
// took in part are `again`, to be written as a row of their own, so the others are not published twice.
// A row given back whole stays unsent. `messages`: the broker messages taken.
struct RelayRound {
  std::vector<std::string> sent;
  std::vector<std::size_t> again;
  int messages = 0;
};
RelayRound relayRound(const std::vector<store::OutboxRow>& rows, const std::vector<RelayPublication>& publications,
                      const std::vector<std::string>& returned);

// A delivery job's body naming `msg_ids` in order, as packagesOfJob reads it: {"msg_id": ...} for one,
// {"msg_ids": [...]} for more (what the relay publishes for jobs it joined, and what a transaction that
// queues several packages for one participant writes).
std::string deliveryJob(const std::vector<std::string>& msg_ids);

// The packages a delivery job names, in order: {"msg_ids": [...]} or one {"msg_id": ...}; none when the
// body is neither.
std::vector<std::string> packagesOfJob(std::string_view body);

// Appends to a case's history (store/cases: an event that moves no status).
using store::recordEvent;

// An endpoint row: its settings are a JSON object of strings (the endpoint's TOML table).
adapters::Endpoint endpointFrom(const std::string& org_id, const std::string& adapter, std::string_view settings_json);

std::string newUuid();
std::string sha256Hex(std::string_view bytes);
using store::byteaHex;
using store::fromByteaHex;

}  // namespace vkhid::flows
