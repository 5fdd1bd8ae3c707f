// What the participant registry and its connectivity check share (flows/participants*.cpp).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/crypto/trust.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows::participant_detail {

// participant.invalid: a registration or an act refused, naming the field.
Error invalid(const std::string& what);
// participant.transition: a status change the lifecycle does not allow.
Error transition(const std::string& what);
// An alert to vkhid.alerts, in the caller's transaction.
Status alert(store::PgConnection& db, const std::string& key, const std::string& message_id, boost::json::object body);
// The participant's contacts (JSON array); participant.unknown for none.
Result<boost::json::array> contactsOf(store::PgConnection& db, const std::string& org_id);

struct CertRow {
  std::string purpose, pem, sha256, subject, not_after;
};

// A participant's TOML, read and checked (flows/participant_file.cpp).
struct ParticipantFile {
  std::string org_id, sys_id, name, system_name, full_name, short_name, memorandum_number, transport_user;
  std::string wanted_status;  // draft or pending_check; empty: decided by what the file holds
  std::optional<std::string> memorandum_date;
  std::string kinds;  // a text[] literal
  bool own_channel = false;
  bool require_seal = true;
  std::string trust_pem;                                       // its CA certificates
  std::optional<std::string> trust_list;                       // the qualified providers' list it pins, as published
  std::vector<CertRow> certs;                                  // seal and TLS certificates
  std::string contacts;                                        // JSON array
  std::vector<std::pair<std::string, std::string>> endpoints;  // adapter, settings JSON
};

// Errors name the key (participant.invalid).
Result<ParticipantFile> readParticipantFile(std::string_view text, const std::string& source);

// A registered certificate: one certificate, of this organisation, chained to its trust anchor now.
Result<CertRow> registeredCert(const std::string& key, const std::string& purpose, const std::string& pem,
                               const std::string& org_id, const crypto::TrustStore* trust);

}  // namespace vkhid::flows::participant_detail
