#include "gateway/domain/base64.hpp"

#include <array>

namespace vkhid {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> makeReverse() {
  std::array<signed char, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i) r[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  return r;
}
constexpr auto kReverse = makeReverse();

bool isSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '=');
  char* o = out.data();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (unsigned(p[i]) << 16) | (unsigned(p[i + 1]) << 8) | unsigned(p[i + 2]);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {  // the '=' are there already
    unsigned v = unsigned(p[i]) << 16;
    if (rest == 2) v |= unsigned(p[i + 1]) << 8;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    if (rest == 2) *o = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* o = out.data();
  unsigned acc = 0;
  int bits = 0;
  std::size_t count = 0;  // significant characters seen
  int padding = 0;        // '=' seen
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Four characters of data at a quantum's start, the common case, at once (a package's header and
    // certificates are lines of 64 or 76): character by character, a package's verification spent a
    // twentieth of its time here.
    if (bits == 0 && padding == 0 && end - p >= 4) {
      const int a = kReverse[p[0]], b = kReverse[p[1]], c = kReverse[p[2]], d = kReverse[p[3]];
      if ((a | b | c | d) >= 0) {
        const unsigned q = (unsigned(a) << 18) | (unsigned(b) << 12) | (unsigned(c) << 6) | unsigned(d);
        *o++ = static_cast<char>(q >> 16);
        *o++ = static_cast<char>((q >> 8) & 0xff);
        *o++ = static_cast<char>(q & 0xff);
        p += 4;
        count += 4;
        continue;
      }
    }
    const char ch = static_cast<char>(*p++);
    if (isSpace(ch)) continue;
    if (ch == '=') {
      ++padding;
      ++count;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v = kReverse[static_cast<unsigned char>(ch)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    ++count;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (count % 4 != 0 || padding > 2) return std::nullopt;
  if (padding > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical tail bits
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

}  // namespace vkhid
