// Routing (DESIGN §7.2): where a case goes — the administrators' rules, the addressee, the review queue.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/case.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/queue_consumer.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/pg.hpp"
#include "gateway/store/routes.hpp"

namespace vkhid::flows {

// Where routing sends a case: the first matching rule (lowest priority) to an active or suspended
// participant that takes the kind, else the addressee when it is such a participant; never one in
// `declined`. A forwarded case goes to the competent body it names before any rule. An empty target
// means the UCC review queue.
struct RouteChoice {
  std::string target;
  long long rule_id = 0;
  std::string reason;
  std::optional<store::PartyRow> party;  // the target as an envelope names it, when read with its rule
};

// Routes a registered (or forwarded) case: chooses its participant, builds and seals its package, and
// queues the delivery — once, under the case's row lock, whatever the broker redelivers.
class Router {
 public:
  explicit Router(ExchangeContext& context) : context_(context) {}
  // The routing consumer: one case in its own transaction.
  Disposition route(const std::string& case_id);
  // Routes a case inside the caller's transaction — a new case at intake, in the transaction that
  // registers it (issue 25: one commit and no routing message fewer per case). What it came to:
  // "routed", "unrouted" (to the review queue), "already <status>" or "unknown case". An error leaves
  // nothing written when it comes before the package is stored (making or sealing it).
  Result<std::string> routeIn(store::PgConnection& db, const std::string& case_id);
  // The same for a case this transaction has just registered, from the row it wrote
  // (store::newCaseRoutingRow), without reading it back.
  Result<std::string> routeIn(store::PgConnection& db, const std::string& case_id, const store::RoutingCaseRow& c);
  // The routing rule routeIn will look for a new case of this kind, topic, addressee and subject of a
  // complaint, asked ahead (PgConnection::ask) in the transaction that registers it.
  static void askRule(store::PgConnection& db, const std::string& kind, const std::string& topic,
                      const std::string& addressee, const std::string& complained_of);

 private:
  Status place(store::PgConnection& db, const std::string& case_id, const store::RoutingCaseRow& c,
               const RouteChoice& choice);
  Result<domain::Case> caseFor(store::PgConnection& db, const std::string& case_id, const store::RoutingCaseRow& c,
                               const std::string& target);

  ExchangeContext& context_;
};

Result<RouteChoice> chooseRoute(store::RouteRepository& routes, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::vector<std::string>& declined, bool forwarded);
// A new case's route, against the database; never to `complained_of` (a complaint's subject).
Result<RouteChoice> chooseRoute(store::PgConnection& db, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::string& complained_of = {});

// Law 393 art. 7: a complaint is never sent to the body whose decision or act it complains of.
inline constexpr const char* kComplaintRule =
    "Закон № 393/96-ВР, ст. 7: забороняється направляти скарги громадян для розгляду тим органам або "
    "посадовим особам, дії чи рішення яких оскаржуються";
// Counts a routing decision (vkhid_routing_total) once its transaction has committed.
void countRouting(const std::string& outcome);

// `vkhid route dry-run`: where a case (intake JSON) would go, and why (JSON). A complaint whose rule or
// addressee would have chosen the body it is about shows that body under `refused`, with the rule.
Result<std::string> routeDryRun(store::PgConnection& db, const std::string& case_json);
// `vkhid route add` and its API twin: a rule made by an administrator; returns its id. Empty kind,
// topic or addressee match anything.
Result<long long> addRoute(store::PgConnection& db, const std::string& target, const std::string& kind,
                           const std::string& topic, const std::string& addressee, long long priority);
// `vkhid route list`: every rule (JSON array).
Result<std::string> listRoutes(store::PgConnection& db);

// Replaces the rules loaded from a routing rules file (routing.rules_file) with that file's [[route]]
// tables; rules whose target is not a registered participant are skipped with a warning. Returns how
// many were loaded; a malformed file is refused naming the rule and key.
Result<int> loadRoutingRules(store::PgConnection& db, const std::string& path);

}  // namespace vkhid::flows
