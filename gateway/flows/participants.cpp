#include "gateway/flows/participants.hpp"

#include <toml++/toml.h>

#include <boost/json.hpp>
#include <set>
#include <thread>

#include "adapters/probe/tcp_probe.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

Error invalid(const std::string& what) { return Error::invalid("participant.invalid", what); }
Error transition(const std::string& what) { return Error::invalid("participant.transition", what); }

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// A PEM from `<key>_file` (read from disk) or `<key>_pem` (inline); empty when neither is given.
Result<std::string> pemOf(const toml::table& t, const std::string& key) {
  if (auto inline_pem = t[key + "_pem"].value<std::string>()) return *inline_pem;
  auto file = t[key + "_file"].value_or(std::string());
  if (file.empty()) return std::string();
  auto pem = crypto::readFile(file);
  if (!pem) return invalid(key + "_file: " + pem.error().message);
  return *pem;
}

// What a participant's signatures are judged against, in words: its pinned list, or the global one.
std::string trustListText(const std::string& pinned) {
  if (pinned.empty()) return "global (trust.qualified_lists)";
  crypto::TrustStore list;
  (void)list.addAny(pinned);
  return "pinned: " + std::to_string(list.size()) + " certificates";
}

struct CertRow {
  std::string purpose, pem, sha256, subject, not_after;
};

// A registered certificate: one certificate, of this organisation, chained to its trust anchor now.
Result<CertRow> registeredCert(const std::string& key, const std::string& purpose, const std::string& pem,
                               const std::string& org_id, const crypto::TrustStore* trust) {
  auto certs = crypto::certificatesFromPem(pem);
  if (!certs) return invalid(key + ": " + certs.error().message);
  if (certs->empty()) return invalid(key + ": no certificate in it");
  X509* cert = (*certs)[0].get();
  auto info = crypto::describe(cert);
  if (purpose == "seal" && !info.org_id.empty() && info.org_id != org_id) {
    return invalid(key + ": the certificate is of organisation " + info.org_id + ", not " + org_id);
  }
  if (trust != nullptr && trust->size() > 0) {
    if (auto s = trust->verifyChain(cert, {}, std::time(nullptr)); !s) {
      return invalid(key + ": does not chain to trust_ca_file now: " + s.error().message);
    }
  }
  return CertRow{purpose, pem, info.sha256, info.subject, info.not_after};
}

Status alert(store::PgConnection& db, const std::string& key, const std::string& message_id, json::object body) {
  return enqueueOutbox(db, bus::names::kAlerts, key, message_id, json::serialize(body));
}

