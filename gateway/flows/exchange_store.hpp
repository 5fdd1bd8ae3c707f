// Small helpers every exchange flow uses inside its transactions: the outbox, the case history,
// identifiers and digests. The writes are queued (PgConnection::later): they travel with the
// transaction's next statement or its COMMIT, and an error of theirs fails the transaction there.
#pragma once

#include <string>
#include <string_view>

#include "adapters/adapter.hpp"
#include "gateway/store/cases.hpp"
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

// Appends to a case's history (store/cases: an event that moves no status).
using store::recordEvent;

// An endpoint row: its settings are a JSON object of strings (the endpoint's TOML table).
adapters::Endpoint endpointFrom(const std::string& org_id, const std::string& adapter, std::string_view settings_json);

std::string newUuid();
std::string sha256Hex(std::string_view bytes);
using store::byteaHex;
using store::fromByteaHex;

}  // namespace vkhid::flows
