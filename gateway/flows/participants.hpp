// Participant onboarding and administration (issue 7; DESIGN §4, §8, §11): the registry from TOML, the
// lifecycle draft -> pending_check -> active <-> suspended -> retired, the connectivity check that
// proves an endpoint works before any citizen's appeal goes there, and certificate rotation. Used by
// the CLI and the admin HTTP API alike; every act runs with the actor set, so the evidence log names
// who did it.
#pragma once

#include <string>

#include "gateway/flows/context.hpp"

namespace vkhid::flows {

// Sets who acts for the rest of the session (the evidence log records it): "admin:cli:<user>",
// "admin:<client id>".
Status setActor(store::PgConnection& db, const std::string& actor);

struct SaveOptions {
  bool skip_check = false;  // development and tests: active at once, without a connectivity check
};
// Adds or updates a participant from its TOML (docs/onboarding.md). New: `draft` until it has an
// endpoint and a trust anchor, then `pending_check`. Changing endpoints or certificates of a known
// participant keeps its status but asks for a new check before the next activation. Returns the
// resulting status. Errors name the key.
Result<std::string> saveParticipant(store::PgConnection& db, std::string_view toml_text, const std::string& source,
                                    const SaveOptions& options);

// All participants (JSON array), or one with endpoints, certificates and its last check (JSON).
Result<std::string> listParticipants(store::PgConnection& db);
Result<std::string> showParticipant(store::PgConnection& db, const std::string& org_id);

// Lifecycle acts. `activate` needs a passed check after the last change (or `force`, recorded);
// `suspend` needs a reason and alerts the UCC (its deliveries wait in its queue); `retire` is final.
// A refused act is an error naming the status and what is needed (code "participant.transition").
Status activateParticipant(store::PgConnection& db, const std::string& org_id, bool force);
Status suspendParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason);
Status retireParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason);

// Registers a new certificate (PEM); the seal certificates it replaces stay valid for inbound
// signatures for `overlap_days` more days. Returns the new certificate's fingerprint.
Result<std::string> rotateCertificate(store::PgConnection& db, const std::string& org_id, const std::string& pem,
                                      const std::string& purpose, int overlap_days);

// A participant's active endpoint and the adapter that serves it, with the participant as an envelope
// names it: what the check and the conformance run send through. An error names what is missing.
struct ParticipantEndpoint {
  adapters::Endpoint endpoint;
  adapters::Adapter* adapter = nullptr;
  sev::EnvelopeParty party;
};
Result<ParticipantEndpoint> participantEndpoint(ExchangeContext& context, store::PgConnection& db,
                                                const std::string& org_id);

// The connectivity check: a signed test package through the participant's endpoint, then its signed
// receipt (taken in by a running gateway). Each step is reported separately with its duration.
struct CheckStep {
  std::string name;    // resolve, tcp, tls, accepted, receipt, signature
  std::string result;  // ok, failed, skipped
  std::string detail;
  long long ms = 0;
};
struct CheckReport {
  bool passed = false;
  std::vector<CheckStep> steps;
  std::string passed_text = "check passed: ready for activation";
  std::string failed_text = "check FAILED";
  std::string json() const;
  std::string text() const;  // the human table
};
// Records the report; a pass moves `pending_check` (or `draft` with everything set) to ready for
// activation; a failure notifies the participant's contacts with the reason (alerts exchange).
Result<CheckReport> checkParticipant(ExchangeContext& context, const std::string& org_id,
                                     std::chrono::seconds receipt_timeout);

// Certificates expiring within 30 and 7 days: one alert each (alerts exchange); returns how many.
Result<int> warnExpiringCertificates(store::PgConnection& db);

}  // namespace vkhid::flows