Result<json::array> contactsOf(store::PgConnection& db, const std::string& org_id) {
  auto r = db.exec("SELECT contacts::text FROM participant WHERE org_id = $1", {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
  return json::parse(r->get(0, 0)).as_array();
}

}  // namespace

Status setActor(store::PgConnection& db, const std::string& actor) {
  auto r = db.exec("SELECT set_config('vkhid.actor', $1, false)", {actor});
  return r ? Status() : Status(r.error());
}

Result<std::string> saveParticipant(store::PgConnection& db, std::string_view text, const std::string& source,
                                    const SaveOptions& options) {
  toml::table t;
  try {
    t = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return invalid(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  static const std::set<std::string> known = {"org_id",
                                              "sys_id",
                                              "name",
                                              "system_name",
                                              "full_name",
                                              "short_name",
                                              "memorandum_number",
                                              "memorandum_date",
                                              "kinds",
                                              "own_channel",
                                              "require_seal",
                                              "trust_list_file",
                                              "trust_ca_file",
                                              "trust_ca_pem",
                                              "seal_cert_file",
                                              "seal_cert_pem",
                                              "tls_cert_file",
                                              "tls_cert_pem",
                                              "transport_user",
                                              "status",
                                              "contact",
                                              "endpoint"};
  for (const auto& [k, v] : t) {
    if (k.str() == "accept_unsupported_signatures") {
      return invalid(source +
                     ": accept_unsupported_signatures is no longer a setting: DSTU 4145, ECDSA and RSA qualified "
                     "signatures are verified against the qualified providers' trust list (the gateway's "
                     "trust.qualified_lists, or this participant's own with trust_list_file = \"….p7b\"); remove "
                     "the key");
    }
    if (!known.count(std::string(k.str()))) return invalid(source + ": unknown key '" + std::string(k.str()) + "'");
  }
  auto str = [&](const char* k) { return t[k].value_or(std::string()); };
  std::string org = str("org_id");
  if (org.empty() || str("sys_id").empty() || str("name").empty()) {
    return invalid(source + ": org_id, sys_id and name are required");
  }
  if (org.size() < 8 || org.size() > 10 || org.find_first_not_of("0123456789") != std::string::npos) {
    return invalid(source + ": org_id: an EDRPOU code (8 to 10 digits)");
  }
  std::string wanted_status = str("status");
  if (!wanted_status.empty() && wanted_status != "draft" && wanted_status != "pending_check") {
    return invalid(source +
                   ": status: draft or pending_check (a participant becomes active by `participant "
                   "activate` after a passed check)");
  }
  auto trust_pem = pemOf(t, "trust_ca");
  if (!trust_pem) return trust_pem.error();
  // A trust list of qualified providers pinned for this participant, as published (PKCS#7 bundle,
  // DER or PEM certificates): its attachment signatures are judged against it instead of the global one.
  std::optional<std::string> trust_list;
  if (auto file = t["trust_list_file"].value<std::string>()) {
    auto bytes = crypto::readFile(*file);
    if (!bytes) return invalid("trust_list_file: " + bytes.error().message);
    crypto::TrustStore list;
    if (auto s = list.addAny(*bytes); !s || list.size() == 0) {
      return invalid("trust_list_file: " + (s ? std::string("no certificate in it") : s.error().message));
    }
    trust_list = std::move(bytes).value();
  }
  crypto::TrustStore trust;
  if (!trust_pem->empty()) {
    if (auto certs = crypto::certificatesFromPem(*trust_pem); !certs) {
      return invalid("trust_ca_file: " + certs.error().message);
    }
    (void)trust.addPem(*trust_pem);
  }
  std::vector<CertRow> certs;
  for (const auto& [key, purpose] : {std::pair{"seal_cert", "seal"}, std::pair{"tls_cert", "tls"}}) {
    auto pem = pemOf(t, key);
    if (!pem) return pem.error();
    if (pem->empty()) continue;
    auto row = registeredCert(std::string(key) + "_file", purpose, *pem, org, &trust);
    if (!row) return row.error();
    certs.push_back(std::move(row).value());
  }
  std::string kinds = "{appeal,info_request,violence_report}";
  if (auto* arr = t["kinds"].as_array()) {
    kinds = "{";
    for (std::size_t i = 0; i < arr->size(); ++i) {
      std::string k = (*arr)[i].value_or(std::string());
      if (!domain::caseKindFromName(k)) return invalid(source + ": kinds: appeal, info_request or violence_report");
      kinds += (i ? "," : "") + k;
    }
    kinds += "}";
  }
  json::array contacts;
  if (auto* arr = t["contact"].as_array()) {
    for (const auto& c : *arr) {
      const auto* ct = c.as_table();
      if (ct == nullptr) return invalid(source + ": [[contact]] must be a table");
      json::object o;
      for (const char* k : {"name", "email", "phone", "role"}) {
        if (auto v = (*ct)[k].value<std::string>()) o[k] = *v;
      }
      contacts.push_back(std::move(o));
    }
  }
  std::optional<std::string> memorandum_date;
  if (auto d = t["memorandum_date"].as_date()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d->get().year, d->get().month, d->get().day);
    memorandum_date = buf;
  } else if (auto s = t["memorandum_date"].value<std::string>()) {
    memorandum_date = *s;
  }
  std::vector<std::pair<std::string, std::string>> endpoints;  // adapter, settings JSON
  if (auto* arr = t["endpoint"].as_array()) {
    for (const auto& e : *arr) {
      const auto* table = e.as_table();
      if (table == nullptr) return invalid(source + ": [[endpoint]] must be a table");
      json::object settings;
      std::string adapter;
      for (const auto& [k, v] : *table) {
        if (k.str() == "adapter") {
          adapter = v.value_or(std::string());
        } else {
          settings[std::string(k.str())] = v.value_or(std::string());
        }
      }
      if (adapter.empty()) return invalid(source + ": [[endpoint]]: adapter is required");
      endpoints.emplace_back(adapter, json::serialize(settings));
    }
  }

  std::string status;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto existing = db.exec("SELECT status FROM participant WHERE org_id = $1 FOR UPDATE", {org});
    if (!existing) return existing.error();
    bool complete = !endpoints.empty() && !trust_pem->empty();
    if (existing->rows() > 0) {
      status = std::string(existing->get(0, 0));
      if (status == "retired") return transition("participant " + org + " is retired; it cannot be changed");
      if (status == "draft" && complete) status = "pending_check";
    } else {
      status = !wanted_status.empty() ? wanted_status : complete ? "pending_check" : "draft";
      if (status == "pending_check" && !complete) status = "draft";
    }
    if (options.skip_check) status = "active";
    auto r = db.exec(
        "INSERT INTO participant (org_id, sys_id, name, system_name, kinds, own_channel, require_seal, "
        "trust_list, trust_pem, transport_user, status, full_name, short_name, memorandum_number, "
        "memorandum_date, contacts, status_reason, checked_at) VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8::bytea, "
        "$9, "
        "NULLIF($10, ''), $11, $12, $13, $14, $15::date, $16::jsonb, $17, CASE WHEN $18 THEN now() END) "
        "ON CONFLICT (org_id) DO UPDATE SET sys_id = excluded.sys_id, name = excluded.name, system_name = "
        "excluded.system_name, kinds = excluded.kinds, own_channel = excluded.own_channel, require_seal = "
        "excluded.require_seal, trust_list = excluded.trust_list, trust_pem = "
        "excluded.trust_pem, transport_user = excluded.transport_user, status = excluded.status, full_name = "
        "excluded.full_name, short_name = excluded.short_name, memorandum_number = excluded.memorandum_number, "
        "memorandum_date = excluded.memorandum_date, contacts = excluded.contacts, status_reason = "
        "coalesce(excluded.status_reason, participant.status_reason), checked_at = coalesce(excluded.checked_at, "
        "participant.checked_at), changed_at = now(), updated_at = now()",
        {org, str("sys_id"), str("name"), str("system_name"), kinds,
         t["own_channel"].value_or(false) ? "true" : "false", t["require_seal"].value_or(true) ? "true" : "false",
         trust_list ? std::optional<std::string>(byteaHex(*trust_list)) : std::nullopt, *trust_pem,
         str("transport_user"), status, str("full_name"), str("short_name"), str("memorandum_number"), memorandum_date,
         json::serialize(contacts),
         options.skip_check ? std::optional<std::string>("activated without a connectivity check (--skip-check)")
                            : std::nullopt,
         options.skip_check ? "true" : "false"});
    if (!r) return r.error();
    auto d = db.exec("UPDATE endpoint SET active = false WHERE org_id = $1 AND active", {org});
    if (!d) return d.error();
    for (const auto& [adapter, settings] : endpoints) {
      auto ins = db.exec("INSERT INTO endpoint (org_id, adapter, settings) VALUES ($1, $2, $3::jsonb)",
                         {org, adapter, settings});
      if (!ins) return ins.error();
    }
    for (const auto& c : certs) {
      auto ins = db.exec(
          "INSERT INTO participant_cert (org_id, purpose, pem, sha256, subject, not_after) VALUES ($1, $2, $3, $4, $5, "
          "$6::timestamptz) ON CONFLICT (org_id, sha256) DO NOTHING",
          {org, c.purpose, c.pem, c.sha256, c.subject, c.not_after});
      if (!ins) return ins.error();
    }
    return {};
  });
  if (!done) return done.error();
  return status;
}

