// The UCC's alerts inbox (issue 27): the alerts the notifier took from vkhid.alerts (table alert), who
// was told of each and how, and their acknowledgement. Read by the administration API and the console.
#pragma once

#include <string>

#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// The alerts as a JSON array: open ones first, the most urgent and newest first; each with its notices
// (channel, masked recipient, status, attempts). `open_only`: the unacknowledged ones. Without
// `restricted_access`, an alert about a restricted case names no case.
Result<std::string> listAlerts(store::PgConnection& db, bool open_only, bool restricted_access, int limit);

// Acknowledges alert `id` with a comment (required), in the evidence log as alert.ack (the comment's
// digest). alert.unknown (not found), alert.acknowledged (conflict: the first acknowledgement stands),
// alert.invalid (no comment).
Status acknowledgeAlert(store::PgConnection& db, const std::string& id, const std::string& actor,
                        const std::string& comment);

}  // namespace vkhid::flows
