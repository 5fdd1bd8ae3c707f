#include "gateway/store/participant_registry.hpp"

namespace vkhid::store {

namespace {

// A timestamp column as ISO 8601 UTC, empty for none.
std::string isoUtc(const std::string& column) {
  return "coalesce(to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";
}

Status done(const Result<PgResult>& r) { return r ? Status() : Status(r.error()); }

}  // namespace

Result<std::optional<std::string>> lockParticipant(PgConnection& db, const std::string& org_id) {
  auto r = db.exec("SELECT status FROM participant WHERE org_id = $1 FOR UPDATE", {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->get(0, 0));
}

Status saveParticipantRecord(PgConnection& db, const ParticipantRecord& p) {
  return done(db.exec(
      "INSERT INTO participant (org_id, sys_id, name, system_name, kinds, own_channel, require_seal, "
      "trust_list, trust_pem, transport_user, status, full_name, short_name, memorandum_number, "
      "memorandum_date, contacts, status_reason, checked_at) VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8::bytea, "
      "$9, NULLIF($10, ''), $11, $12, $13, $14, $15::date, $16::jsonb, $17, CASE WHEN $18 THEN now() END) "
      "ON CONFLICT (org_id) DO UPDATE SET sys_id = excluded.sys_id, name = excluded.name, system_name = "
      "excluded.system_name, kinds = excluded.kinds, own_channel = excluded.own_channel, require_seal = "
      "excluded.require_seal, trust_list = excluded.trust_list, trust_pem = "
      "excluded.trust_pem, transport_user = excluded.transport_user, status = excluded.status, full_name = "
      "excluded.full_name, short_name = excluded.short_name, memorandum_number = excluded.memorandum_number, "
      "memorandum_date = excluded.memorandum_date, contacts = excluded.contacts, status_reason = "
      "coalesce(excluded.status_reason, participant.status_reason), checked_at = coalesce(excluded.checked_at, "
      "participant.checked_at), changed_at = now(), updated_at = now()",
      {p.org_id, p.sys_id, p.name, p.system_name, p.kinds, p.own_channel ? "true" : "false",
       p.require_seal ? "true" : "false",
       p.trust_list ? std::optional<std::string>(byteaHex(*p.trust_list)) : std::nullopt, p.trust_pem, p.transport_user,
       p.status, p.full_name, p.short_name, p.memorandum_number, p.memorandum_date, p.contacts, p.status_reason,
       p.checked_now ? "true" : "false"}));
}

Status replaceEndpoints(PgConnection& db, const std::string& org_id,
                        const std::vector<std::pair<std::string, std::string>>& endpoints) {
  if (auto s = done(db.exec("UPDATE endpoint SET active = false WHERE org_id = $1 AND active", {org_id})); !s) {
    return s;
  }
  for (const auto& [adapter, settings] : endpoints) {
    if (auto s = done(db.exec("INSERT INTO endpoint (org_id, adapter, settings) VALUES ($1, $2, $3::jsonb)",
                              {org_id, adapter, settings}));
        !s) {
      return s;
    }
  }
  return {};
}

Status addParticipantCert(PgConnection& db, const std::string& org_id, const ParticipantCertRecord& c, bool reinstate) {
  return done(db.exec(std::string("INSERT INTO participant_cert (org_id, purpose, pem, sha256, subject, not_after) "
                                  "VALUES ($1, $2, $3, $4, $5, $6::timestamptz) ON CONFLICT (org_id, sha256) ") +
                          (reinstate ? "DO UPDATE SET retire_after = NULL" : "DO NOTHING"),
                      {org_id, c.purpose, c.pem, c.sha256, c.subject, c.not_after}));
}

Status retireReplacedCerts(PgConnection& db, const std::string& org_id, const std::string& purpose,
                           const std::string& kept_sha256, int overlap_days) {
  if (auto s = done(db.exec(
          "UPDATE participant_cert SET retire_after = now() + make_interval(days => $3::int) WHERE org_id = $1 AND "
          "purpose = $2 AND retire_after IS NULL AND sha256 <> $4",
          {org_id, purpose, std::to_string(overlap_days), kept_sha256}));
      !s) {
    return s;
  }
  return done(db.exec("UPDATE participant SET changed_at = now(), updated_at = now() WHERE org_id = $1", {org_id}));
}

Status setParticipantStatus(PgConnection& db, const std::string& org_id, const std::string& status,
                            const std::string& reason) {
  return done(db.exec(
      "UPDATE participant SET status = $2, status_reason = NULLIF($3, ''), updated_at = now() WHERE org_id = $1",
      {org_id, status, reason}));
}

Result<std::optional<std::string>> participantContacts(PgConnection& db, const std::string& org_id) {
  auto r = db.exec("SELECT contacts::text FROM participant WHERE org_id = $1", {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->get(0, 0));
}

Result<bool> checkedSinceChange(PgConnection& db, const std::string& org_id) {
  auto r = db.exec(
      "SELECT coalesce((SELECT checked_at IS NOT NULL AND checked_at >= changed_at FROM participant WHERE org_id = "
      "$1), false)",
      {org_id});
  if (!r) return r.error();
  return r->get(0, 0) == "t";
}

Status recordCheck(PgConnection& db, const std::string& org_id, bool passed, const std::string& report_json) {
  if (auto s = done(db.exec("INSERT INTO participant_check (org_id, passed, report) VALUES ($1, $2, $3::jsonb)",
                            {org_id, passed ? "true" : "false", report_json}));
      !s || !passed) {
    return s;
  }
  return done(db.exec("UPDATE participant SET checked_at = now() WHERE org_id = $1", {org_id}));
}

Result<std::vector<ParticipantSummaryRow>> listParticipantRows(PgConnection& db) {
  auto r = db.exec(
      "SELECT p.org_id, p.name, p.short_name, p.status, coalesce(p.status_reason, ''), "
      "coalesce((SELECT string_agg(adapter, ',') FROM endpoint e WHERE e.org_id = p.org_id AND e.active), ''), " +
      isoUtc("p.checked_at") +
      ", p.checked_at IS NOT NULL AND p.checked_at >= p.changed_at, "
      "coalesce((SELECT " +
      isoUtc("min(c.not_after)") +
      " FROM participant_cert c WHERE c.org_id = p.org_id AND c.purpose = 'seal' AND c.retire_after IS NULL), '') "
      "FROM participant p ORDER BY p.org_id");
  if (!r) return r.error();
  std::vector<ParticipantSummaryRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    ParticipantSummaryRow row;
    row.org_id = r->get(i, 0);
    row.name = r->get(i, 1);
    row.short_name = r->get(i, 2);
    row.status = r->get(i, 3);
    row.status_reason = r->get(i, 4);
    row.adapters = r->get(i, 5);
    row.checked_at = r->get(i, 6);
    row.ready_for_activation = r->get(i, 7) == "t";
    row.seal_cert_not_after = r->get(i, 8);
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::optional<ParticipantDetailRow>> readParticipant(PgConnection& db, const std::string& org_id) {
  auto r = db.exec(
      "SELECT org_id, sys_id, name, system_name, full_name, short_name, memorandum_number, "
      "coalesce(memorandum_date::text, ''), kinds::text, own_channel, require_seal, coalesce(trust_list, ''::bytea), "
      "status, coalesce(status_reason, ''), contacts::text, coalesce(transport_user, ''), "
      "checked_at IS NOT NULL AND checked_at >= changed_at FROM participant WHERE org_id = $1",
      {org_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<ParticipantDetailRow>();
  ParticipantDetailRow p;
  p.org_id = r->get(0, 0);
  p.sys_id = r->get(0, 1);
  p.name = r->get(0, 2);
  p.system_name = r->get(0, 3);
  p.full_name = r->get(0, 4);
  p.short_name = r->get(0, 5);
  p.memorandum_number = r->get(0, 6);
  p.memorandum_date = r->get(0, 7);
  p.kinds = r->get(0, 8);
  p.own_channel = r->get(0, 9) == "t";
  p.require_seal = r->get(0, 10) == "t";
  p.trust_list = fromByteaHex(r->get(0, 11));
  p.status = r->get(0, 12);
  p.status_reason = r->get(0, 13);
  p.contacts = r->get(0, 14);
  p.transport_user = r->get(0, 15);
  p.ready_for_activation = r->get(0, 16) == "t";
  return std::optional<ParticipantDetailRow>(std::move(p));
}

Result<std::vector<EndpointRow>> activeEndpoints(PgConnection& db, const std::string& org_id) {
  auto e =
      db.exec("SELECT id, adapter, settings::text FROM endpoint WHERE org_id = $1 AND active ORDER BY id", {org_id});
  if (!e) return e.error();
  std::vector<EndpointRow> out;
  for (int i = 0; i < e->rows(); ++i)
    out.push_back({e->getInt(i, 0), std::string(e->get(i, 1)), std::string(e->get(i, 2))});
  return out;
}

Result<std::vector<ParticipantCertRow>> participantCerts(PgConnection& db, const std::string& org_id) {
  auto c = db.exec("SELECT purpose, sha256, subject, " + isoUtc("not_after") + ", " + isoUtc("retire_after") +
                       ", (retire_after IS NULL OR retire_after > now()) FROM participant_cert WHERE org_id = $1 "
                       "ORDER BY id",
                   {org_id});
  if (!c) return c.error();
  std::vector<ParticipantCertRow> out;
  for (int i = 0; i < c->rows(); ++i) {
    ParticipantCertRow row;
    row.purpose = c->get(i, 0);
    row.sha256 = c->get(i, 1);
    row.subject = c->get(i, 2);
    row.not_after = c->get(i, 3);
    row.retire_after = c->get(i, 4);
    row.in_use = c->get(i, 5) == "t";
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::optional<CheckRow>> lastCheck(PgConnection& db, const std::string& org_id) {
  auto k = db.exec("SELECT " + isoUtc("at") +
                       ", passed, report::text FROM participant_check WHERE org_id = $1 ORDER BY id DESC LIMIT 1",
                   {org_id});
  if (!k) return k.error();
  if (k->rows() == 0) return std::optional<CheckRow>();
  return std::optional<CheckRow>(CheckRow{std::string(k->get(0, 0)), k->get(0, 1) == "t", std::string(k->get(0, 2))});
}

Result<std::optional<CheckTargetRow>> checkTarget(PgConnection& db, const std::string& org_id) {
  auto p = db.exec(
      "SELECT p.name, p.sys_id, p.system_name, p.status, e.adapter, e.settings::text FROM participant p "
      "LEFT JOIN LATERAL (SELECT adapter, settings FROM endpoint WHERE org_id = p.org_id AND active ORDER BY id "
      "LIMIT 1) e ON true WHERE p.org_id = $1",
      {org_id});
  if (!p) return p.error();
  if (p->rows() == 0) return std::optional<CheckTargetRow>();
  CheckTargetRow row;
  row.name = p->get(0, 0);
  row.sys_id = p->get(0, 1);
  row.system_name = p->get(0, 2);
  row.status = p->get(0, 3);
  if (!p->isNull(0, 4)) row.adapter = std::string(p->get(0, 4));
  row.settings = p->get(0, 5);
  return std::optional<CheckTargetRow>(std::move(row));
}

Result<std::vector<ExpiringCertRow>> takeExpiringCerts(PgConnection& db, int days) {
  if (days != 30 && days != 7) return Error::invalid("certificate.warning", "warnings are at 30 and 7 days");
  const std::string column = "warned_" + std::to_string(days);
  auto r =
      db.exec("UPDATE participant_cert c SET " + column +
                  " = true FROM participant p WHERE p.org_id = c.org_id AND p.status <> 'retired' AND NOT c." + column +
                  " AND (c.retire_after IS NULL OR c.retire_after > now()) AND c.not_after < now() + "
                  "make_interval(days => $1::int) RETURNING c.org_id, c.purpose, c.sha256, " +
                  isoUtc("c.not_after") + ", p.contacts::text",
              {std::to_string(days)});
  if (!r) return r.error();
  std::vector<ExpiringCertRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({std::string(r->get(i, 0)), std::string(r->get(i, 1)), std::string(r->get(i, 2)),
                   std::string(r->get(i, 3)), std::string(r->get(i, 4))});
  }
  return out;
}

}  // namespace vkhid::store
