// What applying a participant's receipt reads: the package of ours it refers to, and the case that
// package belongs to under its row lock. An interface, so the receipt's decision
// (flows::decideReceipt) is tested against rows in memory as well as run against PostgreSQL.
#pragma once

#include <optional>
#include <string>

#include "gateway/store/cases.hpp"
#include "gateway/store/inbound_rows.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::store {

class ReceiptRepository {
 public:
  virtual ~ReceiptRepository() = default;
  // One of our packages to `peer_org_id`; nullopt: not ours, or not to it.
  virtual Result<std::optional<OurMessageRow>> ourMessage(const std::string& msg_id,
                                                          const std::string& peer_org_id) = 0;
  // The case, locked until the transaction ends; nullopt: no such case.
  virtual Result<std::optional<ReceiptCaseRow>> lockCase(const std::string& case_id) = 0;
};

// Our package and the case through what the transaction's arrivals read (a batch's, read for the batch:
// store::BatchInboundRows).
class PgReceiptRepository final : public ReceiptRepository {
 public:
  explicit PgReceiptRepository(InboundRows& rows) : rows_(rows) {}
  Result<std::optional<OurMessageRow>> ourMessage(const std::string& msg_id, const std::string& peer_org_id) override {
    return rows_.ourMessage(msg_id, peer_org_id);
  }
  Result<std::optional<ReceiptCaseRow>> lockCase(const std::string& case_id) override {
    return rows_.lockReceiptCase(case_id);
  }

 private:
  InboundRows& rows_;
};

}  // namespace vkhid::store
