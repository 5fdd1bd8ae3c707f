// What deciding a participant's notice, and whether a package came before, reads of the store. An
// interface, so the decisions (flows/inbound_decisions) are tested against rows in memory as well as
// run against PostgreSQL.
#pragma once

#include <optional>
#include <string>

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
};

class PgInboundRows final : public InboundRows {
 public:
  explicit PgInboundRows(PgConnection& db) : db_(db) {}
  Result<std::optional<ParticipantCaseRow>> lockCase(const std::string& case_id,
                                                     const std::string& participant_org_id) override {
    return lockParticipantCaseById(db_, case_id, participant_org_id);
  }
  Result<std::optional<std::string>> earlierDigest(const std::string& msg_id) override {
    return store::earlierDigest(db_, msg_id);
  }

 private:
  PgConnection& db_;
};

}  // namespace vkhid::store
