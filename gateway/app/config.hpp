// The gateway's configuration: parsed once at start from TOML and the environment into typed structs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::app {

struct GatewaySettings {
  std::string instance;             // a name for this process in logs and metrics; default: host-pid
  std::string org_id = "99999901";  // the UCC's EDRPOU code: from_org_id of everything we send
  std::string organization = "Урядовий контактний центр";
  // development (today's conveniences) or production: `vkhid serve` then refuses what is only safe on
  // a developer's machine (docs/operations.md); `serve --profile` overrides it.
  std::string profile = "development";
  std::string sys_id = "vkhid-gateway";
  std::string system = "Вхід";
  // The package seal and attachment signatures: a PEM key file, or a key on a hardware module named by
  // a PKCS#11 URI (pkcs11:token=…;object=…) with the module's library and a file holding the PIN.
  std::string seal_key = "var/pki/ucc-seal.key";
  std::string seal_cert = "var/pki/ucc-seal.pem";
  std::string pkcs11_module;
  std::string seal_pin_file;
  int workers = 2;                // consumer threads for routing and inbound (deliveries: per participant)
  int shutdown_timeout_s = 20;    // SIGTERM: in-flight work gets this long, then the process exits
  int health_interval_ms = 1000;  // how often database and broker reachability are probed
};

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

struct DatabaseSettings {
  std::string url = "postgresql://vkhid@127.0.0.1:54329/vkhid";
  int connect_timeout_s = 5;
  int statement_timeout_ms = 10000;
  bool migrate_on_start = true;
  // A streaming replica for read-only work — reports, tracking, evidence export; empty = the primary.
  std::string read_url;
};

struct BrokerSettings {
  std::string url = "amqp://guest:guest@127.0.0.1:56729/%2f";
  int connect_timeout_s = 5;
  int heartbeat_s = 30;
  int reconnect_max_s = 30;            // ceiling of the reconnect backoff
  std::string queue_type = "classic";  // or "quorum" on a cluster (docs/operations.md)
};

struct IntakeSettings {
  std::string listen = "127.0.0.1:8443";  // the intake and tracking API for channel systems
  std::string tls_cert;                   // PEM; empty = plain HTTP (development only)
  std::string tls_key;
  std::string client_ca;          // PEM CA(s) for channel clients' certificates; empty = bearer tokens only
  int max_body_bytes = 26214400;  // 25 MiB
  int max_attachments = 20;
  int track_per_minute = 30;  // tracking requests per client address a minute
  int threads = 4;
  // Reverse proxies (addresses, comma-separated) whose X-Forwarded-For names the client, for rate limits.
  std::string trusted_proxies;
  // A case's received_at (the channel's time of receipt) may be at most this far in the future (clocks
  // differ) and this old (what a channel can have held it for); else 422.
  int received_future_s = 300;
  int received_max_age_days = 30;
  // Mass appeals (the resolution's п. 4): an appeal whose text, reduced to its words, is the same as an
  // open appeal's from another named applicant within this many days joins that case as its member —
  // when the text has at least this many characters (a short text is no sign of a campaign).
  int mass_appeal_window_days = 30;
  int mass_appeal_min_chars = 100;
};

struct DeliverySettings {
  std::string retry_delays = "10s,1m,10m,1h,6h";  // then dead-letter; each delay gets up to 20% jitter
  int prefetch = 16;
  int workers_per_participant = 2;  // delivery threads of each participant's own queue
  // ... of a participant whose endpoints are all amqp: a batch there is one publish and one wait for the
  // broker's confirms, and a second consumer would only split each batch in two (issue 25).
  int amqp_workers_per_participant = 1;
  int publish_timeout_ms = 10000;
  // Outbox rows the broker confirmed are deleted this long after (the case's own records keep what
  // was sent); unsent rows are never deleted.
  int outbox_retention_hours = 168;
};

struct DeadlineSettings {
  std::string calendar_file;            // empty = the shipped config/calendars/ua.toml (built in)
  std::string rules_file;               // empty = the shipped config/deadlines.toml (built in)
  int delivery_receipt_within_s = 900;  // no delivery receipt by then: an escalation
  int timer_interval_ms = 1000;         // how often due timers are looked for
  int clock_offset_s = 0;               // drills and tests: timers see the time as now + this
};

