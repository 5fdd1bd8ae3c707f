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

namespace vkhid::flows {

Result<RouteChoice> chooseRoute(store::PgConnection& db, const std::string& kind, const std::string& topic,
                                const std::string& addressee, const std::string& declined_by, bool forwarded) {
  RouteChoice out;
  if (!forwarded || addressee.empty()) {
    auto rule = db.exec(
        "SELECT r.target_org_id, r.id FROM routing_rule r JOIN participant p ON p.org_id = r.target_org_id "
        "WHERE r.active AND p.status IN ('active', 'suspended') AND $1 = ANY (p.kinds) "
        "AND (r.kind IS NULL OR r.kind = $1) AND (r.topic IS NULL OR r.topic = $2) "
        "AND (r.addressee_org_id IS NULL OR r.addressee_org_id = $3) AND NOT (r.target_org_id = ANY ($4::text[])) "
        "ORDER BY r.priority, r.id LIMIT 1",
        {kind, topic, addressee, declined_by});
    if (!rule) return rule.error();
    if (rule->rows() > 0) {
      out.target = std::string(rule->get(0, 0));
      out.rule_id = rule->getInt(0, 1);
      out.reason = "routing rule " + std::to_string(out.rule_id);
      return out;
    }
  }
  if (!addressee.empty()) {
    // No rule (or forwarded to the competent body it named): the addressee, when it is a participant
    // that takes this kind.
    auto direct = db.exec(
        "SELECT org_id FROM participant WHERE org_id = $1 AND status IN ('active', 'suspended') AND $2 = ANY (kinds) "
        "AND NOT (org_id = ANY ($3::text[]))",
        {addressee, kind, declined_by});
    if (!direct) return direct.error();
    if (direct->rows() > 0) {
      out.target = addressee;
      out.reason = forwarded ? "the competent body named by the forwarder" : "the addressee named by the channel";
      return out;
    }
  }
  out.reason = "no rule places it: the UCC review queue";
  return out;
}

Disposition Router::route(const std::string& case_id) {
  auto& ctx = context_;
  auto db = ctx.pool.acquire();
  if (!db) return Disposition::Requeue;
  std::string outcome;
  Status done = store::inTransaction(**db, [&]() -> Status {
    auto c = (*db)->exec(
        "SELECT status, kind, body::text, ucc_number, to_char(registered_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD'), "
        "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(addressee_org_id, ''), "
        "priority, coalesce(body->'classification'->>'topic', ''), declined_by::text, coalesce(due_kind, ''), "
        "coalesce(extract(epoch FROM due_at)::bigint, 0), coalesce(due_rule, ''), coalesce(route_to, '') "
        "FROM cases WHERE id = $1 "
        "FOR UPDATE",
        {case_id});
    if (!c) return c.error();
    if (c->rows() == 0) {
      outcome = "unknown case";
      return {};
    }
    std::string status(c->get(0, 0));
    if (status != "registered" && status != "forwarded") {
      outcome = "already " + status;  // a repeated event: the first one did the work
      return {};
    }
    std::string kind(c->get(0, 1)), addressee(c->get(0, 6)), topic(c->get(0, 8));
    Result<RouteChoice> choice = RouteChoice{};
    std::string chosen(c->get(0, 13));
    if (!chosen.empty()) {
      // An administrator's choice goes first, while that participant can take the case.
      auto ok = (*db)->exec(
          "SELECT 1 FROM participant WHERE org_id = $1 AND status IN ('active', 'suspended') AND $2 = ANY (kinds)",
          {chosen, kind});
      if (!ok) return ok.error();
      if (ok->rows() > 0) choice = RouteChoice{chosen, 0, "chosen by a UCC administrator"};
    }
    if (choice->target.empty()) {
      choice = chooseRoute(**db, kind, topic, addressee, std::string(c->get(0, 9)), status == "forwarded");
    }
    if (!choice) return choice.error();
    std::string target = choice->target;
    if (target.empty()) {
      outcome = "unrouted";
      if (auto s = recordEvent(**db, case_id, "gateway", "unrouted", status, status); !s) return s;
      return enqueueOutbox(**db, bus::names::kEvents, "case.unrouted", case_id,
                           boost::json::serialize(boost::json::object{{"case_id", case_id}}));
    }

    auto p = (*db)->exec("SELECT name, sys_id, system_name FROM participant WHERE org_id = $1", {target});
    if (!p) return p.error();
    auto parsed = flows::parseCaseJson(c->get(0, 2));
    domain::Case kase = std::move(parsed.value);
    kase.id = case_id;
    kase.ucc_number = std::string(c->get(0, 3));
    kase.registered_on = std::string(c->get(0, 4));
    kase.received_at = std::string(c->get(0, 5));
    kase.addressee_org_id = target;

    // Forwarded: the competent body's term runs from its receipt (Law 393 art. 7; Law 2939 art. 22).
    std::string due_kind(c->get(0, 10));
    long long due_epoch = std::stoll(std::string(c->get(0, 11)));
    std::string due_rule(c->get(0, 12));
    if (status == "forwarded" && !due_kind.empty()) {
      auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      if (auto s = planAnswerDeadline(**db, ctx.legal, case_id, due_kind, now, "gateway", "forwarded"); !s) return s;
      if (auto due = ctx.legal.due(due_kind, now)) due_epoch = due->at.time_since_epoch().count();
    }
    if (due_epoch > 0) {
      kase.deadlines.push_back(
          {"answer", domain::formatKyiv(domain::Instant{std::chrono::seconds(due_epoch)}), due_rule});
    }

    std::string msg_id = newUuid();
    sev::Envelope env{ctx.ucc,
                      {target, std::string(p->get(0, 0)), std::string(p->get(0, 1)), std::string(p->get(0, 2))},
                      msg_id,
                      formatIsoUtc(std::time(nullptr))};
    auto header = sev::buildAppealPackage(kase, env);
    if (auto s = crypto::signAttachments(header, ctx.signer); !s) return s;
    auto bytes = crypto::sealedPackage(header, ctx.signer);
    if (!bytes) return bytes.error();

    auto ins = (*db)->later(
        "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, status) "
        "VALUES ($1, 'out', $2, $3, 1, $4::bytea, $5, 'queued')",
        {msg_id, case_id, target, byteaHex(*bytes), sha256Hex(*bytes)});
    if (!ins) return ins;
    if (auto s = planTransportTimers(**db, ctx.legal, case_id, msg_id); !s) return s;
    auto upd = (*db)->later(
        "UPDATE cases SET status = 'routed', participant_org_id = $2, route_to = NULL, updated_at = now() "
        "WHERE id = $1",
        {case_id, target});
    if (!upd) return upd;
    // The rule that placed it: misrouting reports count forwards by it.
    boost::json::object routed{{"participant", target}, {"msg_id", msg_id}};
    if (choice->rule_id > 0) routed["rule"] = choice->rule_id;
    if (!chosen.empty() && choice->target == chosen) routed["chosen_by_administrator"] = true;
    if (auto s = recordEvent(**db, case_id, "gateway", "routed", status, "routed", boost::json::serialize(routed));
        !s) {
      return s;
    }
    outcome = "routed";
    return enqueueDelivery(**db, target, msg_id);
  });
  if (!done) {
    log::warn("routing failed, will retry", {{"case_id", case_id}, {"error", done.error().message}});
    return Disposition::Requeue;
  }
  app::metrics()
      .counter("vkhid_routing_total", "Routing decisions",
               {{"outcome", outcome.starts_with("already") ? "repeat" : outcome}})
      .inc();
  return Disposition::Ack;
}

}  // namespace vkhid::flows
