// Routing rules as data (routing.rules_file): [[route]] tables replace the previous file's rules in one
// transaction, beside the rules an administrator made with `vkhid route add`.
#include <toml++/toml.h>

#include <boost/json.hpp>

#include <optional>
#include <set>

#include "gateway/app/logging.hpp"
#include "gateway/domain/case.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/store/participants.hpp"
#include "gateway/store/routes.hpp"

namespace vkhid::flows {

Result<int> loadRoutingRules(store::PgConnection& db, const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error::invalid("routing.rules_file", path + ": " + std::string(e.description()));
  }
  struct Rule {
    std::string target, kind, topic, addressee;
    long long priority = 100;
  };
  std::vector<Rule> rules;
  for (const auto& [k, v] : t) {
    if (k.str() != "route")
      return Error::invalid("routing.rules_file", path + ": unknown key '" + std::string(k.str()) + "'");
  }
  if (const auto* routes = t["route"].as_array()) {
    static const std::set<std::string> known{"target", "kind", "topic", "addressee", "priority"};
    for (std::size_t i = 0; i < routes->size(); ++i) {
      const auto* r = (*routes)[i].as_table();
      std::string where = path + ": route " + std::to_string(i + 1);
      if (r == nullptr) return Error::invalid("routing.rules_file", where + ": expected a [[route]] table");
      for (const auto& [k, v] : *r) {
        if (!known.count(std::string(k.str())))
          return Error::invalid("routing.rules_file", where + ": unknown key '" + std::string(k.str()) + "'");
      }
      Rule rule{(*r)["target"].value_or(std::string()), (*r)["kind"].value_or(std::string()),
                (*r)["topic"].value_or(std::string()), (*r)["addressee"].value_or(std::string()),
                (*r)["priority"].value_or(100LL)};
      if (rule.target.empty()) return Error::invalid("routing.rules_file", where + ": target (an org_id) is required");
      if (!rule.kind.empty() && !domain::caseKindFromName(rule.kind)) {
        return Error::invalid(
            "routing.rules_file",
            where + ": kind must be appeal, info_request or violence_report, not '" + rule.kind + "'");
      }
      rules.push_back(std::move(rule));
    }
  }
  int loaded = 0;
  Status done = store::inTransaction(db, [&]() -> Status {
    // Two gateways starting together load one after the other.
    if (auto s = store::clearConfigRoutingRules(db); !s) return s;
    for (const auto& r : rules) {
      auto known = store::participantParty(db, r.target);
      if (!known) return known.error();
      if (!*known) {
        log::warn("routing rule skipped: its target is not a registered participant", {{"target", r.target}});
        continue;
      }
      auto ins = store::insertRoutingRule(db, {0, r.priority, r.kind, r.topic, r.addressee, r.target, "config", true});
      if (!ins) return ins.error();
      ++loaded;
    }
    return {};
  });
  if (!done) return done.error();
  return loaded;
}

Result<std::string> routeDryRun(store::PgConnection& db, const std::string& case_json) {
  auto parsed = parseCaseJson(case_json);
  if (!parsed.errors.empty()) {
    return Error::invalid("route.dry_run", "the sample case is invalid: " + parsed.errors.front().field +
                                               ": expected " + parsed.errors.front().expected);
  }
  const auto& c = parsed.value;
  const std::string kind = domain::caseKindName(c.kind), topic = c.classification.topic.value_or("");
  auto choice = chooseRoute(db, kind, topic, c.addressee_org_id, c.complained_of_org_id);
  if (!choice) return choice.error();
  // Where it would have gone, were it not a complaint about that body: shown as refused.
  std::optional<RouteChoice> unchecked;
  if (!c.complained_of_org_id.empty()) {
    auto free = chooseRoute(db, kind, topic, c.addressee_org_id);
    if (!free) return free.error();
    if (free->target == c.complained_of_org_id) unchecked = *free;
  }
  boost::json::object o{
      {"kind", domain::caseKindName(c.kind)},
      {"topic", c.classification.topic.value_or("")},
      {"addressee_org_id", c.addressee_org_id},
      {"target", choice->target.empty() ? boost::json::value(nullptr) : boost::json::value(choice->target)},
      {"reason", choice->reason}};
  if (choice->rule_id > 0) o["rule_id"] = choice->rule_id;
  if (!c.complained_of_org_id.empty()) o["complained_of_org_id"] = c.complained_of_org_id;
  if (unchecked) {
    boost::json::object refused{{"org_id", unchecked->target},
                                {"chosen_by", unchecked->reason},
                                {"why", "the body the complaint is about"},
                                {"rule", kComplaintRule}};
    if (unchecked->rule_id > 0) refused["rule_id"] = unchecked->rule_id;
    o["refused"] = boost::json::array{std::move(refused)};
  }
  return boost::json::serialize(o);
}

Result<long long> addRoute(store::PgConnection& db, const std::string& target, const std::string& kind,
                           const std::string& topic, const std::string& addressee, long long priority) {
  auto r = store::insertRoutingRule(db, {0, priority, kind, topic, addressee, target, "admin", true});
  if (!r) return Error::invalid("route.invalid", r.error().message);
  return *r;
}

Result<std::string> listRoutes(store::PgConnection& db) {
  auto rules = store::listRoutingRules(db);
  if (!rules) return rules.error();
  boost::json::array out;
  for (const auto& r : *rules) {
    out.push_back(boost::json::object{{"id", r.id},
                                      {"priority", r.priority},
                                      {"kind", r.kind},
                                      {"topic", r.topic},
                                      {"addressee_org_id", r.addressee_org_id},
                                      {"target", r.target_org_id},
                                      {"source", r.source},
                                      {"active", r.active}});
  }
  return boost::json::serialize(out);
}

}  // namespace vkhid::flows
