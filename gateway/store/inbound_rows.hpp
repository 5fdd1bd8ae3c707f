// What deciding a participant's notice, and whether a package came before, reads of the store. An
// interface, so the decisions (flows/inbound_decisions) are tested against rows in memory as well as
// run against PostgreSQL.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/text.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::store {

class InboundRows {
 public:
  virtual ~InboundRows() = default;
  // The case handed to `participant_org_id`, locked until the transaction ends; nullopt: it has none
  // such.
  virtual Result<std::optional<ParticipantCaseRow>> lockCase(const std::string& case_id,
                                                             const std::string& participant_org_id) = 0;
  // The digest of what was received before under `msg_id`; nullopt: never.
  virtual Result<std::optional<std::string>> earlierDigest(const std::string& msg_id) = 0;
  // One of our packages to `peer_org_id`; nullopt: not ours, or not to it.
  virtual Result<std::optional<OurMessageRow>> ourMessage(const std::string& msg_id,
                                                          const std::string& peer_org_id) = 0;
  // A package was just recorded under `msg_id` in this transaction: what a reader that remembers must
  // know (BatchInboundRows); nothing for one that asks the database each time.
  virtual void recorded(const std::string& /*msg_id*/, const std::string& /*sha256*/) {}
  // The case as a receipt's decision reads it, locked until the transaction ends; nullopt: no such case.
  virtual Result<std::optional<ReceiptCaseRow>> lockReceiptCase(const std::string& case_id) = 0;
  // A receipt moved the case to `to` (and recorded the participant's registration number, when given):
  // what a reader that remembers the case must know of it.
  virtual void receiptApplied(const std::string& /*case_id*/, domain::CaseStatus /*to*/,
                              const std::optional<std::string>& /*reg_number*/) {}
  // The case a reply refers to by its UCC number, handed to `participant_org_id`, locked until the
  // transaction ends, with its group's members; nullopt: it has none such.
  virtual Result<std::optional<ParticipantCaseRow>> lockReplyCase(const std::string& ucc_number,
                                                                  const std::string& participant_org_id) = 0;
  // Something else changed cases in this transaction: a reader that remembers them reads them again.
  virtual void forgetCases() {}
  // The same for one case that something else changed.
  virtual void forgetCase(const std::string& /*case_id*/) {}
};

class PgInboundRows : public InboundRows {
 public:
  explicit PgInboundRows(PgConnection& db) : db_(db) {}
  Result<std::optional<ParticipantCaseRow>> lockCase(const std::string& case_id,
                                                     const std::string& participant_org_id) override {
    return lockParticipantCaseById(db_, case_id, participant_org_id);
  }
  Result<std::optional<std::string>> earlierDigest(const std::string& msg_id) override {
    return store::earlierDigest(db_, msg_id);
  }
  Result<std::optional<OurMessageRow>> ourMessage(const std::string& msg_id, const std::string& peer_org_id) override {
    return findOurMessage(db_, msg_id, peer_org_id);
  }
  Result<std::optional<ReceiptCaseRow>> lockReceiptCase(const std::string& case_id) override {
    return lockCaseForReceipt(db_, case_id);
  }
  Result<std::optional<ParticipantCaseRow>> lockReplyCase(const std::string& ucc_number,
                                                          const std::string& participant_org_id) override {
    return lockParticipantCaseByNumber(db_, ucc_number, participant_org_id);
  }

 private:
  PgConnection& db_;
};

// A case of a batch of arrivals as its receipts read it, and as a reply that refers to it by its UCC
// number reads it.
struct BatchCase {
  ReceiptCaseRow row;
  std::string ucc_number;  // empty: read for a receipt alone (a reply reads the case itself)
  std::string tracking_code;
  bool answered = false;
  std::vector<MemberRow> members;
};
// The cases of a batch of arrivals, locked in one statement in the order of their ids and held
// (PgConnection::holds); a case not found is left out.
using ReceiptCases = std::map<std::string, BatchCase, std::less<>>;
Result<ReceiptCases> lockCasesForReceipts(PgConnection& db, const std::vector<std::string>& case_ids);

