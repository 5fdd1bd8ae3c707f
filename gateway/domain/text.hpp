// Small text helpers shared by the edges. Pure.
#pragma once

#include <string>
#include <string_view>

namespace vkhid {

// Lower-case hexadecimal of bytes.
std::string hexEncode(std::string_view bytes);

// A library's message as one log-friendly line: trailing newlines and spaces dropped, inner newlines
// made spaces.
std::string oneLine(const char* text);

}  // namespace vkhid
