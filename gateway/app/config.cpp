#include "gateway/app/config.hpp"

#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <variant>

namespace vkhid::app {
namespace {

using FieldRef = std::variant<std::string*, int*, bool*>;

struct KeyDef {
  std::string_view key;
  FieldRef (*field)(Config&);
  int min = 0;
  int max = 0;
};

// The single table of configuration keys: file parsing, environment overrides and the unknown-key
// check all read it, so a key added here is everywhere at once.
const std::array kKeys = {
    KeyDef{"gateway.profile", [](Config& c) -> FieldRef { return &c.gateway.profile; }},
    KeyDef{"gateway.instance", [](Config& c) -> FieldRef { return &c.gateway.instance; }},
    KeyDef{"gateway.shutdown_timeout_s", [](Config& c) -> FieldRef { return &c.gateway.shutdown_timeout_s; }, 1, 600},
    KeyDef{"gateway.health_interval_ms", [](Config& c) -> FieldRef { return &c.gateway.health_interval_ms; }, 50,
           60000},
    KeyDef{"gateway.org_id", [](Config& c) -> FieldRef { return &c.gateway.org_id; }},
    KeyDef{"gateway.organization", [](Config& c) -> FieldRef { return &c.gateway.organization; }},
    KeyDef{"gateway.sys_id", [](Config& c) -> FieldRef { return &c.gateway.sys_id; }},
    KeyDef{"gateway.system", [](Config& c) -> FieldRef { return &c.gateway.system; }},
    KeyDef{"gateway.seal_key", [](Config& c) -> FieldRef { return &c.gateway.seal_key; }},
    KeyDef{"gateway.pkcs11_module", [](Config& c) -> FieldRef { return &c.gateway.pkcs11_module; }},
    KeyDef{"gateway.seal_pin_file", [](Config& c) -> FieldRef { return &c.gateway.seal_pin_file; }},
    KeyDef{"gateway.seal_cert", [](Config& c) -> FieldRef { return &c.gateway.seal_cert; }},
    KeyDef{"gateway.workers", [](Config& c) -> FieldRef { return &c.gateway.workers; }, 1, 64},
    KeyDef{"log.level", [](Config& c) -> FieldRef { return &c.log.level; }},
    KeyDef{"database.url", [](Config& c) -> FieldRef { return &c.database.url; }},
    KeyDef{"database.read_url", [](Config& c) -> FieldRef { return &c.database.read_url; }},
    KeyDef{"database.connect_timeout_s", [](Config& c) -> FieldRef { return &c.database.connect_timeout_s; }, 1, 300},
    KeyDef{"database.statement_timeout_ms", [](Config& c) -> FieldRef { return &c.database.statement_timeout_ms; }, 10,
           3600000},
    KeyDef{"database.migrate_on_start", [](Config& c) -> FieldRef { return &c.database.migrate_on_start; }},
    KeyDef{"broker.url", [](Config& c) -> FieldRef { return &c.broker.url; }},
    KeyDef{"broker.connect_timeout_s", [](Config& c) -> FieldRef { return &c.broker.connect_timeout_s; }, 1, 300},
    KeyDef{"broker.heartbeat_s", [](Config& c) -> FieldRef { return &c.broker.heartbeat_s; }, 0, 3600},
    KeyDef{"broker.reconnect_max_s", [](Config& c) -> FieldRef { return &c.broker.reconnect_max_s; }, 1, 3600},
    KeyDef{"broker.queue_type", [](Config& c) -> FieldRef { return &c.broker.queue_type; }},
    KeyDef{"intake.listen", [](Config& c) -> FieldRef { return &c.intake.listen; }},
    KeyDef{"intake.tls_cert", [](Config& c) -> FieldRef { return &c.intake.tls_cert; }},
    KeyDef{"intake.tls_key", [](Config& c) -> FieldRef { return &c.intake.tls_key; }},
    KeyDef{"intake.client_ca", [](Config& c) -> FieldRef { return &c.intake.client_ca; }},
    KeyDef{"intake.max_body_bytes", [](Config& c) -> FieldRef { return &c.intake.max_body_bytes; }, 1024, 1 << 30},
    KeyDef{"intake.max_attachments", [](Config& c) -> FieldRef { return &c.intake.max_attachments; }, 0, 1000},
    KeyDef{"intake.track_per_minute", [](Config& c) -> FieldRef { return &c.intake.track_per_minute; }, 1, 100000},
    KeyDef{"intake.threads", [](Config& c) -> FieldRef { return &c.intake.threads; }, 1, 64},
    KeyDef{"intake.trusted_proxies", [](Config& c) -> FieldRef { return &c.intake.trusted_proxies; }},
    KeyDef{"intake.received_future_s", [](Config& c) -> FieldRef { return &c.intake.received_future_s; }, 0, 86400},
    KeyDef{"intake.received_max_age_days", [](Config& c) -> FieldRef { return &c.intake.received_max_age_days; }, 1,
           3650},
    KeyDef{"intake.mass_appeal_window_days", [](Config& c) -> FieldRef { return &c.intake.mass_appeal_window_days; }, 1,
           366},
    KeyDef{"intake.mass_appeal_min_chars", [](Config& c) -> FieldRef { return &c.intake.mass_appeal_min_chars; }, 1,
           100000},
    KeyDef{"delivery.retry_delays", [](Config& c) -> FieldRef { return &c.delivery.retry_delays; }},
    KeyDef{"delivery.prefetch", [](Config& c) -> FieldRef { return &c.delivery.prefetch; }, 1, 10000},
    KeyDef{"delivery.workers_per_participant",
           [](Config& c) -> FieldRef { return &c.delivery.workers_per_participant; }, 1, 32},
    KeyDef{"delivery.amqp_workers_per_participant",
           [](Config& c) -> FieldRef { return &c.delivery.amqp_workers_per_participant; }, 1, 32},
    KeyDef{"delivery.publish_timeout_ms", [](Config& c) -> FieldRef { return &c.delivery.publish_timeout_ms; }, 100,
           600000},
    KeyDef{"delivery.outbox_retention_hours", [](Config& c) -> FieldRef { return &c.delivery.outbox_retention_hours; },
           1, 87600},
    KeyDef{"routing.rules_file", [](Config& c) -> FieldRef { return &c.routing.rules_file; }},
    KeyDef{"sevhub.url", [](Config& c) -> FieldRef { return &c.sevhub.url; }},
    KeyDef{"sevhub.system_id", [](Config& c) -> FieldRef { return &c.sevhub.system_id; }},
    KeyDef{"sevhub.password_file", [](Config& c) -> FieldRef { return &c.sevhub.password_file; }},
    KeyDef{"sevhub.ca_file", [](Config& c) -> FieldRef { return &c.sevhub.ca_file; }},
    KeyDef{"sevhub.poll_interval_ms", [](Config& c) -> FieldRef { return &c.sevhub.poll_interval_ms; }, 50, 600000},
    KeyDef{"reports.classifier_file", [](Config& c) -> FieldRef { return &c.reports.classifier_file; }},
    KeyDef{"reports.repeat_window_days", [](Config& c) -> FieldRef { return &c.reports.repeat_window_days; }, 1, 366},
    KeyDef{"reports.costs_file", [](Config& c) -> FieldRef { return &c.reports.costs_file; }},
    KeyDef{"deadlines.calendar_file", [](Config& c) -> FieldRef { return &c.deadlines.calendar_file; }},
    KeyDef{"deadlines.rules_file", [](Config& c) -> FieldRef { return &c.deadlines.rules_file; }},
    KeyDef{"deadlines.delivery_receipt_within_s",
           [](Config& c) -> FieldRef { return &c.deadlines.delivery_receipt_within_s; }, 10, 86400},
    KeyDef{"deadlines.timer_interval_ms", [](Config& c) -> FieldRef { return &c.deadlines.timer_interval_ms; }, 50,
           600000},
    KeyDef{"deadlines.clock_offset_s", [](Config& c) -> FieldRef { return &c.deadlines.clock_offset_s; }, 0, 400000000},
    KeyDef{"audit.batch_max_entries", [](Config& c) -> FieldRef { return &c.audit.batch_max_entries; }, 1, 1000000},
    KeyDef{"audit.batch_max_age_ms", [](Config& c) -> FieldRef { return &c.audit.batch_max_age_ms; }, 50, 86400000},
    KeyDef{"audit.tsa_url", [](Config& c) -> FieldRef { return &c.audit.tsa_url; }},
    KeyDef{"audit.ca_file", [](Config& c) -> FieldRef { return &c.audit.ca_file; }},
    KeyDef{"audit.export_dir", [](Config& c) -> FieldRef { return &c.audit.export_dir; }},
    KeyDef{"audit.fail_closed_after_s", [](Config& c) -> FieldRef { return &c.audit.fail_closed_after_s; }, 1, 604800},
    KeyDef{"audit.fail_closed", [](Config& c) -> FieldRef { return &c.audit.fail_closed; }},
    KeyDef{"trust.crl_files", [](Config& c) -> FieldRef { return &c.trust.crl_files; }},
    KeyDef{"trust.qualified_lists", [](Config& c) -> FieldRef { return &c.trust.qualified_lists; }},
    KeyDef{"edms.listen", [](Config& c) -> FieldRef { return &c.edms.listen; }},
    KeyDef{"edms.tls_cert", [](Config& c) -> FieldRef { return &c.edms.tls_cert; }},
    KeyDef{"edms.tls_key", [](Config& c) -> FieldRef { return &c.edms.tls_key; }},
    KeyDef{"edms.client_ca", [](Config& c) -> FieldRef { return &c.edms.client_ca; }},
    KeyDef{"edms.max_package_bytes", [](Config& c) -> FieldRef { return &c.edms.max_package_bytes; }, 4096, 1 << 30},
    KeyDef{"admin.listen", [](Config& c) -> FieldRef { return &c.admin.listen; }},
    KeyDef{"admin.tls_cert", [](Config& c) -> FieldRef { return &c.admin.tls_cert; }},
    KeyDef{"admin.tls_key", [](Config& c) -> FieldRef { return &c.admin.tls_key; }},
    KeyDef{"admin.client_ca", [](Config& c) -> FieldRef { return &c.admin.client_ca; }},
    KeyDef{"admin.console_session_minutes", [](Config& c) -> FieldRef { return &c.admin.console_session_minutes; }, 1,
           1440},
    KeyDef{"admin.console_session_max_minutes",
           [](Config& c) -> FieldRef { return &c.admin.console_session_max_minutes; }, 5, 10080},
    KeyDef{"admin.console_tokens", [](Config& c) -> FieldRef { return &c.admin.console_tokens; }},
    KeyDef{"admin.signin_max_failures", [](Config& c) -> FieldRef { return &c.admin.signin_max_failures; }, 1, 100},
    KeyDef{"admin.signin_per_minute", [](Config& c) -> FieldRef { return &c.admin.signin_per_minute; }, 1, 10000},
    KeyDef{"admin.oidc_authorize_url", [](Config& c) -> FieldRef { return &c.admin.oidc_authorize_url; }},
    KeyDef{"admin.oidc_token_url", [](Config& c) -> FieldRef { return &c.admin.oidc_token_url; }},
    KeyDef{"admin.oidc_issuer", [](Config& c) -> FieldRef { return &c.admin.oidc_issuer; }},
    KeyDef{"admin.oidc_client_id", [](Config& c) -> FieldRef { return &c.admin.oidc_client_id; }},
    KeyDef{"admin.oidc_client_secret_file", [](Config& c) -> FieldRef { return &c.admin.oidc_client_secret_file; }},
    KeyDef{"admin.oidc_key_file", [](Config& c) -> FieldRef { return &c.admin.oidc_key_file; }},
    KeyDef{"admin.oidc_redirect_uri", [](Config& c) -> FieldRef { return &c.admin.oidc_redirect_uri; }},
    KeyDef{"admin.oidc_ca_file", [](Config& c) -> FieldRef { return &c.admin.oidc_ca_file; }},
    KeyDef{"admin.oidc_claim", [](Config& c) -> FieldRef { return &c.admin.oidc_claim; }},
    KeyDef{"admin.signin_lockout_minutes", [](Config& c) -> FieldRef { return &c.admin.signin_lockout_minutes; }, 1,
           10080},
    KeyDef{"retention.appeal_years", [](Config& c) -> FieldRef { return &c.retention.appeal_years; }, 1, 100},
    KeyDef{"retention.info_request_years", [](Config& c) -> FieldRef { return &c.retention.info_request_years; }, 1,
           100},
    KeyDef{"retention.violence_report_years", [](Config& c) -> FieldRef { return &c.retention.violence_report_years; },
           1, 100},
    KeyDef{"retention.basis", [](Config& c) -> FieldRef { return &c.retention.basis; }},
    KeyDef{"retention.interval_minutes", [](Config& c) -> FieldRef { return &c.retention.interval_minutes; }, 0, 10080},
    KeyDef{"backup.pg_bin_dir", [](Config& c) -> FieldRef { return &c.backup.pg_bin_dir; }},
    KeyDef{"backup.broker_export_command", [](Config& c) -> FieldRef { return &c.backup.broker_export_command; }},
    KeyDef{"backup.broker_import_command", [](Config& c) -> FieldRef { return &c.backup.broker_import_command; }},
    KeyDef{"at_rest.master_key", [](Config& c) -> FieldRef { return &c.at_rest.master_key; }},
    KeyDef{"at_rest.master_key_id", [](Config& c) -> FieldRef { return &c.at_rest.master_key_id; }},
    KeyDef{"notify.enabled", [](Config& c) -> FieldRef { return &c.notify.enabled; }},
    KeyDef{"notify.tracking_url", [](Config& c) -> FieldRef { return &c.notify.tracking_url; }},
    KeyDef{"notify.console_url", [](Config& c) -> FieldRef { return &c.notify.console_url; }},
    KeyDef{"notify.templates_dir", [](Config& c) -> FieldRef { return &c.notify.templates_dir; }},
    KeyDef{"notify.rota_file", [](Config& c) -> FieldRef { return &c.notify.rota_file; }},
    KeyDef{"notify.retry_delays", [](Config& c) -> FieldRef { return &c.notify.retry_delays; }},
    KeyDef{"notify.quiet_hours", [](Config& c) -> FieldRef { return &c.notify.quiet_hours; }},
    KeyDef{"notify.renotify_after_minutes", [](Config& c) -> FieldRef { return &c.notify.renotify_after_minutes; }, 1,
           10080},
    KeyDef{"notify.send_interval_ms", [](Config& c) -> FieldRef { return &c.notify.send_interval_ms; }, 50, 600000},
    KeyDef{"notify.smtp_url", [](Config& c) -> FieldRef { return &c.notify.smtp_url; }},
    KeyDef{"notify.smtp_user", [](Config& c) -> FieldRef { return &c.notify.smtp_user; }},
    KeyDef{"notify.smtp_password_file", [](Config& c) -> FieldRef { return &c.notify.smtp_password_file; }},
    KeyDef{"notify.smtp_ca_file", [](Config& c) -> FieldRef { return &c.notify.smtp_ca_file; }},
    KeyDef{"notify.smtp_from", [](Config& c) -> FieldRef { return &c.notify.smtp_from; }},
    KeyDef{"notify.smtp_timeout_ms", [](Config& c) -> FieldRef { return &c.notify.smtp_timeout_ms; }, 100, 600000},
    KeyDef{"notify.sms_url", [](Config& c) -> FieldRef { return &c.notify.sms_url; }},
    KeyDef{"notify.sms_token_file", [](Config& c) -> FieldRef { return &c.notify.sms_token_file; }},
    KeyDef{"notify.sms_ca_file", [](Config& c) -> FieldRef { return &c.notify.sms_ca_file; }},
    KeyDef{"notify.sms_sender", [](Config& c) -> FieldRef { return &c.notify.sms_sender; }},
    KeyDef{"notify.sms_timeout_ms", [](Config& c) -> FieldRef { return &c.notify.sms_timeout_ms; }, 100, 600000},
};

const KeyDef* findKey(std::string_view key) {
  for (const auto& k : kKeys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

Error badValue(std::string_view where, std::string_view expected) {
  return Error::invalid("config.bad_value", "config: " + std::string(where) + ": expected " + std::string(expected));
}

std::string rangeText(const KeyDef& def) {
  return "an integer from " + std::to_string(def.min) + " to " + std::to_string(def.max);
}

Status setFromToml(Config& config, const KeyDef& def, const toml::node& node, std::string_view where) {
  return std::visit(
      [&](auto* field) -> Status {
        using T = std::remove_pointer_t<decltype(field)>;
        if constexpr (std::is_same_v<T, std::string>) {
          auto v = node.value<std::string>();
          if (!v || !node.is_string()) return badValue(where, "a string");
          *field = *v;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) return badValue(where, "true or false");
          *field = *node.value<bool>();
        } else {
          if (!node.is_integer()) return badValue(where, rangeText(def));
          auto v = *node.value<int64_t>();
          if (v < def.min || v > def.max) return badValue(where, rangeText(def));
          *field = static_cast<int>(v);
        }
        return {};
      },
      def.field(config));
}

Status setFromText(Config& config, const KeyDef& def, const std::string& text, std::string_view where) {
  return std::visit(
      [&](auto* field) -> Status {
        using T = std::remove_pointer_t<decltype(field)>;
        if constexpr (std::is_same_v<T, std::string>) {
          *field = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "1") {
            *field = true;
          } else if (text == "false" || text == "0") {
            *field = false;
          } else {
            return badValue(where, "true or false");
          }
        } else {
          int v = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
          if (ec != std::errc() || end != text.data() + text.size() || v < def.min || v > def.max) {
            return badValue(where, rangeText(def));
          }
          *field = v;
        }
        return {};
      },
      def.field(config));
}

Status applyFile(Config& config, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error::invalid("config.syntax", "config: " + path + ":" + std::to_string(where.line) + ":" +
                                               std::to_string(where.column) + ": " + std::string(e.description()));
  }
  for (const auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (table == nullptr) {
      return Error::invalid("config.unknown_key", "config: unknown key '" + std::string(section.str()) + "'");
    }
    for (const auto& [name, value] : *table) {
      std::string key = std::string(section.str()) + "." + std::string(name.str());
      const KeyDef* def = findKey(key);
      if (def == nullptr) {
        return Error::invalid("config.unknown_key", "config: unknown key '" + key + "'");
      }
      if (auto s = setFromToml(config, *def, value, key); !s) return s;
    }
  }
  return {};
}

Status applyEnvironment(Config& config, const EnvLookup& env) {
  // Aliases first, so the specific VKHID_SECTION_KEY form wins when both are set.
  const std::array<std::pair<const char*, const char*>, 2> aliases = {{
      {"VKHID_PG_URL", "database.url"},
      {"VKHID_AMQP_URL", "broker.url"},
  }};
  for (const auto& [name, key] : aliases) {
    if (auto v = env(name)) {
      if (auto s = setFromText(config, *findKey(key), *v, name); !s) return s;
    }
  }
  for (const auto& def : kKeys) {
    std::string name = envNameFor(def.key);
    if (auto v = env(name)) {
      if (auto s = setFromText(config, def, *v, name); !s) return s;
    }
  }
  return {};
}

Status validate(const Config& config) {
  static constexpr std::array kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), config.log.level) == kLevels.end()) {
    return badValue("log.level", "one of trace, debug, info, warn, error, critical, off");
  }
  if (!config.database.url.starts_with("postgresql://") && !config.database.url.starts_with("postgres://")) {
    return badValue("database.url", "a postgresql:// URL");
  }
  if (!config.database.read_url.empty() && !config.database.read_url.starts_with("postgresql://") &&
      !config.database.read_url.starts_with("postgres://")) {
    return badValue("database.read_url", "a postgresql:// URL of a replica, or empty (the primary)");
  }
  {
    std::string_view urls = config.broker.url;
    bool ok = !urls.empty();
    for (std::size_t at = 0; ok && at <= urls.size();) {
      auto comma = urls.find(',', at);
      auto one = urls.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      ok = one.starts_with("amqp://");
      if (comma == std::string_view::npos) break;
      at = comma + 1;
    }
    if (!ok) return badValue("broker.url", "an amqp:// URL, or several (a cluster's nodes) separated by commas");
  }
  if (config.broker.queue_type != "classic" && config.broker.queue_type != "quorum") {
    return badValue("broker.queue_type", "classic (one node) or quorum (a cluster)");
  }
  if (auto hp = parseHostPort(config.intake.listen); !hp) {
    return badValue("intake.listen", "host:port, e.g. 127.0.0.1:8443");
  }
  if (config.intake.tls_cert.empty() != config.intake.tls_key.empty()) {
    return badValue("intake.tls_key", "both intake.tls_cert and intake.tls_key, or neither");
  }
  if (config.admin.tls_cert.empty() != config.admin.tls_key.empty()) {
    return badValue("admin.tls_key", "both admin.tls_cert and admin.tls_key, or neither");
  }
  if (!config.admin.client_ca.empty() && config.admin.tls_cert.empty()) {
    return badValue("admin.client_ca", "admin.tls_cert and admin.tls_key as well: client certificates need TLS");
  }
  if (!config.intake.client_ca.empty() && config.intake.tls_cert.empty()) {
    return badValue("intake.client_ca", "intake.tls_cert and intake.tls_key as well: client certificates need TLS");
  }
  if (auto d = parseDelays(config.delivery.retry_delays); !d) {
    return badValue("delivery.retry_delays", "a comma-separated list of delays such as 10s,1m,10m,1h,6h");
  }
  if (auto d = parseDelays(config.notify.retry_delays); !d) {
    return badValue("notify.retry_delays", "a comma-separated list of delays such as 10s,1m,5m,30m,2h");
  }
  if (const auto& q = config.notify.quiet_hours;
      !q.empty() && (q.size() != 11 || q[2] != ':' || q[5] != '-' || q[8] != ':' ||
                     q.find_first_not_of("0123456789:-") != std::string::npos)) {
    return badValue("notify.quiet_hours", "HH:MM-HH:MM, Kyiv time (empty: none)");
  }
  if (!config.notify.smtp_url.empty() && !config.notify.smtp_url.starts_with("smtp://") &&
      !config.notify.smtp_url.starts_with("smtps://")) {
    return badValue("notify.smtp_url", "smtp://host:port (STARTTLS) or smtps://host:port");
  }
  if (!config.notify.sms_url.empty() && !config.notify.sms_url.starts_with("https://") &&
      !config.notify.sms_url.starts_with("http://")) {
    return badValue("notify.sms_url", "the provider's https:// address");
  }
  if (config.gateway.org_id.empty()) return badValue("gateway.org_id", "the UCC's EDRPOU code");
  if (auto hp = parseHostPort(config.admin.listen); !hp) {
    return badValue("admin.listen", "host:port, e.g. 127.0.0.1:8081");
  }
  return {};
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string envNameFor(std::string_view key) {
  std::string name = "VKHID_";
  for (char c : key) {
    name += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::vector<std::string> knownConfigKeys() {
  std::vector<std::string> keys;
  for (const auto& k : kKeys) keys.emplace_back(k.key);
  return keys;
}

Result<HostPort> parseHostPort(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error::invalid("config.bad_value", "expected host:port");
  }
  HostPort hp;
  hp.host = std::string(text.substr(0, colon));
  auto port = text.substr(colon + 1);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || end != port.data() + port.size() || v > 65535) {
    return Error::invalid("config.bad_value", "expected a port from 0 to 65535");
  }
  hp.port = static_cast<unsigned short>(v);
  return hp;
}

Result<std::vector<long long>> parseDelays(std::string_view text) {
  std::vector<long long> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    long long n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    std::string_view unit(end, static_cast<std::size_t>(item.data() + item.size() - end));
    long long scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "h" ? 3600000 : 0;
    if (ec != std::errc() || scale == 0 || n <= 0) {
      return Error::invalid("config.bad_value", "bad delay '" + std::string(item) + "'");
    }
    out.push_back(n * scale);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return Error::invalid("config.bad_value", "no delays");
  return out;
}

Result<Config> loadConfig(const std::optional<std::string>& path, const EnvLookup& env) {
  Config config;
  if (path) {
    if (auto s = applyFile(config, *path); !s) return s.error();
  }
  if (auto s = applyEnvironment(config, env); !s) return s.error();
  if (auto s = validate(config); !s) return s.error();
  if (config.gateway.instance.empty()) {
    std::array<char, 256> host{};
    gethostname(host.data(), host.size() - 1);
    config.gateway.instance = std::string(host.data()) + "-" + std::to_string(getpid());
  }
  return config;
}

}  // namespace vkhid::app
