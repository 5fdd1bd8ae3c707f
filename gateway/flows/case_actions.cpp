// What a person does to a case or a delivery from the console, the administration API or the CLI:
// resend, reroute, mark for review, replay a dead delivery.
#include "gateway/flows/case_actions.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "gateway/bus/topology.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/pg_pool.hpp"
#include "gateway/store/routes.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;

// A person sends a case to routing again: under the case's row lock, from a status `event` may leave,
// `prepare` changes what it must (with the status it finds), the case becomes `registered` with
// `event` recorded, and routing hears of it in the same transaction.
template <class Prepare>
Status routeAgain(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  domain::CaseEvent event, json::object detail, Prepare&& prepare) {
  const std::string name = domain::caseEventName(event);
  return store::inTransaction(db, [&]() -> Status {
    auto row = store::lockCaseForAction(db, case_id);
    if (!row) return row.error();
    if (!*row) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    const auto& c = **row;
    const auto from = c.status;
    const std::string from_name = domain::caseStatusName(from);
    // A registered case that no rule placed waits in the UCC review queue: a person may route it. One
    // registered and with a participant is on its way, not waiting.
    const bool placed = from == domain::CaseStatus::Registered && c.with_participant;
    if (!domain::transition(from, event).allowed || placed) {
      return Error{ErrorKind::Conflict, "case.not_now",
                   "case " + case_id + " is " + from_name + ": " + name + " needs it rejected or undelivered" +
                       (event == domain::CaseEvent::Rerouted ? ", or waiting in the review queue" : "")};
    }
    if (auto s = prepare(c, detail); !s) return s;
    auto moved = store::transitionCase(db, {case_id, from, event, 0, actor, json::serialize(detail), {}});
    if (!moved) return moved.error();
    auto n = store::countCaseEvents(db, case_id, name);
    if (!n) return n.error();
    return enqueueOutbox(db, bus::names::kEvents, "case.registered", case_id + ":" + name + ":" + std::to_string(*n),
                         json::serialize(json::object{{"case_id", case_id}}), "{}",
                         c.priority ? kPriorityApplicant : 0);
  });
}

}  // namespace

Status CaseActions::resend(const std::string& case_id, const std::string& reason, const std::string& topic) {
  auto& db = db_;
  const std::string& actor = actor_;
  if (reason.empty()) return Error::invalid("case.reason_required", "reason: say why the case is sent again");
  if (!topic.empty() && !isTopicCode(topic)) {
    return Error::invalid("case.bad_topic", "topic: expected a topic code such as 004, not '" + topic + "'");
  }
  return routeAgain(db, case_id, actor, domain::CaseEvent::Resent, json::object{{"reason", reason}},
                    [&](const store::ActionCaseRow&, json::object& detail) -> Status {
                      if (topic.empty()) return {};
                      auto old = store::caseTopic(db, case_id);
                      if (!old) return old.error();
                      if (*old == topic) return {};
                      detail["topic"] = topic;
                      detail["topic_was"] = *old;
                      return store::setCaseTopic(db, case_id, topic);
                    });
}

Status CaseActions::reroute(const std::string& case_id, const std::string& to, const std::string& reason) {
  auto& db = db_;
  const std::string& actor = actor_;
  if (reason.empty()) return Error::invalid("case.reason_required", "reason: say why the case goes elsewhere");
  if (to.empty()) return Error::invalid("case.to_required", "to: the org_id of the participant to send it to");
  return routeAgain(
      db, case_id, actor, domain::CaseEvent::Rerouted, json::object{{"reason", reason}, {"to", to}},
      [&](const store::ActionCaseRow& c, json::object&) -> Status {
        const std::string& kind = c.kind;
        if (to == c.complained_of) {
          return Error::invalid("case.complained_of", "to: " + to + " is the body this complaint is about (" +
                                                          std::string(kComplaintRule) + ")");
        }
        store::PgRouteRepository routes(db);
        auto ok = routes.takes(to, kind, {});
        if (!ok) return ok.error();
        if (!*ok) {
          return Error::invalid("case.bad_target", "to: " + to + " is not an active participant that takes " + kind);
        }
        return store::setRouteTo(db, case_id, to);
      });
}

Status CaseActions::review(const std::string& case_id, const std::string& note) {
  auto& db = db_;
  const std::string& actor = actor_;
  if (note.empty()) return Error::invalid("case.note_required", "note: say what is to be reviewed");
  return store::inTransaction(db, [&]() -> Status {
    auto marked = store::setReviewNote(db, case_id, note);
    if (!marked) return marked.error();
    if (!*marked) return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
    const std::string& status = **marked;
    return recordEvent(db, case_id, actor, "review_requested", status, status,
                       json::serialize(json::object{{"note", note}}));
  });
}

Status CaseActions::replay(const std::string& msg_id) {
  const std::string& actor = actor_;
  std::string org;
  Status done = store::inTransaction(db_, [&]() -> Status {
    auto m = store::requeueDead(db_, msg_id);
    if (!m) return m.error();
    if (!*m) return Error{ErrorKind::NotFound, "message.not_dead", "no dead outbound message " + msg_id};
    org = (*m)->peer_org_id;
    const std::string case_id = (*m)->case_id;
    if (!case_id.empty() && (*m)->msg_type == 1) {
      auto from = store::lockCaseStatus(db_, case_id);
      if (!from) return from.error();
      if (*from && domain::transition(**from, domain::CaseEvent::DeliveryReplayed).allowed) {
        auto moved = store::transitionCase(db_, {case_id,
                                                 **from,
                                                 domain::CaseEvent::DeliveryReplayed,
                                                 0,
                                                 actor,
                                                 json::serialize(json::object{{"msg_id", msg_id}}),
                                                 {}});
        if (!moved) return moved.error();
      }
    }
    return enqueueDelivery(db_, org, msg_id);
  });
  if (!done) return done;
  // Take its entry out of the dead-letter queue: a person has dealt with it.
  auto c = bus::AmqpConnection::connect(broker_);
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
