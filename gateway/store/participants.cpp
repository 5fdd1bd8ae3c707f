#include "gateway/store/participants.hpp"

#include <vector>

namespace vkhid::store {

Result<std::optional<PeerRow>> findPeer(PgConnection& db, const std::string& identity) {
  const bool by_certificate = identity.starts_with("tls:");
  const bool by_endpoint = identity.starts_with("endpoint:");
  std::string endpoint_adapter, vouched_org;
  if (by_endpoint) {
    auto colon = identity.find(':', 9);
    endpoint_adapter = identity.substr(9, colon == std::string::npos ? 0 : colon - 9);
    vouched_org = colon == std::string::npos ? "" : identity.substr(colon + 1);
  }
  auto p = db.exec(
      std::string("SELECT org_id, name, sys_id, system_name, require_seal, coalesce(trust_list, ''::bytea), trust_pem, "
                  "own_channel, (SELECT coalesce(string_agg(sha256, ','), '') FROM participant_cert c WHERE c.org_id "
                  "= p.org_id AND c.purpose = 'seal' AND (c.retire_after IS NULL OR c.retire_after > now())) "
                  "FROM participant p WHERE status IN ('active', 'pending_check', 'suspended') AND ") +
          (by_certificate ? "EXISTS (SELECT 1 FROM participant_cert t WHERE t.org_id = p.org_id AND t.purpose = 'tls' "
                            "AND t.sha256 = $1 AND (t.retire_after IS NULL OR t.retire_after > now()))"
           : by_endpoint
               ? "p.org_id = $1 AND EXISTS (SELECT 1 FROM endpoint e WHERE e.org_id = p.org_id AND e.active AND "
                 "e.adapter = $2)"
               : "transport_user = $1"),
      by_certificate ? std::vector<PgParam>{identity.substr(4)}
      : by_endpoint  ? std::vector<PgParam>{vouched_org, endpoint_adapter}
                     : std::vector<PgParam>{identity});
  if (!p) return p.error();
  if (p->rows() == 0) return std::optional<PeerRow>();
  PeerRow row;
  row.org_id = std::string(p->get(0, 0));
  row.name = std::string(p->get(0, 1));
  row.sys_id = std::string(p->get(0, 2));
  row.system = std::string(p->get(0, 3));
  row.require_seal = p->get(0, 4) == "t";
  row.trust_list = fromByteaHex(p->get(0, 5));
  row.trust_pem = std::string(p->get(0, 6));
  row.own_channel = p->get(0, 7) == "t";
  row.pinned = std::string(p->get(0, 8));
  return std::optional<PeerRow>(std::move(row));
}

Result<std::optional<ParticipantTrustRow>> participantTrust(PgConnection& db, const std::string& org_id) {
  auto p = db.exec("SELECT trust_pem, coalesce(trust_list, ''::bytea) FROM participant WHERE org_id = $1", {org_id});
  if (!p) return p.error();
  if (p->rows() == 0) return std::optional<ParticipantTrustRow>();
  return std::optional<ParticipantTrustRow>(ParticipantTrustRow{std::string(p->get(0, 0)), fromByteaHex(p->get(0, 1))});
}

Result<std::vector<std::string>> participantsNotRetired(PgConnection& db) {
  auto r = db.exec("SELECT org_id FROM participant WHERE status <> 'retired' ORDER BY org_id", {});
  if (!r) return r.error();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->get(i, 0));
  return out;
}

Result<std::vector<std::pair<std::string, bool>>> participantsNotRetiredOnlyOn(PgConnection& db,
                                                                               const std::string& adapter) {
  auto r = db.exec(
      "SELECT p.org_id, coalesce(bool_and(e.adapter = $1), false) FROM participant p LEFT JOIN endpoint e ON "
      "e.org_id = p.org_id AND e.active WHERE p.status <> 'retired' GROUP BY p.org_id ORDER BY p.org_id",
      {adapter});
  if (!r) return r.error();
  std::vector<std::pair<std::string, bool>> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->get(i, 0), r->get(i, 1) == "t");
  return out;
}

Result<std::optional<PartyRow>> participantParty(PgConnection& db, const std::string& org_id) {
  auto p = db.exec("SELECT name, sys_id, system_name FROM participant WHERE org_id = $1", {org_id});
  if (!p) return p.error();
  if (p->rows() == 0) return std::optional<PartyRow>();
  return std::optional<PartyRow>(PartyRow{std::string(p->get(0, "name")), std::string(p->get(0, "sys_id")),
                                          std::string(p->get(0, "system_name"))});
}

Result<std::vector<EndpointOfRow>> activeEndpointsOfAll(PgConnection& db) {
  auto r = db.exec(
      "SELECT e.org_id, e.adapter, e.settings::text AS settings FROM endpoint e JOIN participant p ON p.org_id = "
      "e.org_id WHERE e.active AND p.status <> 'retired' ORDER BY e.adapter, e.org_id, e.id",
      {});
  if (!r) return r.error();
  std::vector<EndpointOfRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(
        {std::string(r->get(i, "org_id")), std::string(r->get(i, "adapter")), std::string(r->get(i, "settings"))});
  }
  return out;
}

}  // namespace vkhid::store
