// Routing and packaging: a registered case goes to the participant its rules name, as a signed and
// sealed SEV OVV package stored byte for byte, queued for delivery — all in one transaction.
#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/participants.hpp"

namespace vkhid::flows {

Result<RouteChoice> chooseRoute(store::RouteRepository& routes, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::vector<std::string>& declined,
                                bool forwarded) {
  RouteChoice out;
  // A forwarded case goes to the competent body the forwarder named; the rules place the rest.
  if (!forwarded || addressee.empty()) {
    auto rule = routes.firstRule(kind, topic, addressee, declined);
    if (!rule) return rule.error();
    if (*rule) {
      out.target = (*rule)->target_org_id;
      out.rule_id = (*rule)->rule_id;
      out.reason = "routing rule " + std::to_string(out.rule_id);
      out.party = (*rule)->party;
      return out;
    }
  }
  if (!addressee.empty()) {
    // No rule (or forwarded to the competent body it named): the addressee, when it is a participant
    // that takes this kind.
    auto takes = routes.takes(addressee, kind, declined);
    if (!takes) return takes.error();
    if (*takes) {
      out.target = addressee;
      out.reason = forwarded ? "the competent body named by the forwarder" : "the addressee named by the channel";
      return out;
    }
  }
  out.reason = "no rule places it: the UCC review queue";
  return out;
}

Result<RouteChoice> chooseRoute(store::PgConnection& db, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::string& complained_of) {
  store::PgRouteRepository routes(db);
  std::vector<std::string> excluded;
  if (!complained_of.empty()) excluded.push_back(complained_of);
  return chooseRoute(routes, kind, topic, addressee, excluded, false);
}

namespace {

// Those routing never sends the case to: the participants that declined it, and the body a complaint
// is about (Law 393 art. 7).
std::vector<std::string> excludedFor(const store::RoutingCaseRow& c) {
  std::vector<std::string> out = c.declined_by;
  if (!c.complained_of.empty()) out.push_back(c.complained_of);
  return out;
}

// The administrator's choice first, while that participant can take the case; else the rules.
Result<RouteChoice> chooseFor(store::PgConnection& db, const store::RoutingCaseRow& c) {
  store::PgRouteRepository routes(db);
  const auto excluded = excludedFor(c);
  if (!c.route_to.empty()) {
    auto ok = routes.takes(c.route_to, c.kind, excluded);
    if (!ok) return ok.error();
    if (*ok) return RouteChoice{c.route_to, 0, "chosen by a UCC administrator", std::nullopt};
  }
  return chooseRoute(routes, c.kind, c.topic, c.addressee_org_id, excluded, c.status == domain::CaseStatus::Forwarded);
}

}  // namespace

// The case as its participant receives it: the stored case with the answer term it runs under.
// Forwarded: the competent body's term runs from its receipt (Law 393 art. 7; Law 2939 art. 22).
Result<domain::Case> Router::caseFor(store::PgConnection& db, const std::string& case_id,
                                     const store::RoutingCaseRow& c, const std::string& target) {
  auto parsed = flows::parseCaseJson(c.body_json);
  domain::Case kase = std::move(parsed.value);
  kase.id = case_id;
  kase.ucc_number = c.ucc_number;
  kase.registered_on = c.registered_on;
  kase.received_at = c.received_at;
  kase.addressee_org_id = target;
  long long due_epoch = c.due_epoch;
  if (c.status == domain::CaseStatus::Forwarded && !c.due_kind.empty()) {
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (auto s = planAnswerDeadline(db, context_.legal, case_id, c.due_kind, now, "gateway", "forwarded"); !s) {
      return s.error();
    }
    if (auto due = context_.legal.due(c.due_kind, now)) due_epoch = due->at.time_since_epoch().count();
  }
  if (due_epoch > 0) {
    kase.deadlines.push_back(
        {"answer", domain::formatKyiv(domain::Instant{std::chrono::seconds(due_epoch)}), c.due_rule});
  }
  return kase;
}

// The signed and sealed appeal package for `target`, stored as message `msg_id` and queued for delivery
// with the case routed to it.
Status Router::place(store::PgConnection& db, const std::string& case_id, const store::RoutingCaseRow& c,
                     const RouteChoice& choice) {
  const std::string& target = choice.target;
  // Read with the rule that chose it, in this transaction; asked for when the choice was another's.
  auto p = choice.party ? Result<std::optional<store::PartyRow>>(choice.party) : store::participantParty(db, target);
  if (!p) return p.error();
  if (!*p) return Error{ErrorKind::NotFound, "participant.unknown", "no participant " + target};
  auto kase = caseFor(db, case_id, c, target);
  if (!kase) return kase.error();
  std::string msg_id = newUuid();
  sev::Envelope env{
      context_.ucc, {target, (*p)->name, (*p)->sys_id, (*p)->system_name}, msg_id, formatIsoUtc(std::time(nullptr))};
  auto header = sev::buildAppealPackage(*kase, env);
  if (auto s = crypto::signAttachments(header, context_.signer); !s) return s;
  auto bytes = crypto::sealedPackage(header, context_.signer);
  if (!bytes) return bytes.error();

  auto package = store::MessageRecord::of(msg_id, "out", case_id, target, 1);
  package.bytes = *bytes;
  package.sha256 = sha256Hex(*bytes);
  package.status = "queued";
  // Its transport watches are judged from this row (judgeTransportWatches): nothing to plan.
  if (auto s = store::insertMessage(db, package, store::Write::Queued); !s) return s;
  // The rule that placed it: misrouting reports count forwards by it.
  boost::json::object routed{{"participant", target}, {"msg_id", msg_id}};
  if (choice.rule_id > 0) routed["rule"] = choice.rule_id;
  if (!c.route_to.empty() && target == c.route_to) routed["chosen_by_administrator"] = true;
  auto moved =
      store::transitionCase(db, {case_id, c.status, domain::CaseEvent::Routed, 0, "gateway",
                                 boost::json::serialize(routed), store::CaseFields::assignParticipant(target)});
  if (!moved) return moved.error();
  return enqueueDelivery(db, target, msg_id);
}

void Router::askRule(store::PgConnection& db, const std::string& kind, const std::string& topic,
                     const std::string& addressee, const std::string& complained_of) {
  store::RoutingCaseRow c;  // as newCaseRoutingRow gives a new case's
  c.kind = kind;
  c.topic = topic;
  c.addressee_org_id = addressee;
  c.complained_of = complained_of;
  store::askFirstRule(db, c.kind, c.topic, c.addressee_org_id, excludedFor(c));
}

Result<std::string> Router::routeIn(store::PgConnection& db, const std::string& case_id) {
  auto row = store::lockCaseForRouting(db, case_id);
  if (!row) return row.error();
  if (!*row) return std::string("unknown case");
  return routeIn(db, case_id, **row);
}

Result<std::string> Router::routeIn(store::PgConnection& db, const std::string& case_id,
                                    const store::RoutingCaseRow& c) {
  if (!domain::transition(c.status, domain::CaseEvent::Routed).allowed) {
    return std::string("already ") + domain::caseStatusName(c.status);  // a repeated event: the first did it
  }
  auto choice = chooseFor(db, c);
  if (!choice) return choice.error();
  if (choice->target.empty()) {
    const std::string status = domain::caseStatusName(c.status);
    // A complaint whose only candidate was the body it is about waits for a person, who is told why.
    boost::json::object detail;
    if (!c.complained_of.empty()) detail["complained_of_org_id"] = c.complained_of;
    if (auto s = recordEvent(db, case_id, "gateway", "unrouted", status, status, boost::json::serialize(detail)); !s) {
      return s.error();
    }
    if (auto s = enqueueOutbox(db, bus::names::kEvents, "case.unrouted", case_id,
                               boost::json::serialize(boost::json::object{{"case_id", case_id}}));
        !s) {
      return s.error();
    }
    return std::string("unrouted");
  }
  if (auto s = place(db, case_id, c, *choice); !s) return s.error();
  return std::string("routed");
}

void countRouting(const std::string& outcome) {
  app::metrics()
      .counter("vkhid_routing_total", "Routing decisions",
               {{"outcome", outcome.starts_with("already") ? "repeat" : outcome}})
      .inc();
}

Disposition Router::route(const std::string& case_id) {
  auto db = context_.pool.acquire();
  if (!db) return Disposition::Requeue;
  std::string outcome;
  Status done = store::inTransaction(**db, [&]() -> Status {
    auto routed = routeIn(**db, case_id);
    if (!routed) return routed.error();
    outcome = *routed;
    return {};
  });
  if (!done) {
    log::warn("routing failed, will retry", {{"case_id", case_id}, {"error", done.error().message}});
    return Disposition::Requeue;
  }
  countRouting(outcome);
  return Disposition::Ack;
}

}  // namespace vkhid::flows
