// Personal accounts for the web console (issue 29, docs/privacy.md): each UCC administrator and auditor
// signs in as a person, with a password (Argon2id) and a time-based code from an authenticator app
// (TOTP, RFC 6238). Failed attempts in a row lock the account for a while and raise an alert; every
// sign-in, failure, lock and administrative act on an account is an entry in the evidence log. Bearer
// tokens remain for machine clients (admin.console_tokens decides whether the console takes them).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "gateway/flows/console.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

struct NewAccount {
  std::string login;   // also its client id: [a-z0-9._-], 3-64 characters
  std::string role;    // admin, auditor, or participant (a participant body's staff: its own reports)
  std::string org_id;  // role participant: the body (EDRPOU); else empty
  std::string display_name;
  bool restricted_access = false;  // may see restricted cases (violence, trafficking)
};

// What the person enters in an authenticator app: shown once, when the account is made or reset.
struct AccountEnrolment {
  std::string totp_secret;  // base32
  std::string otpauth_uri;
};

// A new account with this password (12-256 characters, not the login) and a fresh TOTP secret. Refused
// (code "account.invalid") with the field named; "account.exists" when the login is any client's id.
Result<AccountEnrolment> createAccount(store::PgConnection& db, const NewAccount& account, std::string_view password);
// A new password and a new TOTP secret (the old ones stop at once), and the account unlocked.
Result<AccountEnrolment> resetAccount(store::PgConnection& db, const std::string& login, std::string_view password);
// Unlocks a locked account (code "account.unknown" for no such account).
Status unlockAccount(store::PgConnection& db, const std::string& login);
// Every account (JSON array): login, role, name, restricted access, locked until, last sign-in, revoked.
Result<std::string> listAccounts(store::PgConnection& db);

// Signs a person in: their login, password and current code, all three right, the code not used
// before. Any wrong part is one failure, answered alike (code "console.signin"); the policy's number of
// failures in a row locks the account (code "console.locked", an alert "console.locked_out"), and a
// locked account is refused whatever it sends until the lock passes or an admin unlocks it.
Result<std::pair<std::string, ConsoleSession>> openAccountSession(store::PgConnection& db, const std::string& login,
                                                                  std::string_view password, std::string_view code,
                                                                  const SignInPolicy& policy);

// Binds a person's РНОКПП (10 digits) to their account, as its keyed hash (evidence
// account.bind_national_id): the national ID sign-in finds them by it. One account per РНОКПП.
Status bindNationalId(store::PgConnection& db, const std::string& login, const std::string& national_id);
// A session for whoever the national ID provider vouched for, when an account is bound to that РНОКПП
// (the provider's own sign-in stands for password and code); refused, with evidence, when none is, and
// while the account is locked.
Result<std::pair<std::string, ConsoleSession>> openNationalIdSession(store::PgConnection& db,
                                                                     const std::string& national_id,
                                                                     const SignInPolicy& policy);

}  // namespace vkhid::flows
