// What a person does to a case or a delivery (the console, the administration API, the CLI): resend,
// reroute, mark for review, replay a dead delivery. Each is recorded as the case's event by its actor.
#pragma once

#include <string>

#include "gateway/bus/amqp.hpp"
#include "gateway/domain/error.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// A person's hand on one case or delivery. Each act is recorded as the case's event by `actor`.
class CaseActions {
 public:
  // Acting on `db` (the caller's connection) as `actor`; a replay also takes its entry off the
  // dead-letter queue on `broker`.
  CaseActions(store::PgConnection& db, bus::AmqpSettings broker, std::string actor)
      : db_(db), broker_(std::move(broker)), actor_(std::move(actor)) {}

  // A case its participant rejected (or that could not be delivered) goes to routing again, optionally
  // with a corrected classification topic; a new signed package (a new msg_id) is made and delivered.
  // `reason` is recorded on the `resent` event.
  Status resend(const std::string& case_id, const std::string& reason, const std::string& topic = "");
  // A rejected or undelivered case — or one waiting in the review queue (no rule placed it) — goes to
  // participant `to`: routing takes that choice before any rule. Recorded as `rerouted`.
  Status reroute(const std::string& case_id, const std::string& to, const std::string& reason);
  // Marks a case for a person's review (any status), with a note; recorded as `review_requested`.
  Status review(const std::string& case_id, const std::string& note);
  // `vkhid message replay ID`: a dead delivery goes out again (and leaves the dead-letter queue).
  Status replay(const std::string& msg_id);

 private:
  store::PgConnection& db_;
  bus::AmqpSettings broker_;
  std::string actor_;
};

}  // namespace vkhid::flows
