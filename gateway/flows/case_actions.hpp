// What a person does to a case or a delivery (the console, the administration API, the CLI): resend,
// reroute, mark for review, replay a dead delivery. Each is recorded as the case's event by its actor.
#pragma once

#include <string>

#include "gateway/domain/error.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// `vkhid message replay ID`: a dead delivery goes out again (and leaves the dead-letter queue).
Status replayMessage(ExchangeContext& context, const std::string& msg_id, const std::string& actor);
// A person acts on a case its participant rejected (or that could not be delivered): optionally with
// a corrected classification topic, the case goes to routing again and a new signed package (a new
// msg_id) is made and delivered. `reason` is recorded on the `resent` event.
Status resendCase(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  const std::string& reason, const std::string& topic = "");
// A person sends a rejected or undelivered case — or one waiting in the review queue (no rule placed
// it) — to participant `to`: routing takes that choice before any rule. Recorded as `rerouted`.
Status rerouteCase(store::PgConnection& db, const std::string& case_id, const std::string& actor, const std::string& to,
                   const std::string& reason);
// Marks a case for a person's review (any status), with a note; recorded as `review_requested`.
Status markForReview(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                     const std::string& note);

}  // namespace vkhid::flows
