// Small text helpers shared by the edges. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkhid {

// Lower-case hexadecimal of bytes.
std::string hexEncode(std::string_view bytes);
// Bytes of hexadecimal text (either case); nullopt if not an even run of hex digits.
std::optional<std::string> hexDecode(std::string_view hex);

// 8-4-4-4-12 hexadecimal digits (either case): what a SEV OVV msg_id and PostgreSQL's uuid look like.
bool isUuid(std::string_view s);

// `s` with its ASCII letters in lower case (a UUID or a hex digest as PostgreSQL prints it).
std::string lowerAscii(std::string_view s);

// Text made safe inside XML or HTML content and double-quoted attributes (& < > ").
std::string escapeMarkup(std::string_view text);

// One CSV cell (RFC 4180 quoting). A spreadsheet takes a cell that starts with = + - @ (or a tab or
// carriage return) for a formula: such text is prefixed with an apostrophe, as OWASP advises against
// CSV injection (a negative number stays a number).
std::string csvField(const std::string& raw);

// Well-formed UTF-8 (no overlong forms, no surrogates) with no NUL and no other C0 control but tab,
// line feed and carriage return: what a text field may hold before it goes near a database or a log.
bool isCleanText(std::string_view s);

// A participant's registration number as SEV OVV carries it (RegNumber): 1 to 64 characters — letters
// (Latin, Cyrillic), digits, spaces and the separators / - . _ , : ( ) №. Nothing that reads as markup.
bool isRegistrationNumber(std::string_view s);

// The items of a comma-separated setting ("a, b,c"), spaces around each trimmed, empty ones dropped.
std::vector<std::string> splitList(std::string_view list);

// One or more ASCII digits and nothing else (an EDRPOU code, a number safe in a file name).
bool isDigits(std::string_view s);
// The codes a case's fields carry, checked character by character (a std::regex match took
// microseconds a field at every intake, one compiled at each call more): a classifier code of one or
// two digits and one to three groups of one to three (1.1, 7.10, 12.3.4); a topic of three digits and
// any groups of one to four (004, 004.0001); an EDRPOU code of 8 to 10 digits.
bool isClassifierCode(std::string_view s);
bool isTopicCode(std::string_view s);
bool isEdrpou(std::string_view s);

// Text reduced to its words, for comparing what people wrote: Latin and Cyrillic letters lower-cased,
// apostrophes dropped, every other run of non-letters and non-digits one space, trimmed. Two appeals
// that differ only in case, punctuation and spacing come out the same. Input is clean UTF-8.
std::string normalisedWords(std::string_view text);

// A library's message as one log-friendly line: trailing newlines and spaces dropped, inner newlines
// made spaces.
std::string oneLine(const char* text);

}  // namespace vkhid
