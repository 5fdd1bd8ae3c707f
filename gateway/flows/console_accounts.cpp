#include "gateway/flows/console_accounts.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <boost/json.hpp>
#include <regex>

#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/otp.hpp"
#include "gateway/crypto/password.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

constexpr const char* kRefused = "login, password or code: not accepted";

bool validLogin(const std::string& login) {
  static const std::regex re("[a-z0-9][a-z0-9._-]{2,63}");
  return std::regex_match(login, re);
}

void countSignIn(const char* result) {
  app::metrics()
      .counter("vkhid_console_signins_total", "Console sign-ins with a personal account, by result",
               {{"result", result}})
      .inc();
}

// The password policy: long enough to resist guessing behind Argon2id and the lock-out, and not the login.
Status checkPassword(const std::string& login, std::string_view password) {
  if (password.size() < 12 || password.size() > 256) {
    return Error::invalid("account.invalid", "password: 12-256 characters");
  }
  if (password == login) return Error::invalid("account.invalid", "password: must not be the login");
  return {};
}

Result<AccountEnrolment> newEnrolment(const std::string& login) {
  unsigned char key[20];  // 160 bits, as RFC 4226 recommends for HMAC-SHA-1
  if (RAND_bytes(key, sizeof key) != 1) {
    return Error{ErrorKind::Internal, "crypto.random", "no random bytes for the TOTP secret"};
  }
  AccountEnrolment e;
  e.totp_secret = crypto::base32Encode(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
  e.otpauth_uri = crypto::totpUri("Vkhid", login, e.totp_secret);
  return e;
}

// An evidence entry: by `actor`, or (empty) by whoever the connection acts for (vkhid.actor).
Status recordEntry(store::PgConnection& db, const std::string& actor, const std::string& action,
                   const std::string& subject, const std::string& detail) {
  return store::appendEvidence(db, action, subject, sha256Hex(detail), actor);
}

// An act on an account by whoever the connection acts for; a sign-in event, by the console.
Status recordAct(store::PgConnection& db, const std::string& action, const std::string& subject,
                 const std::string& detail) {
  return recordEntry(db, "", action, subject, detail);
}
Status recordSignInEvent(store::PgConnection& db, const std::string& action, const std::string& subject,
                         const std::string& detail) {
  return recordEntry(db, "console", action, subject, detail);
}

struct AccountRow {
  std::string client_id, role, org_id, password_hash, totp_secret, locked_until;
  bool restricted_access = false, locked = false;
  long long totp_last_step = 0;
};

// The TOTP secret is kept sealed like personal data (store/at_rest.hpp), bound to its account: a copy of
// the database gives no one the second factor.
std::string secretAad(const std::string& login) { return "console_account.totp:" + login; }

// An account by its login, or (`by_national_id`) by the keyed hash of the РНОКПП bound to it.
Result<std::optional<AccountRow>> findAccount(store::PgConnection& db, const std::string& login,
                                              bool by_national_id = false) {
  auto r = db.exec(std::string("SELECT a.client_id, c.role, coalesce(c.org_id, ''), a.password_hash, a.totp_secret, "
                               "coalesce(to_char(a.locked_until AT TIME ZONE 'UTC', "
                               "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), c.restricted_access, "
                               "coalesce(a.locked_until > now(), false), a.totp_last_step "
                               "FROM console_account a JOIN api_client c ON c.id = a.client_id WHERE ") +
                       (by_national_id ? "a.national_id_key" : "a.client_id") +
                       " = $1 AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > now())",
                   {login});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<AccountRow>();
  AccountRow a{std::string(r->get(0, 0)), std::string(r->get(0, 1)), std::string(r->get(0, 2)),
               std::string(r->get(0, 3)), std::string(r->get(0, 4)), std::string(r->get(0, 5)),
               r->get(0, 6) == "t",       r->get(0, 7) == "t",       std::stoll(std::string(r->get(0, 8)))};
  return std::optional<AccountRow>(std::move(a));
}

Error lockedError(const std::string& until) {
  return Error{ErrorKind::Conflict, "console.locked",
               "the account is locked after failed sign-ins until " + until +
                   "; an administrator may unlock it sooner (vkhid account unlock)"};
}

// One more failure of an account: counted, and when it is the policy's last, the account locked, the
// lock recorded and the UCC alerted. Returns the lock's end when it locked now.
Result<std::optional<std::string>> recordFailure(store::PgConnection& db, const std::string& client_id,
                                                 const SignInPolicy& policy) {
  std::optional<std::string> locked;
  auto st = store::inTransaction(db, [&]() -> Status {
    auto r = db.exec(
        "UPDATE console_account SET "
        "failed_attempts = CASE WHEN failed_attempts + 1 >= $2::int THEN 0 ELSE failed_attempts + 1 END, "
        "locked_until = CASE WHEN failed_attempts + 1 >= $2::int THEN now() + $3::interval ELSE locked_until END "
        "WHERE client_id = $1 RETURNING failed_attempts, coalesce(locked_until > now(), false), "
        "coalesce(to_char(locked_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')",
        {client_id, std::to_string(policy.max_failures), std::to_string(policy.lockout.count()) + " minutes"});
    if (!r) return r.error();
    if (r->rows() == 0) return {};
    const bool now_locked = r->get(0, 1) == "t";
    const std::string failures = now_locked ? std::to_string(policy.max_failures) : std::string(r->get(0, 0));
    if (auto s = recordSignInEvent(db, "console.signin_failed", "client:" + client_id + " failures:" + failures, "");
        !s) {
      return s;
    }
    if (!now_locked) return {};
    locked = std::string(r->get(0, 2));
    if (auto s = recordSignInEvent(db, "console.locked", "client:" + client_id + " until:" + *locked, ""); !s) return s;
    return enqueueOutbox(db, bus::names::kAlerts, "console.locked_out", "console.locked:" + client_id + ":" + *locked,
                         json::serialize(json::object{{"client", client_id},
                                                      {"failures", policy.max_failures},
                                                      {"locked_until", *locked},
                                                      {"notify", json::array{"ucc:coordinator"}}}));
  });
  if (!st) return st.error();
  return locked;
}

}  // namespace