Result<std::string> listParticipants(store::PgConnection& db) {
  auto r = db.exec(
      "SELECT p.org_id, p.name, p.short_name, p.status, coalesce(p.status_reason, ''), "
      "coalesce((SELECT string_agg(adapter, ',') FROM endpoint e WHERE e.org_id = p.org_id AND e.active), ''), "
      "coalesce(to_char(p.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
      "p.checked_at IS NOT NULL AND p.checked_at >= p.changed_at, "
      "coalesce((SELECT to_char(min(c.not_after) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM participant_cert c WHERE c.org_id = p.org_id AND c.purpose = 'seal' AND c.retire_after IS NULL), '') "
      "FROM participant p ORDER BY p.org_id");
  if (!r) return r.error();
  json::array out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(json::object{{"org_id", r->get(i, 0)},
                               {"name", r->get(i, 1)},
                               {"short_name", r->get(i, 2)},
                               {"status", r->get(i, 3)},
                               {"status_reason", r->get(i, 4)},
                               {"adapters", r->get(i, 5)},
                               {"checked_at", r->get(i, 6)},
                               {"ready_for_activation", r->get(i, 7) == "t"},
                               {"seal_cert_not_after", r->get(i, 8)}});
  }
  return json::serialize(out);
}

Result<std::string> showParticipant(store::PgConnection& db, const std::string& org_id) {
  auto r = db.exec(
      "SELECT org_id, sys_id, name, system_name, full_name, short_name, memorandum_number, "
      "coalesce(memorandum_date::text, ''), kinds::text, own_channel, require_seal, coalesce(trust_list, ''::bytea), "
      "status, coalesce(status_reason, ''), contacts::text, coalesce(transport_user, ''), "
      "checked_at IS NOT NULL AND checked_at >= changed_at FROM participant WHERE org_id = $1",
      {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
  json::object o{{"org_id", r->get(0, 0)},
                 {"sys_id", r->get(0, 1)},
                 {"name", r->get(0, 2)},
                 {"system_name", r->get(0, 3)},
                 {"full_name", r->get(0, 4)},
                 {"short_name", r->get(0, 5)},
                 {"memorandum_number", r->get(0, 6)},
                 {"memorandum_date", r->get(0, 7)},
                 {"kinds", r->get(0, 8)},
                 {"own_channel", r->get(0, 9) == "t"},
                 {"require_seal", r->get(0, 10) == "t"},
                 {"trust_list", trustListText(fromByteaHex(r->get(0, 11)))},
                 {"status", r->get(0, 12)},
                 {"status_reason", r->get(0, 13)},
                 {"contacts", json::parse(r->get(0, 14))},
                 {"transport_user", r->get(0, 15)},
                 {"ready_for_activation", r->get(0, 16) == "t"}};
  auto e =
      db.exec("SELECT id, adapter, settings::text FROM endpoint WHERE org_id = $1 AND active ORDER BY id", {org_id});
  if (!e) return e.error();
  json::array endpoints;
  for (int i = 0; i < e->rows(); ++i) {
    endpoints.push_back(
        json::object{{"id", e->getInt(i, 0)}, {"adapter", e->get(i, 1)}, {"settings", json::parse(e->get(i, 2))}});
  }
  o["endpoints"] = std::move(endpoints);
  auto c = db.exec(
      "SELECT purpose, sha256, subject, to_char(not_after AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "coalesce(to_char(retire_after AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
      "(retire_after IS NULL OR retire_after > now()) FROM participant_cert WHERE org_id = $1 ORDER BY id",
      {org_id});
  if (!c) return c.error();
  json::array certs;
  for (int i = 0; i < c->rows(); ++i) {
    certs.push_back(json::object{{"purpose", c->get(i, 0)},
                                 {"sha256", c->get(i, 1)},
                                 {"subject", c->get(i, 2)},
                                 {"not_after", c->get(i, 3)},
                                 {"retire_after", c->get(i, 4)},
                                 {"in_use", c->get(i, 5) == "t"}});
  }
  o["certificates"] = std::move(certs);
  auto k = db.exec(
      "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), passed, report::text FROM "
      "participant_check WHERE org_id = $1 ORDER BY id DESC LIMIT 1",
      {org_id});
  if (!k) return k.error();
  if (k->rows() > 0) {
    o["last_check"] =
        json::object{{"at", k->get(0, 0)}, {"passed", k->get(0, 1) == "t"}, {"report", json::parse(k->get(0, 2))}};
  }
  return json::serialize(o);
}

namespace {

Status changeStatus(store::PgConnection& db, const std::string& org_id, const std::set<std::string>& from,
                    const std::string& to, const std::string& reason,
                    const std::function<Status(const std::string&)>& more) {
  return store::inTransaction(db, [&]() -> Status {
    auto r = db.exec("SELECT status FROM participant WHERE org_id = $1 FOR UPDATE", {org_id});
    if (!r) return r.error();
    if (r->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
    std::string status(r->get(0, 0));
    if (!from.count(status)) {
      std::string allowed;
      for (const auto& s : from) allowed += (allowed.empty() ? "" : ", ") + s;
      return transition("participant " + org_id + " is " + status + "; it can become " + to + " only from " + allowed);
    }
    if (more) {
      if (auto s = more(status); !s) return s;
    }
    auto u = db.exec(
        "UPDATE participant SET status = $2, status_reason = NULLIF($3, ''), updated_at = now() WHERE "
        "org_id = $1",
        {org_id, to, reason});
    if (!u) return u.error();
    auto contacts = contactsOf(db, org_id);
    if (!contacts) return contacts.error();
    json::array notify{"ucc:coordinator"};
    for (const auto& c : *contacts) notify.push_back(c);
    return alert(
        db, "participant." + to, "participant:" + org_id + ":" + to + ":" + std::to_string(std::time(nullptr)),
        json::object{{"org_id", org_id}, {"from", status}, {"to", to}, {"reason", reason}, {"notify", notify}});
  });
}

}  // namespace

Status activateParticipant(store::PgConnection& db, const std::string& org_id, bool force) {
  return changeStatus(db, org_id, {"pending_check", "suspended"}, "active",
                      force ? "activated without a passed check (--force)" : "", [&](const std::string&) -> Status {
                        if (force) return {};
                        auto c = db.exec(
                            "SELECT checked_at IS NOT NULL AND checked_at >= changed_at FROM participant WHERE "
                            "org_id = $1",
                            {org_id});
                        if (!c) return c.error();
                        if (c->get(0, 0) != "t") {
                          return transition("participant " + org_id +
                                            " has no passed connectivity check since its last change; run `vkhid "
                                            "participant check " +
                                            org_id + "` first");
                        }
                        return {};
                      });
}

Status suspendParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason) {
  if (reason.empty()) return invalid("a suspension needs a reason (--reason)");
  return changeStatus(db, org_id, {"active"}, "suspended", reason, {});
}

Status retireParticipant(store::PgConnection& db, const std::string& org_id, const std::string& reason) {
  return changeStatus(db, org_id, {"draft", "pending_check", "active", "suspended"}, "retired", reason, {});
}

Result<std::string> rotateCertificate(store::PgConnection& db, const std::string& org_id, const std::string& pem,
                                      const std::string& purpose, int overlap_days) {
  if (purpose != "seal" && purpose != "tls") return invalid("--purpose: seal or tls");
  if (overlap_days < 0) return invalid("--overlap-days: zero or more");
  auto p = db.exec("SELECT trust_pem, status FROM participant WHERE org_id = $1", {org_id});
  if (!p) return p.error();
  if (p->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
  crypto::TrustStore trust;
  if (!p->get(0, 0).empty()) (void)trust.addPem(p->get(0, 0));
  auto row = registeredCert("--cert", purpose, pem, org_id, &trust);
  if (!row) return row.error();
  Status done = store::inTransaction(db, [&]() -> Status {
    auto old = db.exec(
        "UPDATE participant_cert SET retire_after = now() + make_interval(days => $3::int) WHERE org_id = $1 AND "
        "purpose = $2 AND retire_after IS NULL AND sha256 <> $4",
        {org_id, purpose, std::to_string(overlap_days), row->sha256});
    if (!old) return old.error();
    auto ins = db.exec(
        "INSERT INTO participant_cert (org_id, purpose, pem, sha256, subject, not_after) VALUES ($1, $2, $3, $4, $5, "
        "$6::timestamptz) ON CONFLICT (org_id, sha256) DO UPDATE SET retire_after = NULL",
        {org_id, purpose, row->pem, row->sha256, row->subject, row->not_after});
    if (!ins) return ins.error();
    auto u = db.exec("UPDATE participant SET changed_at = now(), updated_at = now() WHERE org_id = $1", {org_id});
    return u ? Status() : Status(u.error());
  });
  if (!done) return done.error();
  return row->sha256;
}

std::string CheckReport::json() const {
  json::array steps_json;
  for (const auto& s : steps) {
    steps_json.push_back(json::object{{"step", s.name}, {"result", s.result}, {"detail", s.detail}, {"ms", s.ms}});
  }
  return json::serialize(json::object{{"passed", passed}, {"steps", std::move(steps_json)}});
}

std::string CheckReport::text() const {
  std::string out;
  int width = 10;
  for (const auto& s : steps) width = std::max(width, static_cast<int>(s.name.size()));
  char line[1024];
  for (const auto& s : steps) {
    std::snprintf(line, sizeof line, "  %-*s %-8s %6lld ms  %s\n", width, s.name.c_str(), s.result.c_str(), s.ms,
                  s.detail.c_str());
    out += line;
  }
  out += passed ? passed_text + "\n" : failed_text + "\n";
  return out;
}

Result<ParticipantEndpoint> participantEndpoint(ExchangeContext& ctx, store::PgConnection& db,
                                                const std::string& org_id) {
  auto p = db.exec(
      "SELECT p.name, p.sys_id, p.system_name, p.status, e.adapter, e.settings::text FROM participant p "
      "LEFT JOIN LATERAL (SELECT adapter, settings FROM endpoint WHERE org_id = p.org_id AND active ORDER BY id "
      "LIMIT 1) e ON true WHERE p.org_id = $1",
      {org_id});
  if (!p) return p.error();
  if (p->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
  if (p->get(0, 3) == "retired") return transition("participant " + org_id + " is retired");
  if (p->isNull(0, 4)) return Error::invalid("participant.no_endpoint", "no active endpoint registered");
  ParticipantEndpoint out;
  out.endpoint = endpointFrom(org_id, std::string(p->get(0, 4)), p->get(0, 5));
  out.adapter = ctx.adapter(out.endpoint.adapter);
  if (out.adapter == nullptr) {
    return Error::invalid("participant.no_endpoint", "no adapter named '" + out.endpoint.adapter + "'");
  }
  out.party = {org_id, std::string(p->get(0, 0)), std::string(p->get(0, 1)), std::string(p->get(0, 2))};
  return out;
}

Result<CheckReport> checkParticipant(ExchangeContext& ctx, const std::string& org_id,
                                     std::chrono::seconds receipt_timeout) {
  auto db = ctx.pool.acquire();
  if (!db) return db.error();
  auto target = participantEndpoint(ctx, **db, org_id);
  if (!target && target.error().code != "participant.no_endpoint") return target.error();
  CheckReport report;
  auto step = [&](std::string name, std::string result, std::string detail, Clock::time_point t0) {
    report.steps.push_back({std::move(name), std::move(result), std::move(detail), msSince(t0)});
    return report.steps.back().result != "failed";
  };
  auto finish = [&]() -> Result<CheckReport> {
    report.passed =
        std::all_of(report.steps.begin(), report.steps.end(), [](const CheckStep& s) { return s.result != "failed"; });
    Status saved = store::inTransaction(**db, [&]() -> Status {
      auto ins = (*db)->exec("INSERT INTO participant_check (org_id, passed, report) VALUES ($1, $2, $3::jsonb)",
                             {org_id, report.passed ? "true" : "false", report.json()});
      if (!ins) return ins.error();
      if (report.passed) {
        auto u = (*db)->exec("UPDATE participant SET checked_at = now() WHERE org_id = $1", {org_id});
        return u ? Status() : Status(u.error());
      }
      // A failed onboarding is told to the participant's contacts, with the reason.
      auto contacts = contactsOf(**db, org_id);
      if (!contacts) return contacts.error();
      json::array notify{"ucc:coordinator"};
      for (const auto& c : *contacts) notify.push_back(c);
      const CheckStep& failed = *std::find_if(report.steps.begin(), report.steps.end(),
                                              [](const CheckStep& s) { return s.result == "failed"; });
      return alert(
          **db, "participant.check_failed", "participant:" + org_id + ":check:" + std::to_string(std::time(nullptr)),
          json::object{{"org_id", org_id}, {"step", failed.name}, {"reason", failed.detail}, {"notify", notify}});
    });
    if (!saved) return saved.error();
    return report;
  };
  auto t0 = Clock::now();
  if (!target) {
    step("endpoint", "failed", target.error().message, t0);
    return finish();
  }
  const auto& endpoint = target->endpoint;
  auto* adapter = target->adapter;

  // Where the bytes go: the participant's URL, or (amqp) the UCC's broker that holds its queues.
  std::string url = endpoint.setting("url", endpoint.adapter == "amqp" ? ctx.config.broker.url : "");
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto at = rest.find('@'); at != std::string::npos) rest = rest.substr(at + 1);
  rest = rest.substr(0, rest.find('/'));
  if (auto a = adapter->address(endpoint); !a.empty()) rest = a;
  std::string host = rest.substr(0, rest.rfind(':')), port = rest.substr(rest.rfind(':') + 1);

  t0 = Clock::now();
  auto reach = adapters::probeTcp(host, port, std::chrono::seconds(5));
  if (!step("resolve", reach.resolved ? "ok" : "failed", reach.resolutionText(host), t0)) return finish();
  t0 = Clock::now();
  if (!step("tcp", reach.connected() ? "ok" : "failed", reach.connectionText(port), t0)) return finish();
  t0 = Clock::now();
  auto handshake = adapter->probeTls(endpoint);
  if (!handshake.used) {
    step("tls", "skipped", "not used: " + endpoint.adapter + " to " + rest + " runs without TLS", t0);
  } else if (!step("tls", handshake.ok ? "ok" : "failed", handshake.detail, t0)) {
    return finish();
  }

  // A signed test package, stored like any other message so the receipt finds it.
  t0 = Clock::now();
  domain::Case probe;
  probe.id = newUuid();
  probe.ucc_number = "ПЕРЕВІРКА-" + probe.id.substr(0, 8);
  probe.registered_on = formatIsoUtc(std::time(nullptr)).substr(0, 10);
  probe.applicant.anonymous = true;
  probe.text = "Перевірка з'єднання з обміном Урядового контактного центру. Відповідати не потрібно.";
  probe.channel = "check";
  probe.received_at = formatIsoUtc(std::time(nullptr));
  std::string msg_id = newUuid();
  sev::Envelope env{ctx.ucc, target->party, msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildAppealPackage(probe, env);
  header.document->attrs.kind = std::string(sev::kCheckDocumentKind);
  header.document->attrs.title = "Тестовий пакет перевірки з'єднання";
  if (header.expansion) header.expansion->appeal.reset();
  if (auto s = crypto::signAttachments(header, ctx.signer); !s) return s.error();
  auto bytes = crypto::sealedPackage(header, ctx.signer);
  if (!bytes) return bytes.error();
  auto ins = (*db)->exec(
      "INSERT INTO message (msg_id, direction, peer_org_id, msg_type, bytes, sha256, status, attempts) VALUES ($1, "
      "'out', $2, 1, $3::bytea, $4, 'checking', 1)",
      {msg_id, org_id, byteaHex(*bytes), sha256Hex(*bytes)});
  if (!ins) return ins.error();
  auto outcome = adapter->deliver(*bytes, msg_id, endpoint);
  bool accepted = outcome.kind == adapters::DeliveryOutcome::Kind::Delivered;
  // Not a delivery of the exchange: its package is never retried, and one refused is no dead delivery to
  // replay (the check's report says what failed).
  (void)(*db)->exec("UPDATE message SET status = $2, last_error = NULLIF($3, ''), updated_at = now() WHERE msg_id = $1",
                    {msg_id, accepted ? "sent" : "check_failed", outcome.detail});
  if (!step("accepted", accepted ? "ok" : "failed",
            accepted ? "test package " + msg_id + " taken by the " + endpoint.adapter + " endpoint"
                     : "not taken: " + outcome.detail,
            t0)) {
    return finish();
  }

  // The participant's receipt, as a running gateway took it in.
  t0 = Clock::now();
  const auto deadline = Clock::now() + receipt_timeout;
  std::optional<store::PgResult> got;
  while (Clock::now() < deadline) {
    auto r = (*db)->exec(
        "SELECT status, coalesce(seal_verdict, ''), coalesce(error_code, 0), coalesce(last_error, ''), "
        "coalesce(ack_type, 0) FROM message WHERE direction = 'in' AND ref_msg_id = $1::uuid ORDER BY created_at "
        "LIMIT 1",
        {msg_id});
    if (!r) return r.error();
    if (r->rows() > 0) {
      got = std::move(r).value();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!got) {
    step("receipt", "failed",
         "no receipt within " + std::to_string(receipt_timeout.count()) +
             " s (is the participant's EDMS answering, and a gateway running to take it in?)",
         t0);
    return finish();
  }
  step("receipt", "ok", "receipt (ack_type " + std::string(got->get(0, 4)) + ") received", t0);
  t0 = Clock::now();
  if (got->get(0, 0) == "applied" && got->get(0, 1) == "valid") {
    step("signature", "ok", "sealed by a certificate registered for " + org_id, t0);
  } else if (got->get(0, 0) == "applied" && got->get(0, 1) == "missing") {
    // Taken without a seal: the participant is registered with require_seal = false (as real SEV OVV 1.5
    // systems send), so only its transport vouches for a receipt; its files' signatures are checked
    // when it answers.
    step("signature", "ok", "no seal (require_seal = false): the transport's identity vouches for the receipt", t0);
  } else {
    step("signature", "failed",
         "refused with code " + std::string(got->get(0, 2)) + ": " + std::string(got->get(0, 3)) + " (seal " +
             std::string(got->get(0, 1)) + ")",
         t0);
  }
  return finish();
}

Result<int> warnExpiringCertificates(store::PgConnection& db) {
  int warned = 0;
  for (const auto& [days, column] : {std::pair{30, "warned_30"}, std::pair{7, "warned_7"}}) {
    Status s = store::inTransaction(db, [&]() -> Status {
      auto r = db.exec(std::string("UPDATE participant_cert c SET ") + column +
                           " = true FROM participant p WHERE p.org_id = c.org_id AND p.status <> 'retired' AND NOT c." +
                           column +
                           " AND (c.retire_after IS NULL OR c.retire_after > now()) AND c.not_after < now() + "
                           "make_interval(days => " +
                           std::to_string(days) +
                           ") RETURNING c.org_id, c.purpose, c.sha256, to_char(c.not_after AT TIME ZONE 'UTC', "
                           "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), p.contacts::text",
                       {});
      if (!r) return r.error();
      for (int i = 0; i < r->rows(); ++i) {
        json::array notify{"ucc:coordinator"};
        json::value contacts = json::parse(r->get(i, 4));
        for (const auto& c : contacts.as_array()) notify.push_back(c);
        if (auto a = alert(db, "certificate.expiring",
                           std::string("cert:") + std::string(r->get(i, 2)) + ":" + std::to_string(days),
                           json::object{{"org_id", r->get(i, 0)},
                                        {"purpose", r->get(i, 1)},
                                        {"sha256", r->get(i, 2)},
                                        {"not_after", r->get(i, 3)},
                                        {"within_days", days},
                                        {"notify", notify}});
            !a) {
          return a;
        }
        ++warned;
      }
      return {};
    });
    if (!s) return s.error();
  }
  return warned;
}

}  // namespace vkhid::flows