// The rows a batch of arrivals applied in one transaction reads (flows/inbound.cpp, receiveAll): the
// digests of every msg_id of the batch read in one statement before the first is applied, and each
// package the batch records noted as it goes, so that a copy later in the same batch is seen as a
// repeat, as it would be asked of the database; the packages of ours the batch's receipts and notices
// refer to, read with the batch's cases (keyed by msg_id in lower case), which no transaction changes.
// A msg_id it was not given, or a package it did not find, is asked of the database. And the batch's
// cases, locked and read for the batch (lockCasesForReceipts): a receipt, and a reply by the case's UCC
// number, read its case from what the batch knows of it — kept up to date by each receipt applied (no
// other code changes a case's status: store::transitionCase), read again from the database after
// anything else changed cases.
class BatchInboundRows final : public PgInboundRows {
 public:
  BatchInboundRows(PgConnection& db, std::map<std::string, std::optional<std::string>, std::less<>> digests,
                   std::map<std::string, ReferredPackage, std::less<>> referred, ReceiptCases cases)
      : PgInboundRows(db), digests_(std::move(digests)), referred_(std::move(referred)), cases_(std::move(cases)) {}
  Result<std::optional<ReceiptCaseRow>> lockReceiptCase(const std::string& case_id) override {
    if (auto known = cases_.find(case_id); known != cases_.end()) {
      return std::optional<ReceiptCaseRow>{known->second.row};
    }
    auto read = PgInboundRows::lockReceiptCase(case_id);
    if (read && *read) cases_.insert_or_assign(case_id, BatchCase{**read, {}, {}, false, {}});
    return read;
  }
  Result<std::optional<ParticipantCaseRow>> lockReplyCase(const std::string& ucc_number,
                                                          const std::string& participant_org_id) override {
    for (const auto& [id, c] : cases_) {
      if (c.ucc_number.empty() || c.ucc_number != ucc_number || c.row.participant_org_id != participant_org_id) {
        continue;
      }
      return std::optional<ParticipantCaseRow>{
          ParticipantCaseRow{id, c.row.status, c.tracking_code, c.answered, c.members}};
    }
    return PgInboundRows::lockReplyCase(ucc_number, participant_org_id);
  }
  void receiptApplied(const std::string& case_id, domain::CaseStatus to,
                      const std::optional<std::string>& reg_number) override {
    auto known = cases_.find(case_id);
    if (known == cases_.end()) return;
    known->second.row.status = to;
    if (reg_number) known->second.row.participant_reg_number = *reg_number;
  }
  void forgetCases() override { cases_.clear(); }
  void forgetCase(const std::string& case_id) override { cases_.erase(case_id); }
  Result<std::optional<std::string>> earlierDigest(const std::string& msg_id) override {
    if (auto known = digests_.find(lowerAscii(msg_id)); known != digests_.end()) return known->second;
    return PgInboundRows::earlierDigest(msg_id);
  }
  Result<std::optional<OurMessageRow>> ourMessage(const std::string& msg_id, const std::string& peer_org_id) override {
    if (auto known = referred_.find(lowerAscii(msg_id)); known != referred_.end()) {
      return known->second.ourTo(peer_org_id);
    }
    return PgInboundRows::ourMessage(msg_id, peer_org_id);
  }
  void recorded(const std::string& msg_id, const std::string& sha256) override {
    digests_.insert_or_assign(lowerAscii(msg_id), sha256);
  }

 private:
  std::map<std::string, std::optional<std::string>, std::less<>> digests_;
  std::map<std::string, ReferredPackage, std::less<>> referred_;
  ReceiptCases cases_;
};

}  // namespace vkhid::store
