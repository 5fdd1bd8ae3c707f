#include "gateway/flows/participants.hpp"
#include "gateway/flows/participants_internal.hpp"

#include <toml++/toml.h>

#include <boost/json.hpp>
#include <set>

#include "gateway/app/logging.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"

namespace vkhid::flows {

namespace json = boost::json;

namespace participant_detail {

Error invalid(const std::string& what) { return Error::invalid("participant.invalid", what); }
Error transition(const std::string& what) { return Error::invalid("participant.transition", what); }

Status alert(store::PgConnection& db, const std::string& key, const std::string& message_id, json::object body) {
  return enqueueOutbox(db, bus::names::kAlerts, key, message_id, json::serialize(body));
}

Result<json::array> contactsOf(store::PgConnection& db, const std::string& org_id) {
  auto r = db.exec("SELECT contacts::text FROM participant WHERE org_id = $1", {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return Error::invalid("participant.unknown", "no participant " + org_id);
  return json::parse(r->get(0, 0)).as_array();
}

}  // namespace participant_detail

using namespace participant_detail;

namespace {

// What a participant's signatures are judged against, in words: its pinned list, or the global one.
std::string trustListText(const std::string& pinned) {
  if (pinned.empty()) return "global (trust.qualified_lists)";
  crypto::TrustStore list;
  (void)list.addAny(pinned);
  return "pinned: " + std::to_string(list.size()) + " certificates";
}

}  // namespace

Status setActor(store::PgConnection& db, const std::string& actor) {
  auto r = db.exec("SELECT set_config('vkhid.actor', $1, false)", {actor});
  return r ? Status() : Status(r.error());
}

Result<std::string> saveParticipant(store::PgConnection& db, std::string_view text, const std::string& source,
                                    const SaveOptions& options) {
  auto read = readParticipantFile(text, source);
  if (!read) return read.error();
  const ParticipantFile& p = *read;
  const std::string& org = p.org_id;

  std::string status;
  Status done = store::inTransaction(db, [&]() -> Status {
    auto existing = db.exec("SELECT status FROM participant WHERE org_id = $1 FOR UPDATE", {org});
    if (!existing) return existing.error();
    bool complete = !p.endpoints.empty() && !p.trust_pem.empty();
    if (existing->rows() > 0) {
      status = std::string(existing->get(0, 0));
      if (status == "retired") return transition("participant " + org + " is retired; it cannot be changed");
      if (status == "draft" && complete) status = "pending_check";
    } else {
      status = !p.wanted_status.empty() ? p.wanted_status : complete ? "pending_check" : "draft";
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
        {org, p.sys_id, p.name, p.system_name, p.kinds, p.own_channel ? "true" : "false",
         p.require_seal ? "true" : "false",
         p.trust_list ? std::optional<std::string>(byteaHex(*p.trust_list)) : std::nullopt, p.trust_pem,
         p.transport_user, status, p.full_name, p.short_name, p.memorandum_number, p.memorandum_date, p.contacts,
         options.skip_check ? std::optional<std::string>("activated without a connectivity check (--skip-check)")
                            : std::nullopt,
         options.skip_check ? "true" : "false"});
    if (!r) return r.error();
    auto d = db.exec("UPDATE endpoint SET active = false WHERE org_id = $1 AND active", {org});
    if (!d) return d.error();
    for (const auto& [adapter, settings] : p.endpoints) {
      auto ins = db.exec("INSERT INTO endpoint (org_id, adapter, settings) VALUES ($1, $2, $3::jsonb)",
                         {org, adapter, settings});
      if (!ins) return ins.error();
    }
    for (const auto& c : p.certs) {
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
