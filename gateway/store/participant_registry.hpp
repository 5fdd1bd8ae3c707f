// The participant registry's repository (DESIGN §5, §8): what onboarding, the lifecycle, certificate
// rotation and the connectivity check write and read of `participant`, `endpoint`, `participant_cert`
// and `participant_check`, by named rows. What the exchange reads of a participant (its identity and
// trust) is in store/participants.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

// A participant as its TOML registers it: one row of `participant`.
struct ParticipantRecord {
  std::string org_id, sys_id, name, system_name, full_name, short_name, memorandum_number;
  std::optional<std::string> memorandum_date;  // YYYY-MM-DD
  std::string kinds;                           // a text[] literal
  bool own_channel = false;
  bool require_seal = true;
  std::optional<std::string> trust_list;  // the qualified providers' list it pins, as published
  std::string trust_pem;
  std::string transport_user;  // empty: none
  std::string status;
  std::string contacts;                      // JSON array
  std::optional<std::string> status_reason;  // nullopt: the stored one stays
  bool checked_now = false;                  // counts as checked now (activated without a check)
};

// A certificate registered for a participant.
struct ParticipantCertRecord {
  std::string purpose;  // seal or tls
  std::string pem, sha256, subject, not_after;
};

// The participant's status, its row locked for the transaction; nullopt: no such participant.
Result<std::optional<std::string>> lockParticipant(PgConnection& db, const std::string& org_id);

// Adds the participant, or replaces what its TOML says of a known one (changed now: a new check is due
// before its next activation).
Status saveParticipantRecord(PgConnection& db, const ParticipantRecord& p);

// Its active endpoints become these (adapter, settings JSON); the earlier ones are kept, inactive.
Status replaceEndpoints(PgConnection& db, const std::string& org_id,
                        const std::vector<std::pair<std::string, std::string>>& endpoints);

// Registers a certificate. A known one is left as it is, or — `reinstate` — put back in use.
Status addParticipantCert(PgConnection& db, const std::string& org_id, const ParticipantCertRecord& c, bool reinstate);

// The `purpose` certificates in use other than `kept_sha256` retire after `overlap_days` days, and
// the participant counts as changed.
Status retireReplacedCerts(PgConnection& db, const std::string& org_id, const std::string& purpose,
                           const std::string& kept_sha256, int overlap_days);

Status setParticipantStatus(PgConnection& db, const std::string& org_id, const std::string& status,
                            const std::string& reason);

// Its contacts (JSON array text); nullopt: no such participant.
Result<std::optional<std::string>> participantContacts(PgConnection& db, const std::string& org_id);

// Whether a connectivity check passed since its last change.
Result<bool> checkedSinceChange(PgConnection& db, const std::string& org_id);

// A check's report recorded; a passed one counts as the participant's check.
Status recordCheck(PgConnection& db, const std::string& org_id, bool passed, const std::string& report_json);

// Times are ISO 8601 UTC ("2026-12-02T06:01:02Z"), empty for none.
struct ParticipantSummaryRow {
  std::string org_id, name, short_name, status, status_reason;
  std::string adapters;  // of its active endpoints, comma-separated
  std::string checked_at;
  bool ready_for_activation = false;  // checked since its last change
  std::string seal_cert_not_after;    // the earliest of its seal certificates in use
};
Result<std::vector<ParticipantSummaryRow>> listParticipantRows(PgConnection& db);

struct ParticipantDetailRow {
  std::string org_id, sys_id, name, system_name, full_name, short_name, memorandum_number, memorandum_date;
  std::string kinds;  // a text[] literal
  bool own_channel = false, require_seal = true;
  std::string trust_list;  // empty: the global one
  std::string status, status_reason;
  std::string contacts;  // JSON array
  std::string transport_user;
  bool ready_for_activation = false;
};
Result<std::optional<ParticipantDetailRow>> readParticipant(PgConnection& db, const std::string& org_id);

struct EndpointRow {
  long long id = 0;
  std::string adapter;
  std::string settings;  // JSON
};
Result<std::vector<EndpointRow>> activeEndpoints(PgConnection& db, const std::string& org_id);

struct ParticipantCertRow {
  std::string purpose, sha256, subject, not_after, retire_after;
  bool in_use = false;
};
Result<std::vector<ParticipantCertRow>> participantCerts(PgConnection& db, const std::string& org_id);

struct CheckRow {
  std::string at;
  bool passed = false;
  std::string report;  // JSON
};
Result<std::optional<CheckRow>> lastCheck(PgConnection& db, const std::string& org_id);

// A participant as the check and the conformance run address it, with its first active endpoint.
struct CheckTargetRow {
  std::string name, sys_id, system_name, status;
  std::optional<std::string> adapter;  // nullopt: no active endpoint
  std::string settings;
};
Result<std::optional<CheckTargetRow>> checkTarget(PgConnection& db, const std::string& org_id);

// Certificates in use of participants not retired that expire within `days` days (30 or 7: the two
// warnings a certificate gets) and were not warned of at that distance yet: marked warned, and returned.
struct ExpiringCertRow {
  std::string org_id, purpose, sha256, not_after;
  std::string contacts;  // JSON array
};
Result<std::vector<ExpiringCertRow>> takeExpiringCerts(PgConnection& db, int days);

}  // namespace vkhid::store