struct AuditSettings {
  int batch_max_entries = 10000;           // a batch closes at this many entries …
  int batch_max_age_ms = 60000;            // … or when its oldest entry is this old
  std::string tsa_url;                     // RFC 3161 time-stamp authority (http://…); empty = batches not stamped
  std::string ca_file = "var/pki/ca.pem";  // CA certificate(s) of the seal and the TSA, for the bundle
  int fail_closed_after_s = 600;           // evidence unsealed this long: alert, and (fail_closed) refuse cases
  bool fail_closed = true;
  std::string export_dir = "var/audit-exports";  // where the web console writes the bundles it exports
};

struct RoutingSettings {
  std::string rules_file;  // TOML [[route]] tables, loaded at start beside the rules of `vkhid route add`
};

struct SevHubSettings {
  std::string
      url;  // the hub's IntegrationService, e.g. https://sev21.dir.gov.ua/csp/dirbus/bus.esb.IntegrationService.cls
  std::string system_id;        // the gateway's account (Identity/SystemId)
  std::string password_file;    // its password, in a file outside the repository
  std::string ca_file;          // https: CA(s) the hub's certificate must chain to
  int poll_interval_ms = 1000;  // how often the account's incoming messages are asked for
};

struct ReportSettings {
  std::string classifier_file;  // empty = the shipped config/classifier.toml (topic names)
  int repeat_window_days = 30;  // an appeal from the same applicant on the same topic within this: repeated
  std::string costs_file;       // unit costs of the cost per appeal; empty = the shipped config/costs.toml
};

struct TrustSettings {
  std::string crl_files;  // comma-separated files of certificate revocation lists (PEM or DER, DSTU-signed
                          // ones too), checked on every verification of a participant's signatures; read
                          // when the gateway starts
  // Comma-separated trust lists of qualified providers' CAs and TSAs, as published: PKCS#7 bundles (the
  // IIT CACertificates.p7b), certificates (PEM or DER) or folders of them. Participants' attachment
  // signatures are judged against these unless the participant's onboarding pins a list of its own.
  std::string qualified_lists;
};

struct EdmsSettings {
  std::string listen = "127.0.0.1:8444";             // POST /edms/v1/messages for participants on the http adapter
  std::string tls_cert = "var/pki/gateway-tls.pem";  // inbound server and outbound client certificate
  std::string tls_key = "var/pki/gateway-tls.key";
  std::string client_ca = "var/pki/ca.pem";  // CA(s) of participants' TLS client certificates
  // The largest package a participant may send, on any transport: larger ones are refused unread (code
  // 102) and kept only as their digest and first kilobytes.
  int max_package_bytes = 52428800;  // 50 MiB
};

struct AdminSettings {
  std::string listen = "127.0.0.1:8081";  // health, readiness, metrics, administration API
  std::string tls_cert;                   // PEM; both empty = plain HTTP (loopback only)
  std::string tls_key;
  std::string client_ca;                  // CA(s) of admins' and auditors' client certificates (needs TLS)
  int console_session_minutes = 30;       // a web console session ends after this long unused
  int console_session_max_minutes = 720;  // and this long after signing in, however busy
  // Whether the console takes bearer tokens (and client certificates) besides personal accounts. A
  // person signs in with their account (vkhid account add); tokens are for machine clients.
  bool console_tokens = false;
  int signin_max_failures = 5;      // failed sign-ins of an account in a row that lock it
  int signin_lockout_minutes = 15;  // for this long (or until an admin unlocks it)
  // Sign-in attempts a minute from one address, whatever the login: each costs an Argon2id hash (64 MiB,
  // ~80 ms), so a flood is refused (429) before any is computed.
  int signin_per_minute = 20;
  // Sign-in with the national ID (id.gov.ua, OpenID Connect authorisation code flow; docs/privacy.md):
  // the provider's endpoints, the console's registration with it, and the claim that carries the
  // person's РНОКПП. Empty authorize URL: not offered.
  std::string oidc_authorize_url;
  std::string oidc_token_url;
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_client_secret_file;  // the client secret; HS256 id_tokens are verified with it
  std::string oidc_key_file;            // the provider's public key (PEM) for RS256 id_tokens; empty: HS256
  std::string oidc_redirect_uri;        // https://<console>/console/oidc/callback, as registered
  std::string oidc_ca_file;             // CA(s) of the provider's TLS certificate; empty: the system's
  std::string oidc_claim = "drfo";      // the claim with the person's РНОКПП (tax number)
};

