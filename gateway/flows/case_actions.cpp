// What a person does to a case or a delivery from the console, the administration API or the CLI:
// resend, reroute, mark for review, replay a dead delivery.
#include "gateway/flows/case_actions.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <regex>

#include "gateway/bus/topology.hpp"
#include "gateway/flows/exchange_store.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

}  // namespace

namespace {

// A person sends a case to routing again: under the case's row lock, from a status `event` may leave,
// `prepare` changes what it must (with the status it finds), the case becomes `registered` with
// `event` recorded, and routing hears of it in the same transaction.
template <class Prepare>
Status routeAgain(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  domain::CaseEvent event, json::object detail, Prepare&& prepare) {
  const std::string name = domain::caseEventName(event);
  return store::inTransaction(db, [&]() -> Status {
    auto c = db.exec(
        "SELECT status, kind, priority, participant_org_id IS NULL FROM cases WHERE id = vkhid_uuid($1) "
        "FOR UPDATE",
        {case_id});
    if (!c) return c.error();
    if (c->rows() == 0) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    std::string from_name(c->get(0, 0)), kind(c->get(0, 1));
    auto stored = store::caseStatusOf(from_name, case_id);
    if (!stored) return stored.error();
    const auto from = *stored;
    // A registered case that no rule placed waits in the UCC review queue: a person may route it. One
    // registered and with a participant is on its way, not waiting.
    const bool placed = from == domain::CaseStatus::Registered && c->get(0, 3) != "t";
    if (!domain::transition(from, event).allowed || placed) {
      return Error{ErrorKind::Conflict, "case.not_now",
                   "case " + case_id + " is " + from_name + ": " + name + " needs it rejected or undelivered" +
                       (event == domain::CaseEvent::Rerouted ? ", or waiting in the review queue" : "")};
    }
    if (auto s = prepare(kind, detail); !s) return s;
    auto moved = store::transitionCase(db, {case_id, from, event, 0, actor, json::serialize(detail), {}});
    if (!moved) return moved.error();
    auto n = db.exec("SELECT count(*) FROM case_event WHERE case_id = vkhid_uuid($1) AND event = $2", {case_id, name});
    if (!n) return n.error();
    return enqueueOutbox(
        db, bus::names::kEvents, "case.registered", case_id + ":" + name + ":" + std::string(n->get(0, 0)),
        json::serialize(json::object{{"case_id", case_id}}), "{}", c->get(0, 2) == "t" ? kPriorityApplicant : 0);
  });
}

}  // namespace

Status resendCase(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  const std::string& reason, const std::string& topic) {
  static const std::regex topic_re(R"([0-9]{3}(\.[0-9]{1,4})*)");
  if (reason.empty()) return Error::invalid("case.reason_required", "reason: say why the case is sent again");
  if (!topic.empty() && !std::regex_match(topic, topic_re)) {
    return Error::invalid("case.bad_topic", "topic: expected a topic code such as 004, not '" + topic + "'");
  }
  return routeAgain(db, case_id, actor, domain::CaseEvent::Resent, json::object{{"reason", reason}},
                    [&](const std::string&, json::object& detail) -> Status {
                      if (topic.empty()) return {};
                      auto old = db.exec(
                          "SELECT coalesce(body->'classification'->>'topic', '') FROM cases WHERE id = vkhid_uuid($1)",
                          {case_id});
                      if (!old) return old.error();
                      if (old->get(0, 0) == topic) return {};
                      detail["topic"] = topic;
                      detail["topic_was"] = std::string(old->get(0, 0));
                      auto u = db.exec(
                          "UPDATE cases SET body = jsonb_set(body, '{classification}', "
                          "coalesce(body->'classification', '{}'::jsonb) || jsonb_build_object('topic', $2::text)) "
                          "WHERE id = vkhid_uuid($1)",
                          {case_id, topic});
                      return u ? Status() : Status(u.error());
                    });
}

