// The routing repository: what routing asks of the administrators' rules and the participants. An
// interface, so the routing decision (flows::chooseRoute) is tested against rows in memory as well as
// run against PostgreSQL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/store/participants.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::store {

// A routing rule that matched: where it sends the case, and that participant as a package's envelope
// names it (read with the rule; none from a repository that does not read it).
struct RuleMatch {
  std::string target_org_id;
  long long rule_id = 0;
  std::optional<PartyRow> party;
};

class RouteRepository {
 public:
  virtual ~RouteRepository() = default;
  // The first active rule (lowest priority, then id) for a case of `kind`, `topic` and `addressee`
  // whose target is an active or suspended participant that takes `kind` and is not in `declined`.
  // Empty fields of a rule match anything.
  virtual Result<std::optional<RuleMatch>> firstRule(const std::string& kind, const std::string& topic,
                                                     const std::string& addressee,
                                                     const std::vector<std::string>& declined) = 0;
  // Whether `org_id` is an active or suspended participant that takes `kind` and is not in `declined`.
  virtual Result<bool> takes(const std::string& org_id, const std::string& kind,
                             const std::vector<std::string>& declined) = 0;
};

// PgRouteRepository::firstRule's read asked ahead (PgConnection::ask): it travels with the transaction's
// next exchange, and the same question later in the transaction is answered without one.
void askFirstRule(PgConnection& db, const std::string& kind, const std::string& topic, const std::string& addressee,
                  const std::vector<std::string>& declined);

class PgRouteRepository final : public RouteRepository {
 public:
  explicit PgRouteRepository(PgConnection& db) : db_(db) {}
  Result<std::optional<RuleMatch>> firstRule(const std::string& kind, const std::string& topic,
                                             const std::string& addressee,
                                             const std::vector<std::string>& declined) override;
  Result<bool> takes(const std::string& org_id, const std::string& kind,
                     const std::vector<std::string>& declined) override;

 private:
  PgConnection& db_;
};

// The administrators' routing rules, as they are listed and written. Empty kind, topic or addressee:
// any.
struct RoutingRuleRow {
  long long id = 0, priority = 0;
  std::string kind, topic, addressee_org_id, target_org_id;
  std::string source;  // admin (the CLI or the admin API) or config
  bool active = true;
};
// By priority, then id.
Result<std::vector<RoutingRuleRow>> listRoutingRules(PgConnection& db);
// A new rule (its id and `active` aside); its id. The database's refusal (an unknown target) is the
// error.
Result<long long> insertRoutingRule(PgConnection& db, const RoutingRuleRow& rule);

// The rules loaded from the configuration file go, under a lock that makes gateways starting together
// load one after the other (until the transaction ends).
Status clearConfigRoutingRules(PgConnection& db);

}  // namespace vkhid::store
