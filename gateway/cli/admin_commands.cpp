#include "gateway/cli/admin_commands.hpp"

#include <toml++/toml.h>
#include <boost/json.hpp>
#include <cstdio>

#include "gateway/app/config.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::cli {
namespace {

struct Options {
  std::string file;
  std::string target, kind, topic, addressee;
  int priority = 100;
  std::string client_id, role = "channel", cert;
  std::string msg_id;
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid: %s\n", what.c_str());
  return 2;
}

Result<store::PgConnection> database(const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return config.error();
  auto db =
      store::PgConnection::connect({config->database.url, config->database.connect_timeout_s, 30000, "vkhid-cli"});
  if (!db) return db.error();
  if (auto m = store::migrate(*db, store::embeddedMigrations()); !m) return m.error();
  // Who acts, for the evidence log: every change this command makes is recorded with it.
  const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
  auto actor =
      db->exec("SELECT set_config('vkhid.actor', $1, false)", {std::string("admin:cli:") + (user ? user : "unknown")});
  if (!actor) return actor.error();
  return db;
}

// A participant from TOML: [participant] keys and [[endpoint]] tables (docs/onboarding.md).
int participantAdd(const Options& o, const std::string& config_path) {
  toml::table t;
  try {
    t = toml::parse_file(o.file);
  } catch (const toml::parse_error& e) {
    return complain(o.file + ": " + std::string(e.description()));
  }
  static const std::vector<std::string> known = {
      "org_id",        "sys_id",         "name",         "system_name",
      "kinds",         "own_channel",    "require_seal", "accept_unsupported_signatures",
      "trust_ca_file", "transport_user", "status",       "endpoint"};
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), std::string(k.str())) == known.end()) {
      return complain(o.file + ": unknown key '" + std::string(k.str()) + "'");
    }
  }
  auto str = [&](const char* k) { return t[k].value_or(std::string()); };
  std::string org = str("org_id");
  if (org.empty() || str("sys_id").empty() || str("name").empty()) {
    return complain(o.file + ": org_id, sys_id and name are required");
  }
  std::string trust;
  if (!str("trust_ca_file").empty()) {
    auto pem = crypto::readFile(str("trust_ca_file"));
    if (!pem) return complain(pem.error().message);
    if (auto certs = crypto::certificatesFromPem(*pem); !certs)
      return complain(str("trust_ca_file") + ": " + certs.error().message);
    trust = *pem;
  }
  std::string kinds = "{appeal,info_request,violence_report}";
  if (auto* arr = t["kinds"].as_array()) {
    kinds = "{";
    for (std::size_t i = 0; i < arr->size(); ++i) kinds += (i ? "," : "") + (*arr)[i].value_or(std::string());
    kinds += "}";
  }
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  Status done = store::inTransaction(*db, [&]() -> Status {
    auto r = db->exec(
        "INSERT INTO participant (org_id, sys_id, name, system_name, kinds, own_channel, require_seal, "
        "accept_unsupported_signatures, trust_pem, transport_user, status) "
        "VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9, NULLIF($10, ''), $11) ON CONFLICT (org_id) DO UPDATE SET "
        "sys_id = excluded.sys_id, name = excluded.name, system_name = excluded.system_name, kinds = excluded.kinds, "
        "own_channel = excluded.own_channel, require_seal = excluded.require_seal, "
        "accept_unsupported_signatures = excluded.accept_unsupported_signatures, trust_pem = excluded.trust_pem, "
        "transport_user = excluded.transport_user, status = excluded.status, updated_at = now()",
        {org, str("sys_id"), str("name"), str("system_name"), kinds,
         t["own_channel"].value_or(false) ? "true" : "false", t["require_seal"].value_or(true) ? "true" : "false",
         t["accept_unsupported_signatures"].value_or(false) ? "true" : "false", trust, str("transport_user"),
         t["status"].value_or(std::string("active"))});
    if (!r) return r.error();
    auto d = db->exec("UPDATE endpoint SET active = false WHERE org_id = $1", {org});
    if (!d) return d.error();
    if (auto* endpoints = t["endpoint"].as_array()) {
      for (const auto& e : *endpoints) {
        const auto* table = e.as_table();
        if (table == nullptr) return Error::invalid("cli.endpoint", "[[endpoint]] must be a table");
        boost::json::object settings;
        std::string adapter;
        for (const auto& [k, v] : *table) {
          if (k.str() == "adapter") {
            adapter = v.value_or(std::string());
          } else {
            settings[std::string(k.str())] = v.value_or(std::string());
          }
        }
        auto ins = db->exec("INSERT INTO endpoint (org_id, adapter, settings) VALUES ($1, $2, $3::jsonb)",
                            {org, adapter, boost::json::serialize(settings)});
        if (!ins) return ins.error();
      }
    }
    return {};
  });
  if (!done) return complain(done.error().message);
  std::printf("participant %s saved\n", org.c_str());
  return 0;
}

