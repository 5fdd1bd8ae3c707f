#include "gateway/store/clients.hpp"

namespace vkhid::store {

namespace {

constexpr const char* kInForce = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";

Status done(const Result<PgResult>& r) { return r ? Status() : Status(r.error()); }

std::string minutes(int m) { return std::to_string(m) + " minutes"; }

}  // namespace

Result<std::optional<ClientRow>> findClient(PgConnection& db, ClientKey by, const std::string& value) {
  // A token: the client's current one, or the one it replaced while its overlap lasts.
  auto r = db.exec(std::string("SELECT id, role, restricted_access, coalesce(org_id, '') FROM api_client WHERE ") +
                       (by == ClientKey::TokenSha256
                            ? "(token_sha256 = $1 OR (previous_token_sha256 = $1 AND previous_expires_at > now()))"
                            : "cert_sha256 = $1") +
                       " AND " + kInForce,
                   {value});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<ClientRow>();
  return std::optional<ClientRow>(
      ClientRow{std::string(r->get(0, 0)), std::string(r->get(0, 1)), r->get(0, 2) == "t", std::string(r->get(0, 3))});
}

Result<bool> clientRestrictedAccess(PgConnection& db, const std::string& client_id) {
  auto r = db.exec("SELECT restricted_access FROM api_client WHERE id = $1", {client_id});
  if (!r) return r.error();
  return r->rows() == 1 && r->get(0, 0) == "t";
}

Status saveClientToken(PgConnection& db, const std::string& client_id, const std::string& role,
                       const std::string& token_sha256, int valid_days, const std::string& org_id, int overlap_hours) {
  return done(db.exec(
      "INSERT INTO api_client (id, role, token_sha256, expires_at, org_id) VALUES ($1, $2, $3, CASE WHEN $4::int > 0 "
      "THEN now() + make_interval(days => $4::int) END, NULLIF($5, '')) ON CONFLICT (id) DO UPDATE SET role = "
      "excluded.role, token_sha256 = excluded.token_sha256, expires_at = excluded.expires_at, org_id = "
      "excluded.org_id, revoked_at = NULL, "
      "previous_token_sha256 = CASE WHEN $6::int > 0 THEN api_client.token_sha256 END, "
      "previous_expires_at = CASE WHEN $6::int > 0 THEN now() + make_interval(hours => $6::int) END",
      {client_id, role, token_sha256, std::to_string(valid_days), org_id, std::to_string(overlap_hours)}));
}

Status saveClientCertificate(PgConnection& db, const std::string& client_id, const std::string& role,
                             const std::string& cert_sha256, const std::string& org_id) {
  return done(
      db.exec("INSERT INTO api_client (id, role, cert_sha256, org_id) VALUES ($1, $2, $3, NULLIF($4, '')) "
              "ON CONFLICT (id) DO UPDATE SET role = excluded.role, cert_sha256 = excluded.cert_sha256, org_id = "
              "excluded.org_id, revoked_at = NULL",
              {client_id, role, cert_sha256, org_id}));
}

Result<bool> revokeClientRow(PgConnection& db, const std::string& client_id) {
  auto r = db.exec("UPDATE api_client SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", {client_id});
  if (!r) return r.error();
  return r->affected() > 0;
}

Status insertConsoleSession(PgConnection& db, const std::string& id_sha256, const ConsoleSessionRow& s,
                            int idle_minutes, int max_minutes) {
  if (auto st =
          done(db.exec("INSERT INTO console_session (id_sha256, client_id, role, restricted_access, csrf, "
                       "expires_at, ends_at) VALUES ($1, $2, $3, $4, $5, now() + $6::interval, now() + $7::interval)",
                       {id_sha256, s.client_id, s.role, s.restricted_access ? "true" : "false", s.csrf,
                        minutes(idle_minutes), minutes(max_minutes)}));
      !st) {
    return st;
  }
  (void)db.exec("DELETE FROM console_session WHERE expires_at < now() - interval '1 day'");
  return {};
}

Result<std::optional<ConsoleSessionRow>> touchConsoleSession(PgConnection& db, const std::string& id_sha256,
                                                             int idle_minutes) {
  auto r = db.exec(
      "UPDATE console_session s SET last_seen_at = now(), expires_at = now() + $2::interval FROM api_client c "
      "WHERE s.id_sha256 = $1 AND s.expires_at > now() AND (s.ends_at IS NULL OR s.ends_at > now()) AND c.id = "
      "s.client_id AND c.revoked_at IS NULL AND "
      "(c.expires_at IS NULL OR c.expires_at > now()) RETURNING s.client_id, s.role, s.csrf, s.restricted_access, "
      "coalesce(c.org_id, '')",
      {id_sha256, minutes(idle_minutes)});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<ConsoleSessionRow>();
  return std::optional<ConsoleSessionRow>(ConsoleSessionRow{std::string(r->get(0, 0)), std::string(r->get(0, 1)),
                                                            std::string(r->get(0, 2)), r->get(0, 3) == "t",
                                                            std::string(r->get(0, 4))});
}

Status deleteConsoleSession(PgConnection& db, const std::string& id_sha256) {
  return done(db.exec("DELETE FROM console_session WHERE id_sha256 = $1", {id_sha256}));
}

}  // namespace vkhid::store
