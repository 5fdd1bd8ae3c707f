#include "gateway/crypto/otp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

namespace vkhid::crypto {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

const EVP_MD* digestOf(OtpHash hash) {
  switch (hash) {
    case OtpHash::Sha256: return EVP_sha256();
    case OtpHash::Sha512: return EVP_sha512();
    case OtpHash::Sha1: break;
  }
  return EVP_sha1();
}

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string uriEscape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string base32Encode(std::string_view bytes) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32Decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0, symbols = 0;
  bool padding = false;
  for (char ch : text) {
    if (ch == ' ') continue;
    if (ch == '=') {
      padding = true;
      continue;
    }
    if (padding) return std::nullopt;  // a symbol after the padding
    const char up = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
    const auto at = kAlphabet.find(up);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<unsigned>(at);
    bits += 5;
    ++symbols;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // A final group of 8 symbols leaves 0, 2, 4, 1 or 3 symbols over: 1, 3 and 6 cannot be.
  const int rest = symbols % 8;
  if (rest == 1 || rest == 3 || rest == 6) return std::nullopt;
  return out;
}

std::string hotp(std::string_view key, std::uint64_t counter, int digits, OtpHash hash) {
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(digestOf(hash), key.data(), static_cast<int>(key.size()), message.data(), message.size(), mac, &mac_len);
  const unsigned offset = mac[mac_len - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::string totp(std::string_view key, std::int64_t unix_seconds, int period, int digits, OtpHash hash) {
  return hotp(key, static_cast<std::uint64_t>(unix_seconds / period), digits, hash);
}

std::optional<std::int64_t> matchTotp(std::string_view key, std::string_view code, std::int64_t unix_seconds,
                                      int window, int period, int digits) {
  if (code.size() != static_cast<std::size_t>(digits)) return std::nullopt;
  const std::int64_t now = unix_seconds / period;
  std::optional<std::int64_t> found;
  // Every candidate is computed and compared, so the time taken does not say which matched.
  for (std::int64_t step = now + window; step >= now - window; --step) {
    if (step < 0) continue;
    const std::string expected = hotp(key, static_cast<std::uint64_t>(step), digits);
    if (CRYPTO_memcmp(expected.data(), code.data(), code.size()) == 0 && !found) found = step;
  }
  return found;
}

std::string totpUri(std::string_view issuer, std::string_view account, std::string_view secret_base32) {
  return "otpauth://totp/" + uriEscape(issuer) + ":" + uriEscape(account) + "?secret=" + std::string(secret_base32) +
         "&issuer=" + uriEscape(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace vkhid::crypto