Result<AccountEnrolment> createAccount(store::PgConnection& db, const NewAccount& account, std::string_view password) {
  if (!validLogin(account.login)) {
    return Error::invalid("account.invalid",
                          "login: 3-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
  }
  if (account.role != "admin" && account.role != "auditor" && account.role != "participant") {
    return Error::invalid("account.invalid", "role: admin, auditor or participant");
  }
  if ((account.role == "participant") != !account.org_id.empty()) {
    return Error::invalid("account.invalid", account.role == "participant"
                                                 ? "org: a participant's staff account names its body (EDRPOU)"
                                                 : "org: only a participant's staff account names a body");
  }
  if (account.role == "participant" && account.restricted_access) {
    return Error::invalid("account.invalid", "restricted access: only the UCC's admins and auditors may be granted it");
  }
  if (account.display_name.size() > 200 || std::any_of(account.display_name.begin(), account.display_name.end(),
                                                       [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Error::invalid("account.invalid", "name: at most 200 bytes, no control characters");
  }
  if (auto s = checkPassword(account.login, password); !s) return s.error();
  auto hash = crypto::hashPassword(password);
  if (!hash) return hash.error();
  auto enrolment = newEnrolment(account.login);
  if (!enrolment) return enrolment.error();
  auto st = store::inTransaction(db, [&]() -> Status {
    auto exists = db.exec("SELECT 1 FROM api_client WHERE id = $1 FOR UPDATE", {account.login});
    if (!exists) return exists.error();
    if (exists->rows() > 0) {
      return Error{ErrorKind::Conflict, "account.exists", "login: " + account.login + " is a client's id already"};
    }
    auto client =
        db.exec("INSERT INTO api_client (id, role, restricted_access, org_id) VALUES ($1, $2, $3, NULLIF($4, ''))",
                {account.login, account.role, account.restricted_access ? "true" : "false", account.org_id});
    if (!client) return client.error();
    auto secret = store::sealText(db, enrolment->totp_secret, secretAad(account.login));
    if (!secret) return secret.error();
    auto row = db.exec(
        "INSERT INTO console_account (client_id, display_name, password_hash, totp_secret) VALUES ($1, $2, $3, $4)",
        {account.login, account.display_name, *hash, *secret});
    if (!row) return row.error();
    return recordAct(db, "account.create", "client:" + account.login + " role:" + account.role,
                     account.restricted_access ? "restricted_access" : "");
  });
  if (!st) return st.error();
  return enrolment;
}

Result<AccountEnrolment> resetAccount(store::PgConnection& db, const std::string& login, std::string_view password) {
  if (auto s = checkPassword(login, password); !s) return s.error();
  auto hash = crypto::hashPassword(password);
  if (!hash) return hash.error();
  auto enrolment = newEnrolment(login);
  if (!enrolment) return enrolment.error();
  auto st = store::inTransaction(db, [&]() -> Status {
    auto secret = store::sealText(db, enrolment->totp_secret, secretAad(login));
    if (!secret) return secret.error();
    auto r = db.exec(
        "UPDATE console_account SET password_hash = $2, totp_secret = $3, totp_last_step = 0, failed_attempts = 0, "
        "locked_until = NULL, password_set_at = now() WHERE client_id = $1",
        {login, *hash, *secret});
    if (!r) return r.error();
    if (r->affected() == 0) return Error{ErrorKind::NotFound, "account.unknown", "login: no account " + login};
    // The person's open sessions end with their old credentials.
    if (auto d = db.exec("DELETE FROM console_session WHERE client_id = $1", {login}); !d) return d.error();
    return recordAct(db, "account.reset", "client:" + login, "");
  });
  if (!st) return st.error();
  return enrolment;
}

Status unlockAccount(store::PgConnection& db, const std::string& login) {
  return store::inTransaction(db, [&]() -> Status {
    auto r =
        db.exec("UPDATE console_account SET failed_attempts = 0, locked_until = NULL WHERE client_id = $1", {login});
    if (!r) return r.error();
    if (r->affected() == 0) return Error{ErrorKind::NotFound, "account.unknown", "login: no account " + login};
    return recordAct(db, "account.unlock", "client:" + login, "");
  });
}

Result<std::string> listAccounts(store::PgConnection& db) {
  auto r = db.exec(
      "SELECT coalesce(json_agg(t ORDER BY t.login), '[]')::text FROM (SELECT a.client_id AS login, c.role, "
      "a.display_name AS name, c.org_id, c.restricted_access, CASE WHEN a.locked_until > now() THEN a.locked_until END "
      "AS locked_until, a.last_signin_at, a.password_set_at, c.revoked_at FROM console_account a "
      "JOIN api_client c ON c.id = a.client_id) t");
  if (!r) return r.error();
  return std::string(r->get(0, 0));
}

namespace {
// A sign-in to a locked account: counted, recorded, refused until the lock ends.
Error refusedLocked(store::PgConnection& db, const AccountRow& a) {
  countSignIn("locked");
  if (auto s = recordSignInEvent(db, "console.signin_failed", "client:" + a.client_id + " locked", ""); !s) {
    return s.error();
  }
  return lockedError(a.locked_until);
}
}  // namespace

Result<std::pair<std::string, ConsoleSession>> openAccountSession(store::PgConnection& db, const std::string& login,
                                                                  std::string_view password, std::string_view code,
                                                                  const SignInPolicy& policy) {
  auto found = validLogin(login) ? findAccount(db, login) : Result<std::optional<AccountRow>>(std::nullopt);
  if (!found) return found.error();
  if (!*found) {
    // As long as a known login's refusal takes; the evidence keeps the digest of what was tried.
    (void)crypto::verifyPassword(crypto::decoyPasswordHash(), password);
    countSignIn("failed");
    if (auto s = recordSignInEvent(db, "console.signin_failed", "login:unknown", login); !s) return s.error();
    return Error::invalid("console.signin", kRefused);
  }
  const AccountRow& a = **found;
  if (a.locked) return refusedLocked(db, a);
  const bool password_ok = crypto::verifyPassword(a.password_hash, password);
  auto secret = store::openText(db, a.totp_secret, secretAad(a.client_id));
  if (!secret) return secret.error();
  const auto key = crypto::base32Decode(*secret);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto step = key ? crypto::matchTotp(*key, code, now) : std::nullopt;
  // A code once accepted (or an earlier one) is not taken again: a code seen over a shoulder is spent.
  if (password_ok && step && *step > a.totp_last_step) {
    auto taken = db.exec(
        "UPDATE console_account SET failed_attempts = 0, totp_last_step = $2::bigint, last_signin_at = now() "
        "WHERE client_id = $1 AND totp_last_step < $2::bigint AND coalesce(locked_until <= now(), true)",
        {a.client_id, std::to_string(*step)});
    if (!taken) return taken.error();
    if (taken->affected() == 1) {
      if (crypto::passwordNeedsRehash(a.password_hash)) {
        if (auto h = crypto::hashPassword(password)) {
          (void)db.exec("UPDATE console_account SET password_hash = $2 WHERE client_id = $1", {a.client_id, *h});
        }
      }
      countSignIn("ok");
      return startConsoleSession(db, ConsoleSession{a.client_id, a.role, "", a.restricted_access, a.org_id}, policy,
                                 "password+totp");
    }
  }
  auto locked = recordFailure(db, a.client_id, policy);
  if (!locked) return locked.error();
  countSignIn(*locked ? "locked" : "failed");
  if (*locked) return lockedError(**locked);
  return Error::invalid("console.signin", kRefused);
}

namespace {
Result<std::string> nationalIdKey(store::PgConnection& db, const std::string& national_id) {
  return store::personalIndex(db, "rnokpp:" + national_id);
}
}  // namespace

Status bindNationalId(store::PgConnection& db, const std::string& login, const std::string& national_id) {
  if (national_id.size() != 10 || national_id.find_first_not_of("0123456789") != std::string::npos) {
    return Error::invalid("account.invalid", "national-id: a РНОКПП of 10 digits");
  }
  auto key = nationalIdKey(db, national_id);
  if (!key) return key.error();
  return store::inTransaction(db, [&]() -> Status {
    auto other =
        db.exec("SELECT client_id FROM console_account WHERE national_id_key = $1 AND client_id <> $2", {*key, login});
    if (!other) return other.error();
    if (other->rows() > 0) {
      return Error{ErrorKind::Conflict, "account.national_id_bound",
                   "national-id: bound to the account " + std::string(other->get(0, 0)) + " already"};
    }
    auto r = db.exec("UPDATE console_account SET national_id_key = $2 WHERE client_id = $1", {login, *key});
    if (!r) return r.error();
    if (r->affected() == 0) return Error{ErrorKind::NotFound, "account.unknown", "login: no account " + login};
    return recordAct(db, "account.bind_national_id", "client:" + login, "");
  });
}

Result<std::pair<std::string, ConsoleSession>> openNationalIdSession(store::PgConnection& db,
                                                                     const std::string& national_id,
                                                                     const SignInPolicy& policy) {
  auto key = nationalIdKey(db, national_id);
  if (!key) return key.error();
  auto found = findAccount(db, *key, true);
  if (!found) return found.error();
  if (!*found) {
    countSignIn("failed");
    // The evidence names no one: the keyed hash of the identity that has no account.
    if (auto s = recordSignInEvent(db, "console.signin_failed", "national-id:unbound", *key); !s) return s.error();
    return Error::invalid("console.signin", "this national ID is bound to no account: ask an administrator");
  }
  const AccountRow& a = **found;
  if (a.locked) return refusedLocked(db, a);
  if (auto r = db.exec("UPDATE console_account SET last_signin_at = now() WHERE client_id = $1", {a.client_id}); !r) {
    return r.error();
  }
  countSignIn("ok");
  return startConsoleSession(db, ConsoleSession{a.client_id, a.role, "", a.restricted_access, a.org_id}, policy,
                             "national-id");
}

}  // namespace vkhid::flows