// How long a case's personal data is kept after the case ends (issue 29, docs/privacy.md): then
// `vkhid retention run` erases it, keeping the case's non-personal figures and the evidence.
struct RetentionSettings {
  int appeal_years = 5;  // records-management rules (docs/privacy.md cites them)
  int info_request_years = 5;
  int violence_report_years = 5;
  std::string basis = "Перелік типових документів, наказ Мін'юсту від 12.04.2012 № 578/5";
  // How often the gateway runs the erasure itself (one gateway at a time); 0: only `vkhid retention run`.
  int interval_minutes = 1440;
};

// `vkhid backup` and `vkhid restore` (docs/operations.md, "Back up and restore").
struct BackupSettings {
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";  // pg_basebackup, of the server's major version
  // The broker's definitions, written to / read from {file} (the gateway's virtual host is kept)
  std::string broker_export_command = "rabbitmqctl export_definitions {file}";
  std::string broker_import_command = "rabbitmqctl import_definitions {file}";
};

// Personal data encrypted at rest (issue 29, docs/privacy.md): the master key that wraps the data keys.
// There is no setting without one: without its master key the gateway does not start.
struct AtRestSettings {
  std::string master_key = "var/pki/master.key";  // 64 hex digits; `vkhid keys new --out FILE` makes one
  std::string master_key_id = "dev-master-1";     // the name the data keys record it by
};

// Notices to people (issue 27, docs/notifications.md): the notifier consumes vkhid.notifications and
// vkhid.alerts and sends e-mail (SMTP with STARTTLS) and SMS (a provider's HTTPS API).
struct NotifySettings {
  bool enabled = false;                                        // run the notifier in this process (any number may)
  std::string tracking_url = "https://vkhid.example/track/";   // + tracking code: the applicant's page
  std::string console_url = "https://vkhid.example/console/";  // the UCC's and participants' console
  std::string templates_dir;                                   // empty = the shipped config/notifications/ (built in)
  std::string rota_file;                          // the UCC's duty officers (config/notifications/rota.example.toml)
  std::string retry_delays = "10s,1m,5m,30m,2h";  // then the notice is failed, with an alert
  std::string quiet_hours = "21:00-08:00";        // Kyiv time: applicants' SMS wait (not violence reports)
  int renotify_after_minutes = 30;                // an escalation nobody acknowledged goes to the next on the rota
  int send_interval_ms = 500;                     // how often due notices are looked for
  std::string smtp_url;                           // smtp://host:port (STARTTLS required) or smtps://; empty = no e-mail
  std::string smtp_user;
  std::string smtp_password_file;
  std::string smtp_ca_file;  // CA(s) of the server's certificate; empty = the system's
  std::string smtp_from = "noreply@vkhid.localhost";
  int smtp_timeout_ms = 15000;
  std::string sms_url;         // the provider's endpoint (POST JSON); empty = no SMS
  std::string sms_token_file;  // its bearer token
  std::string sms_ca_file;
  std::string sms_sender = "Vkhid";
  int sms_timeout_ms = 10000;
};

struct Config {
  GatewaySettings gateway;
  LogSettings log;
  DatabaseSettings database;
  BrokerSettings broker;
  IntakeSettings intake;
  DeliverySettings delivery;
  RoutingSettings routing;
  ReportSettings reports;
  SevHubSettings sevhub;
  DeadlineSettings deadlines;
  AuditSettings audit;
  EdmsSettings edms;
  TrustSettings trust;
  AdminSettings admin;
  NotifySettings notify;
  RetentionSettings retention;
  BackupSettings backup;
  AtRestSettings at_rest;
};

// Reads an environment variable; injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup processEnvironment();

// Defaults, then the TOML file (if a path is given), then the environment. Every key `section.name`
// can be overridden by `VKHID_SECTION_NAME`; `VKHID_PG_URL` and `VKHID_AMQP_URL` (printed by
// scripts/services env) are accepted for database.url and broker.url. Unknown keys in the file and
// malformed values anywhere are refused with the key's name.
Result<Config> loadConfig(const std::optional<std::string>& path, const EnvLookup& env);

// The environment variable that overrides `key`, e.g. "database.url" -> "VKHID_DATABASE_URL".
std::string envNameFor(std::string_view key);

// Every key the configuration knows, in file order (for documentation and tests).
std::vector<std::string> knownConfigKeys();

struct HostPort {
  std::string host;
  unsigned short port = 0;
};
Result<HostPort> parseHostPort(std::string_view text);

// "10s,1m,10m,1h,6h" -> milliseconds. Units: ms, s, m, h.
Result<std::vector<long long>> parseDelays(std::string_view text);

}  // namespace vkhid::app
