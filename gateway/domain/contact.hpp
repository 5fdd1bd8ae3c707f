// An applicant's or a contact's e-mail address and phone number: checked where they enter (the intake
// refuses a malformed one with its field), normalised for sending, and masked wherever a record of a
// notice is kept (no log or report ever holds the whole address).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkhid::domain {

// An address a mail server would take: one "@", a local part and a domain with a dot, no spaces or
// control characters, at most 254 bytes. Not a full RFC 5321 parser: quoted local parts are refused.
bool validEmail(std::string_view address);

// A phone number in E.164 ("+380501234567") from what people write: "+380 50 123-45-67",
// "(050) 123 45 67" or "0501234567" (Ukraine's trunk 0), "380501234567". nullopt when it is none.
std::optional<std::string> normalisePhone(std::string_view text);

// "i***@example.org", "+38050*****67": enough to tell two recipients apart in a report.
std::string maskEmail(std::string_view address);
std::string maskPhone(std::string_view e164);

}  // namespace vkhid::domain