Status rerouteCase(store::PgConnection& db, const std::string& case_id, const std::string& actor, const std::string& to,
                   const std::string& reason) {
  if (reason.empty()) return Error::invalid("case.reason_required", "reason: say why the case goes elsewhere");
  if (to.empty()) return Error::invalid("case.to_required", "to: the org_id of the participant to send it to");
  return routeAgain(db, case_id, actor, domain::CaseEvent::Rerouted, json::object{{"reason", reason}, {"to", to}},
                    [&](const std::string& kind, json::object&) -> Status {
                      auto ok = db.exec(
                          "SELECT 1 FROM participant WHERE org_id = $1 AND status IN ('active', 'suspended') "
                          "AND $2 = ANY (kinds)",
                          {to, kind});
                      if (!ok) return ok.error();
                      if (ok->rows() == 0) {
                        return Error::invalid("case.bad_target",
                                              "to: " + to + " is not an active participant that takes " + kind);
                      }
                      auto u = db.exec("UPDATE cases SET route_to = $2 WHERE id = vkhid_uuid($1)", {case_id, to});
                      return u ? Status() : Status(u.error());
                    });
}

Status markForReview(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                     const std::string& note) {
  if (note.empty()) return Error::invalid("case.note_required", "note: say what is to be reviewed");
  return store::inTransaction(db, [&]() -> Status {
    auto c = db.exec(
        "UPDATE cases SET review_note = $2, review_at = now(), updated_at = now() WHERE id = vkhid_uuid($1) "
        "RETURNING status",
        {case_id, note});
    if (!c) return c.error();
    if (c->rows() == 0) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    std::string status(c->get(0, 0));
    return recordEvent(db, case_id, actor, "review_requested", status, status,
                       json::serialize(json::object{{"note", note}}));
  });
}

Status replayMessage(ExchangeContext& context, const std::string& msg_id, const std::string& actor) {
  auto db = context.pool.acquire();
  if (!db) return db.error();
  std::string org;
  Status done = store::inTransaction(**db, [&]() -> Status {
    auto m = (*db)->exec(
        "UPDATE message SET status = 'queued', attempts = 0, updated_at = now() WHERE msg_id = vkhid_uuid($1) AND "
        "direction = 'out' AND status = 'dead' RETURNING peer_org_id, coalesce(case_id::text, ''), msg_type",
        {msg_id});
    if (!m) return m.error();
    if (m->rows() == 0) {
      return Error{ErrorKind::NotFound, "message.not_dead", "no dead outbound message " + msg_id};
    }
    org = std::string(m->get(0, 0));
    std::string case_id(m->get(0, 1));
    if (!case_id.empty() && m->getInt(0, 2) == 1) {
      auto from = store::lockCaseStatus(**db, case_id);
      if (!from) return from.error();
      if (*from && domain::transition(**from, domain::CaseEvent::DeliveryReplayed).allowed) {
        auto moved = store::transitionCase(**db, {case_id,
                                                  **from,
                                                  domain::CaseEvent::DeliveryReplayed,
                                                  0,
                                                  actor,
                                                  json::serialize(json::object{{"msg_id", msg_id}}),
                                                  {}});
        if (!moved) return moved.error();
      }
    }
    return enqueueDelivery(**db, org, msg_id);
  });
  if (!done) return done;
  // Take its entry out of the dead-letter queue: a person has dealt with it.
  auto c = bus::AmqpConnection::connect(context.broker());
  if (!c) return {};
  std::vector<std::uint64_t> others;
  for (int i = 0; i < 10000; ++i) {
    auto d = c->get(bus::names::kDeadQueue);
    if (!d || !d->has_value()) break;
    if ((*d)->message_id == msg_id) {
      (void)c->ack((*d)->tag);
    } else {
      others.push_back((*d)->tag);
    }
  }
  for (auto tag : others) (void)c->nack(tag, true);
  return {};
}

}  // namespace vkhid::flows