int routeAdd(const Options& o, const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto r = db->exec(
      "INSERT INTO routing_rule (priority, kind, topic, addressee_org_id, target_org_id) VALUES ($1, NULLIF($2, ''), "
      "NULLIF($3, ''), NULLIF($4, ''), $5) RETURNING id",
      {std::to_string(o.priority), o.kind, o.topic, o.addressee, o.target});
  if (!r) return complain(r.error().message);
  std::printf("route %s saved\n", std::string(r->get(0, 0)).c_str());
  return 0;
}

int tokenIssue(const Options& o, const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto token = flows::issueToken(*db, o.client_id, o.role);
  if (!token) return complain(token.error().message);
  std::printf("%s\n", token->c_str());  // shown once; only its SHA-256 is stored
  return 0;
}

int tokenBindCert(const Options& o, const std::string& config_path) {
  auto pem = crypto::readFile(o.cert);
  if (!pem) return complain(pem.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto fingerprint = flows::bindClientCertificate(*db, o.client_id, o.role, *pem);
  if (!fingerprint) return complain(o.cert + ": " + fingerprint.error().message);
  std::printf("client %s (%s) authenticates with certificate sha256 %s\n", o.client_id.c_str(), o.role.c_str(),
              fingerprint->c_str());
  return 0;
}

int messageReplay(const Options& o, const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return complain(config.error().message);
  auto signer = crypto::FileSigner::load(config->gateway.seal_key, config->gateway.seal_cert);
  if (!signer) return complain(signer.error().message);
  store::PgPool pool({config->database.url, config->database.connect_timeout_s, 30000, "vkhid-cli"}, 2);
  flows::ExchangeContext context(*config, pool, *signer);
  if (auto s = flows::replayMessage(context, o.msg_id, "admin:cli"); !s) {
    std::fprintf(stderr, "vkhid message replay: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("message %s queued for delivery again\n", o.msg_id.c_str());
  return 0;
}

}  // namespace

void addAdminCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<Options>();
  auto* participant = app.add_subcommand("participant", "Participants of the exchange");
  participant->require_subcommand(1);
  auto* add = participant->add_subcommand("add", "Add or update a participant from a TOML file");
  add->add_option("FILE", o->file, "participant TOML (see docs/onboarding.md)")->required();
  add->add_option("--config", config_path, "gateway configuration");
  add->callback([o, &exit_code, &config_path] { exit_code = participantAdd(*o, config_path); });

  auto* route = app.add_subcommand("route", "Routing rules");
  route->require_subcommand(1);
  auto* radd = route->add_subcommand("add", "Add a rule: kind, topic, addressee -> participant");
  radd->add_option("--target", o->target, "the participant's org_id")->required();
  radd->add_option("--kind", o->kind, "appeal, info_request or violence_report (any when absent)");
  radd->add_option("--topic", o->topic, "topic code (any when absent)");
  radd->add_option("--addressee", o->addressee, "addressee org_id (any when absent)");
  radd->add_option("--priority", o->priority, "lower wins")->default_val(100);
  radd->add_option("--config", config_path, "gateway configuration");
  radd->callback([o, &exit_code, &config_path] { exit_code = routeAdd(*o, config_path); });

  auto* token = app.add_subcommand("token", "API tokens");
  token->require_subcommand(1);
  auto* issue = token->add_subcommand("issue", "Issue a bearer token (printed once)");
  issue->add_option("--client", o->client_id, "client id, e.g. ucc-web")->required();
  issue->add_option("--role", o->role, "channel, participant, admin or auditor")->default_val("channel");
  issue->add_option("--config", config_path, "gateway configuration");
  issue->callback([o, &exit_code, &config_path] { exit_code = tokenIssue(*o, config_path); });

  auto* bind = token->add_subcommand("bind-cert", "Let a client authenticate with its TLS client certificate");
  bind->add_option("--client", o->client_id, "client id, e.g. ucc-hotline")->required();
  bind->add_option("--role", o->role, "channel, participant, admin or auditor")->default_val("channel");
  bind->add_option("--cert", o->cert, "the client's certificate (PEM), issued by a CA in intake.client_ca")->required();
  bind->add_option("--config", config_path, "gateway configuration");
  bind->callback([o, &exit_code, &config_path] { exit_code = tokenBindCert(*o, config_path); });

  auto* message = app.add_subcommand("message", "Messages exchanged");
  message->require_subcommand(1);
  auto* replay = message->add_subcommand("replay", "Send a dead delivery again");
  replay->add_option("ID", o->msg_id, "the message's msg_id")->required();
  replay->add_option("--config", config_path, "gateway configuration");
  replay->callback([o, &exit_code, &config_path] { exit_code = messageReplay(*o, config_path); });
}

}  // namespace vkhid::cli
