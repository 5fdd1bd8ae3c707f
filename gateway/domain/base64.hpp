// Base64 (RFC 4648) as xs:base64Binary allows it: whitespace between characters is skipped on decode.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkhid {

std::string base64Encode(std::string_view bytes);
// nullopt when the text is not base64 (bad character, bad length or bad padding).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace vkhid
