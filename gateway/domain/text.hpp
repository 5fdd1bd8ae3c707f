// Small text helpers shared by the edges. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkhid {

// Lower-case hexadecimal of bytes.
std::string hexEncode(std::string_view bytes);
// Bytes of hexadecimal text (either case); nullopt if not an even run of hex digits.
std::optional<std::string> hexDecode(std::string_view hex);

// 8-4-4-4-12 hexadecimal digits (either case): what a SEV OVV msg_id and PostgreSQL's uuid look like.
bool isUuid(std::string_view s);

// Text made safe inside XML or HTML content and double-quoted attributes (& < > ").
std::string escapeMarkup(std::string_view text);

// A library's message as one log-friendly line: trailing newlines and spaces dropped, inner newlines
// made spaces.
std::string oneLine(const char* text);

}  // namespace vkhid
