// Intake (DESIGN §7.1): a channel's case registered once per idempotency key, its status and answer
// for the channel, the applicant's tracking view, and the clients' credentials. Outcomes are the
// exchange's own; gateway/api maps them to HTTP.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/flows/case_json.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/store/cases.hpp"

namespace vkhid::flows {

// What an intake request came to, in the exchange's own terms; the HTTP edge (gateway/api) maps each
// to a status code, and a refusal to problem+json.
enum class IntakeResult {
  created,      // a new case registered
  repeated,     // the same request again: the case it registered the first time
  found,        // what was asked for: a case's status, its answer, the applicant's tracking view
  invalid,      // wrong fields, each named in `errors`
  key_reused,   // the Idempotency-Key was used before for another request body
  not_found,    // no such case (or no answer yet) for this client, no such tracking code
  conflict,     // the case cannot do that now (a withdrawal of an answered case)
  unavailable,  // the database, or the evidence seal, cannot serve now: try again
  unreadable,   // a stored answer cannot be read back
};

struct IntakeOutcome {
  IntakeResult result = IntakeResult::found;
  std::string body;                // JSON: what was registered or found
  std::string case_id;             // created, repeated: the case
  std::string title, detail;       // a refusal: what and why, for a person
  std::vector<FieldError> errors;  // invalid: each wrong field and what was expected

  bool ok() const {
    return result == IntakeResult::created || result == IntakeResult::repeated || result == IntakeResult::found;
  }
  static IntakeOutcome refusal(IntakeResult result, std::string title, std::string detail,
                               std::vector<FieldError> errors = {}) {
    IntakeOutcome out;
    out.result = result;
    out.title = std::move(title);
    out.detail = std::move(detail);
    out.errors = std::move(errors);
    return out;
  }
};

// Who an API request comes from.
struct ClientIdentity {
  std::string id, role;  // role: channel, participant, admin, auditor
  bool restricted_access = false;
  std::string org_id;  // role participant: the body whose own figures it sees
};

struct Registration {
  std::string case_id, ucc_number, tracking_code;
  std::string registered_on;          // YYYY-MM-DD, Kyiv
  std::string repeat_of;              // the UCC number of the earlier case it likely repeats; empty: none
  std::string merged_into;            // the UCC number of the mass appeal's first case it joined; empty: none
  store::RoutingCaseRow routing_row;  // the case as routing reads it (store::newCaseRoutingRow)
};

// What an appeal of a named applicant is compared with at registration (flows/intake_likeness.cpp): its
// name's hash, its text's hash (long texts only), and the earlier case it likely repeats or the mass
// appeal's first case it joins (never both: a member is not also a repeat). Inside the caller's
// transaction; a text with a hash serialises concurrent registrations of that text.
struct Likeness {
  std::string applicant_key, text_hash;   // empty: anonymous, not an appeal; a text too short
  std::vector<std::string> contact_keys;  // the applicant's e-mail, phone and address, as keyed hashes
  std::optional<store::EarlierCase> first_of_mass, repeated;
};
Result<Likeness> compareWithEarlier(store::PgConnection& db, const ExchangeContext& context, const domain::Case& c);

// Registers a case inside the caller's transaction: the next UCC number of the Kyiv year, a tracking
// code, the case row with its body (the intake JSON), the `registered` event by `actor`, its answer
// deadline and timers and the applicant's `registered` notification. The caller routes it (Router::routeIn)
// or queues it for routing (queueRouting) in the same transaction; after the commit it counts it with
// countRegistered.
// An appeal of a named applicant is compared with earlier ones (issue 30): a likely repeat (same person,
// topic and a contact, within reports.repeat_window_days) is marked with the earlier case for the UCC to
// judge; one whose text is a mass appeal's (intake.mass_appeal_*) joins that appeal's first case as a
// member — `merged` at once, no term and no routing of its own, answered with it.
Result<Registration> registerCase(store::PgConnection& db, const ExchangeContext& context, const domain::Case& c,
                                  const std::string& body_json, const std::string& client_id,
                                  const std::string& idempotency_key, const std::string& request_sha256,
                                  const std::string& actor);

// The event that sends a registered case to the routing consumer (`case.registered`), in the caller's
// transaction; a priority case ahead of the rest.
Status queueRouting(store::PgConnection& db, const std::string& case_id, bool priority);

void countRegistered(const domain::Case& c);

// A tracking code as people type it: any case, with or without dashes; Crockford's O/I/L read as 0/1/1.
std::string normalTrackingCode(const std::string& raw_code);

class Intake {
 public:
  explicit Intake(ExchangeContext& context) : context_(context) {}

  // Registers a case from its JSON, once per (client, idempotency key): the same key and body
  // return the first answer; the same key with another body is refused (409).
  IntakeOutcome submit(const std::string& client_id, const std::string& idempotency_key, const std::string& body);
  // The case's status and history (ids, codes, times; the channel client's own cases only).
  IntakeOutcome status(const std::string& client_id, const std::string& case_id);
  // The participant's answer: the reply package, its attachments and their signature verdicts.
  IntakeOutcome answer(const std::string& client_id, const std::string& case_id);
  // The applicant's view by tracking code: status, dates, current participant, deadline, whether an
  // answer is available — never names or text (404 for an unknown code).
  IntakeOutcome track(const std::string& tracking_code);
  // The applicant withdraws their case through a channel, by its tracking code (JSON: tracking_code,
  // reason optional): the case ends `withdrawn`, its participant is told. A repeat finds it withdrawn
  // and answers the same; an answered or otherwise ended case is a conflict.
  IntakeOutcome withdraw(const std::string& client_id, const std::string& body);
  // The applicant rates the handling of their case, by its tracking code, once its answer has come
  // (JSON: score 1–5, comment optional; the Procedure's п. 3, satisfaction). Once per case: a second
  // rating is a conflict, and the first stands. Defined in flows/satisfaction.cpp.
  IntakeOutcome rate(const std::string& tracking_code, const std::string& body);
  // Resolves a bearer token, or else a verified client certificate (SHA-256 of its DER, hex), to its
  // client: nullopt when unknown, revoked or expired; an error when the database cannot say now (a
  // caller answers 503, never 401: a client told 401 stops retrying and pages a person).
  Result<std::optional<ClientIdentity>> identify(const std::string& token, const std::string& cert_sha256 = {});

 private:
  ExchangeContext& context_;
};

// Issues a token for a channel client (`vkhid token issue`): returns the token, stores its SHA-256; it
// expires after `valid_days` (0: never).
// A person's account (vkhid account) gets no token: refused with code "client.person".
Result<std::string> issueToken(store::PgConnection& db, const std::string& client_id, const std::string& role,
                               int valid_days = 365, const std::string& org_id = {});
// `vkhid token rotate`: a new token for a machine client in force, its role and body kept; the old one
// keeps working for `overlap_hours` (0: stops at once). Code "client.unknown" for no such client.
Result<std::string> rotateToken(store::PgConnection& db, const std::string& client_id, int overlap_hours,
                                int valid_days = 365);
// `vkhid token revoke`: the client's token and certificate stop working at once (sessions too).
Status revokeClient(store::PgConnection& db, const std::string& client_id);
// Binds a client certificate (PEM) to a client (`vkhid token bind-cert`); returns its SHA-256 fingerprint.
Result<std::string> bindClientCertificate(store::PgConnection& db, const std::string& client_id,
                                          const std::string& role, const std::string& cert_pem,
                                          const std::string& org_id = {});

}  // namespace vkhid::flows
