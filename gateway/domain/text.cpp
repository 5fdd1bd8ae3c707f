#include "gateway/domain/text.hpp"

#include <array>
#include <cctype>
#include <optional>
#include <regex>

namespace vkhid {

std::string hexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  char* o = out.data();
  for (unsigned char c : bytes) {
    *o++ = kHex[c >> 4];
    *o++ = kHex[c & 0xf];
  }
  return out;
}

bool isUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string normalisedWords(std::string_view text) {
  std::string out;
  bool gap = false;
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < len && i + k < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    // Apostrophes inside Ukrainian words (' ’ ʼ `) vary by keyboard: dropped.
    if (cp == U'\'' || cp == U'\u2019' || cp == U'\u02BC' || cp == U'`') continue;
    if (cp >= U'A' && cp <= U'Z')
      cp += 0x20;
    else if (cp >= 0x0410 && cp <= 0x042F)
      cp += 0x20;  // А–Я
    else if (cp >= 0x0400 && cp <= 0x040F)
      cp += 0x50;  // Ѐ–Џ (Є, І, Ї among them)
    else if (cp == 0x0490)
      cp = 0x0491;  // Ґ
    const bool word =
        (cp >= U'a' && cp <= U'z') || (cp >= U'0' && cp <= U'9') || (cp >= 0x0430 && cp <= 0x045F) || cp == 0x0491;
    if (!word) {
      gap = !out.empty();
      continue;
    }
    if (gap) out += ' ';
    gap = false;
    appendUtf8(out, cp);
  }
  return out;
}

std::string oneLine(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

namespace {
constexpr std::array<signed char, 256> makeNibbles() {
  std::array<signed char, 256> r{};
  for (auto& v : r) v = -1;
  for (int c = '0'; c <= '9'; ++c) r[c] = static_cast<signed char>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) r[c] = static_cast<signed char>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) r[c] = static_cast<signed char>(c - 'A' + 10);
  return r;
}
constexpr auto kNibble = makeNibbles();
}  // namespace

// Written straight into place: every package read from PostgreSQL comes as bytea's hex (fromByteaHex).
std::optional<std::string> hexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(hex.data());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = kNibble[in[2 * i]], lo = kNibble[in[2 * i + 1]];
    if ((hi | lo) < 0) return std::nullopt;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string escapeMarkup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// The next code point of well-formed UTF-8 at `i` (advanced past it); nullopt when malformed.
std::optional<char32_t> nextCodePoint(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
  if (extra < 0 || s.size() - i <= static_cast<std::size_t>(extra)) return std::nullopt;
  char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char cc = byte(i + static_cast<std::size_t>(k));
    if ((cc >> 6) != 2) return std::nullopt;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

}  // namespace

bool isCleanText(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto cp = nextCodePoint(s, i);
    if (!cp) return false;
    if ((*cp < 0x20 && *cp != '\t' && *cp != '\n' && *cp != '\r') || *cp == 0x7F) return false;
  }
  return true;
}

bool isRegistrationNumber(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    auto cp = nextCodePoint(s, i);
    if (!cp) return false;
    char32_t c = *cp;
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= 0x0400 && c <= 0x04FF) || c == 0x2116 || c == ' ' || c == '/' || c == '-' || c == '.' || c == '_' ||
              c == ',' || c == ':' || c == '(' || c == ')';
    if (!ok) return false;
  }
  return count >= 1 && count <= 64;
}

std::vector<std::string> splitList(std::string_view list) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    auto comma = list.find(',', at);
    std::string_view item = list.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return out;
}

bool isDigits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

namespace {

struct DigitRange {
  std::size_t min, max;
};

// Digits in groups joined by dots: the first group's length in `first`, the number of groups after it
// in `more`, each of their lengths in `each`.
bool isDottedDigits(std::string_view s, DigitRange first, DigitRange more, DigitRange each) {
  std::size_t group = 0;
  for (;; ++group) {
    const std::size_t dot = s.find('.');
    const std::string_view digits = s.substr(0, dot);
    const DigitRange& want = group == 0 ? first : each;
    if (!isDigits(digits) || digits.size() < want.min || digits.size() > want.max) return false;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return group >= more.min && group <= more.max;
}

}  // namespace

bool isClassifierCode(std::string_view s) { return isDottedDigits(s, {1, 2}, {1, 3}, {1, 3}); }
bool isTopicCode(std::string_view s) { return isDottedDigits(s, {3, 3}, {0, SIZE_MAX}, {1, 4}); }
bool isEdrpou(std::string_view s) { return s.size() >= 8 && s.size() <= 10 && isDigits(s); }

std::string csvField(const std::string& raw) {
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?)");
  std::string s = raw;
  if (!s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos &&
      !std::regex_match(s, number)) {
    s = "'" + s;
  }
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace vkhid
