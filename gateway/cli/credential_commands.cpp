// The credentials of the API's clients and the console's people (docs/console.md, docs/privacy.md):
// `vkhid token issue|rotate|revoke|bind-cert` for machine clients, `vkhid account add|reset|unlock|bind-id|list`
// for persons.
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>

#include "gateway/cli/admin_commands.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/console_accounts.hpp"
#include "gateway/flows/intake.hpp"

namespace vkhid::cli {
namespace {

struct TokenOptions {
  std::string client_id, role = "channel", org_id, cert;
  bool restricted_access = false;
  int valid_days = 365, overlap_hours = 24;
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid: %s\n", what.c_str());
  return 2;
}

int tokenIssue(const TokenOptions& o, const std::string& config_path) {
  if (o.restricted_access && o.role != "admin" && o.role != "auditor") {
    return complain("--restricted-access: only an admin or auditor may be granted restricted cases");
  }
  auto db = adminDatabase(config_path);
  if (!db) return complain(db.error().message);
  auto token = flows::issueToken(*db, o.client_id, o.role, o.valid_days, o.org_id);
  if (!token) return complain(token.error().message);
  // Restricted cases (violence, trafficking) are seen only by clients granted it by name, here.
  auto granted = db->exec("UPDATE api_client SET restricted_access = $2 WHERE id = $1",
                          {o.client_id, o.restricted_access ? "true" : "false"});
  if (!granted) return complain(granted.error().message);
  std::printf("%s\n", token->c_str());  // shown once; only its SHA-256 is stored
  return 0;
}

int tokenRevoke(const TokenOptions& o, const std::string& config_path) {
  auto db = adminDatabase(config_path);
  if (!db) return complain(db.error().message);
  if (auto s = flows::revokeClient(*db, o.client_id); !s) {
    std::fprintf(stderr, "vkhid token revoke: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("client %s revoked: its token, certificate and console sessions no longer work\n", o.client_id.c_str());
  return 0;
}

int tokenBindCert(const TokenOptions& o, const std::string& config_path) {
  auto pem = crypto::readFile(o.cert);
  if (!pem) return complain(pem.error().message);
  auto db = adminDatabase(config_path);
  if (!db) return complain(db.error().message);
  auto fingerprint = flows::bindClientCertificate(*db, o.client_id, o.role, *pem, o.org_id);
  if (!fingerprint) return complain(o.cert + ": " + fingerprint.error().message);
  std::printf("client %s (%s) authenticates with certificate sha256 %s\n", o.client_id.c_str(), o.role.c_str(),
              fingerprint->c_str());
  return 0;
}

// token issue|revoke|bind-cert.
void addTokenCommands(CLI::App& app, const std::shared_ptr<TokenOptions>& o, int& exit_code, std::string& config_path) {
  auto* token = app.add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto* issue = token->add_subcommand("issue", "Issue a bearer token (printed once)");
  issue->add_option("--client", o->client_id, "client id, e.g. ucc-web")->required();
  issue->add_option("--role", o->role, "channel, participant, admin or auditor")->default_val("channel");
  issue->add_flag("--restricted-access", o->restricted_access,
                  "admin or auditor: may see restricted cases (violence, trafficking) in the console and API");
  issue->add_option("--org", o->org_id, "participant: the body (EDRPOU) whose own reports it sees");
  issue->add_option("--config", config_path, "gateway configuration");
  issue->add_option("--valid-days", o->valid_days, "the token expires after this many days (0: never)")
      ->default_val(365);
  issue->callback([o, &exit_code, &config_path] { exit_code = tokenIssue(*o, config_path); });
  auto* rotate = token->add_subcommand("rotate", "A new token for a machine client (printed once); role and body kept");
  rotate->add_option("--client", o->client_id, "client id")->required();
  rotate->add_option("--overlap-hours", o->overlap_hours, "the old token keeps working this long (0: stops now)")
      ->default_val(24);
  rotate->add_option("--valid-days", o->valid_days, "the new token expires after this many days (0: never)")
      ->default_val(365);
  rotate->add_option("--config", config_path, "gateway configuration");
  rotate->callback([o, &exit_code, &config_path] {
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    auto token = flows::rotateToken(*db, o->client_id, o->overlap_hours, o->valid_days);
    if (!token) return void(exit_code = complain(token.error().message));
    std::printf("%s\n", token->c_str());
  });
  auto* revoke = token->add_subcommand("revoke", "Revoke a client: its token, certificate and sessions stop at once");
  revoke->add_option("--client", o->client_id, "client id")->required();
  revoke->add_option("--config", config_path, "gateway configuration");
  revoke->callback([o, &exit_code, &config_path] { exit_code = tokenRevoke(*o, config_path); });

  auto* bind = token->add_subcommand("bind-cert", "Let a client authenticate with its TLS client certificate");
  bind->add_option("--client", o->client_id, "client id, e.g. ucc-hotline")->required();
  bind->add_option("--role", o->role, "channel, participant, admin or auditor")->default_val("channel");
  bind->add_option("--org", o->org_id, "participant: the body (EDRPOU) whose own reports it sees");
  bind->add_option("--cert", o->cert, "the client's certificate (PEM), issued by a CA in intake.client_ca")->required();
  bind->add_option("--config", config_path, "gateway configuration");
  bind->callback([o, &exit_code, &config_path] { exit_code = tokenBindCert(*o, config_path); });
}

// account add|reset|unlock|list: the console's personal accounts (issue 29, docs/privacy.md).
struct AccountOptions {
  flows::NewAccount account;
  std::string password_file, national_id;
};

// The password from a file, or standard input's first line for "-" (never from the command line, which
// other users of the machine can see).
Result<std::string> readPassword(const std::string& path) {
  if (path != "-") return crypto::readSecret(path);
  std::string line;
  if (!std::getline(std::cin, line)) return Error::invalid("cli.password", "--password-file -: no line on stdin");
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

int printEnrolment(const std::string& what, const Result<flows::AccountEnrolment>& e) {
  if (!e) return complain(e.error().message);
  std::printf("%s\n", what.c_str());
  std::printf("totp_secret: %s\n", e->totp_secret.c_str());
  std::printf("otpauth_uri: %s\n", e->otpauth_uri.c_str());
  std::printf("Enter the secret (or the URI as a QR code) in the person's authenticator app; it is shown once.\n");
  return 0;
}

void addAccountCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<AccountOptions>();
  auto* account = app.add_subcommand("account", "The console's personal accounts: password and authenticator code");
  account->require_subcommand(1);
  auto* add = account->add_subcommand("add", "Make a person's account (its authenticator secret printed once)");
  add->add_option("--login", o->account.login, "the person's login, e.g. o.petrenko")->required();
  add->add_option("--role", o->account.role, "admin, auditor, or participant (a body's staff: its own reports)")
      ->required();
  add->add_option("--org", o->account.org_id, "participant: the body (EDRPOU) whose reports the person reads");
  add->add_option("--name", o->account.display_name, "the person's name, as the console shows it");
  add->add_flag("--restricted-access", o->account.restricted_access,
                "may see restricted cases (violence, trafficking)");
  add->add_option("--password-file", o->password_file, "a file holding the first password, or - for stdin")->required();
  add->add_option("--config", config_path, "gateway configuration");
  add->callback([o, &exit_code, &config_path] {
    auto password = readPassword(o->password_file);
    if (!password) return void(exit_code = complain(password.error().message));
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    exit_code = printEnrolment("account " + o->account.login + " (" + o->account.role + ") made",
                               flows::createAccount(*db, o->account, *password));
  });
  auto* reset = account->add_subcommand("reset", "A new password and authenticator secret; the account unlocked");
  reset->add_option("--login", o->account.login, "the account's login")->required();
  reset->add_option("--password-file", o->password_file, "a file holding the new password, or - for stdin")->required();
  reset->add_option("--config", config_path, "gateway configuration");
  reset->callback([o, &exit_code, &config_path] {
    auto password = readPassword(o->password_file);
    if (!password) return void(exit_code = complain(password.error().message));
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    exit_code = printEnrolment("account " + o->account.login + " reset; its sessions ended",
                               flows::resetAccount(*db, o->account.login, *password));
  });
  auto* unlock = account->add_subcommand("unlock", "Unlock an account locked after failed sign-ins");
  unlock->add_option("--login", o->account.login, "the account's login")->required();
  unlock->add_option("--config", config_path, "gateway configuration");
  unlock->callback([o, &exit_code, &config_path] {
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    if (auto s = flows::unlockAccount(*db, o->account.login); !s) return void(exit_code = complain(s.error().message));
    std::printf("account %s unlocked\n", o->account.login.c_str());
  });
  auto* bind = account->add_subcommand("bind-id", "Bind a person's РНОКПП: they may sign in with the national ID");
  bind->add_option("--login", o->account.login, "the account's login")->required();
  bind->add_option("--national-id", o->national_id, "the person's РНОКПП (10 digits), from their own documents")
      ->required();
  bind->add_option("--config", config_path, "gateway configuration");
  bind->callback([o, &exit_code, &config_path] {
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    if (auto s = flows::bindNationalId(*db, o->account.login, o->national_id); !s) {
      return void(exit_code = complain(s.error().message));
    }
    std::printf("account %s: national ID bound (kept as a keyed hash)\n", o->account.login.c_str());
  });
  auto* list = account->add_subcommand("list", "Every account (JSON): role, lock, last sign-in");
  list->add_option("--config", config_path, "gateway configuration");
  list->callback([&exit_code, &config_path] {
    auto db = adminDatabase(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    auto all = flows::listAccounts(*db);
    if (!all) return void(exit_code = complain(all.error().message));
    std::printf("%s\n", all->c_str());
  });
}

}  // namespace

void addCredentialCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  addTokenCommands(app, std::make_shared<TokenOptions>(), exit_code, config_path);
  addAccountCommands(app, exit_code, config_path);
}

}  // namespace vkhid::cli
