#include "gateway/store/routes.hpp"

namespace vkhid::store {

namespace {

constexpr const char* kFirstRule =
    "SELECT r.target_org_id, r.id, p.name, p.sys_id, p.system_name FROM routing_rule r JOIN participant p ON "
    "p.org_id = r.target_org_id "
    "WHERE r.active AND p.status IN ('active', 'suspended') AND $1 = ANY (p.kinds) "
    "AND (r.kind IS NULL OR r.kind = $1) AND (r.topic IS NULL OR r.topic = $2) "
    "AND (r.addressee_org_id IS NULL OR r.addressee_org_id = $3) AND NOT (r.target_org_id = ANY ($4::text[])) "
    "ORDER BY r.priority, r.id LIMIT 1";

}  // namespace

void askFirstRule(PgConnection& db, const std::string& kind, const std::string& topic, const std::string& addressee,
                  const std::vector<std::string>& declined) {
  db.ask(kFirstRule, {kind, topic, addressee, textArrayLiteral(declined)});
}

Result<std::optional<RuleMatch>> PgRouteRepository::firstRule(const std::string& kind, const std::string& topic,
                                                              const std::string& addressee,
                                                              const std::vector<std::string>& declined) {
  auto rule = db_.exec(kFirstRule, {kind, topic, addressee, textArrayLiteral(declined)});
  if (!rule) return rule.error();
  if (rule->rows() == 0) return std::optional<RuleMatch>{};
  return std::optional<RuleMatch>{
      RuleMatch{std::string(rule->get(0, 0)), rule->getInt(0, 1),
                PartyRow{std::string(rule->get(0, 2)), std::string(rule->get(0, 3)), std::string(rule->get(0, 4))}}};
}

Result<bool> PgRouteRepository::takes(const std::string& org_id, const std::string& kind,
                                      const std::vector<std::string>& declined) {
  auto r = db_.exec(
      "SELECT 1 FROM participant WHERE org_id = $1 AND status IN ('active', 'suspended') AND $2 = ANY (kinds) "
      "AND NOT (org_id = ANY ($3::text[]))",
      {org_id, kind, textArrayLiteral(declined)});
  if (!r) return r.error();
  return r->rows() > 0;
}

Result<std::vector<RoutingRuleRow>> listRoutingRules(PgConnection& db) {
  auto r = db.exec(
      "SELECT id, priority, coalesce(kind, '') AS kind, coalesce(topic, '') AS topic, "
      "coalesce(addressee_org_id, '') AS addressee_org_id, target_org_id, source, active FROM routing_rule "
      "ORDER BY priority, id");
  if (!r) return r.error();
  std::vector<RoutingRuleRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({r->getInt(i, "id"), r->getInt(i, "priority"), std::string(r->get(i, "kind")),
                   std::string(r->get(i, "topic")), std::string(r->get(i, "addressee_org_id")),
                   std::string(r->get(i, "target_org_id")), std::string(r->get(i, "source")), r->getBool(i, "active")});
  }
  return out;
}

Result<long long> insertRoutingRule(PgConnection& db, const RoutingRuleRow& rule) {
  auto r = db.exec(
      "INSERT INTO routing_rule (priority, kind, topic, addressee_org_id, target_org_id, source) VALUES ($1, "
      "NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), $5, $6) RETURNING id",
      {std::to_string(rule.priority), rule.kind, rule.topic, rule.addressee_org_id, rule.target_org_id, rule.source});
  if (!r) return r.error();
  return r->getInt(0, "id");
}

Status clearConfigRoutingRules(PgConnection& db) {
  if (auto l = db.exec("SELECT pg_advisory_xact_lock(hashtext('vkhid.routing_rules'))"); !l) return l.error();
  auto d = db.exec("DELETE FROM routing_rule WHERE source = 'config'");
  return d ? Status() : Status(d.error());
}

}  // namespace vkhid::store
