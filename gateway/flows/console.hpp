// What the web console reads and how its users sign in (issue 11). The console calls the same
// administration API as the CLI (docs/api/admin.openapi.yaml); these are the reads that API gained for
// it, and its sessions. Case views carry no applicant's data (names, text): kind, topic, dates, ids and
// codes. A restricted case (violence, trafficking) is shown only to a client granted restricted access;
// to anyone else it does not exist (not found), in lists as in a case page.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::flows {

struct ConsoleSession {
  std::string client_id, role, csrf;
  bool restricted_access = false;
  std::string org_id;  // role participant: its body, whose own reports are all it sees
};

// How people sign in to the console (config [admin]).
struct SignInPolicy {
  std::chrono::minutes idle{30};      // a session ends after this long unused
  std::chrono::minutes longest{720};  // and this long after it began, however busy
  bool tokens = true;                 // bearer tokens sign in too (development); false: accounts and certificates
  int max_failures = 5;               // failed sign-ins of an account in a row that lock it
  std::chrono::minutes lockout{15};   // for this long
};

// Signs in an admin, auditor or participant client by its bearer token — or, with none, by the verified TLS client
// certificate it presented (SHA-256 of its DER, bound by `vkhid token bind-cert`): a new session whose
// random id (the cookie's value) is returned with it; the database keeps only its SHA-256. Unknown or
// revoked credentials, and other roles, are refused (code "console.signin"); so is any token when the
// policy takes none. Each sign-in is an evidence entry "console.signin" naming the way.
Result<std::pair<std::string, ConsoleSession>> openConsoleSession(store::PgConnection& db, const std::string& token,
                                                                  const SignInPolicy& policy,
                                                                  const std::string& cert_sha256 = {});
// A new session for a client signed in (by any way): its id and what the console is told.
Result<std::pair<std::string, ConsoleSession>> startConsoleSession(store::PgConnection& db, ConsoleSession s,
                                                                   const SignInPolicy& policy,
                                                                   const std::string& method);
// The session for a cookie value, while it is in use: each use moves its expiry `idle` ahead.
std::optional<ConsoleSession> findConsoleSession(store::PgConnection& db, const std::string& id,
                                                 std::chrono::minutes idle);
// Ends a session (signing out): an evidence entry "console.signout".
Status closeConsoleSession(store::PgConnection& db, const std::string& id, const ConsoleSession& s);
// Whether an API client (by id) may see restricted cases.
bool clientHasRestrictedAccess(store::PgConnection& db, const std::string& client_id);

struct CaseQuery {
  std::string text;    // part of a UCC number, tracking code or case id
  std::string status;  // exact status, or empty
  bool overdue_only = false;
  bool review_only = false;  // marked for review
  int limit = 100;
};
// Cases, overdue first, then by deadline (JSON array).
Result<std::string> listCases(store::PgConnection& db, const CaseQuery& q, bool restricted_access);
// One case (JSON): its fields, timeline, packages with receipts and seal verdicts, and deadline timers.
Result<std::string> showCase(store::PgConnection& db, const std::string& case_id, bool restricted_access);
// Deliveries (JSON): per participant the outbound packages by status, and the dead ones to replay.
Result<std::string> listDeliveries(store::PgConnection& db, bool restricted_access);
// The evidence log (JSON): the latest batches with their roots and time-stamps, and the latest entries
// (without those naming a restricted case, unless the client may see them).
Result<std::string> listAudit(store::PgConnection& db, int limit, bool restricted_access);

}  // namespace vkhid::flows
