// One-time passwords for the console's second factor (issue 29): HOTP (RFC 4226) and TOTP (RFC 6238)
// over OpenSSL's HMAC, and the base32 (RFC 4648) in which authenticator apps take the secret. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vkhid::crypto {

// RFC 4648 base32, upper case, without padding (as otpauth:// URIs carry it).
std::string base32Encode(std::string_view bytes);
// Accepts either case, spaces and '=' padding; nullopt for any other character or a bad length.
std::optional<std::string> base32Decode(std::string_view text);

enum class OtpHash { Sha1, Sha256, Sha512 };

// RFC 4226: HMAC over the big-endian counter, dynamically truncated, `digits` decimal digits (6–8).
std::string hotp(std::string_view key, std::uint64_t counter, int digits = 6, OtpHash hash = OtpHash::Sha1);
// RFC 6238: the HOTP of the time step floor(unix_seconds / period).
std::string totp(std::string_view key, std::int64_t unix_seconds, int period = 30, int digits = 6,
                 OtpHash hash = OtpHash::Sha1);

// The time step within `window` steps of `unix_seconds` whose code is `code` (compared in constant
// time), the latest first; nullopt when none is. The caller refuses a step it has accepted before.
std::optional<std::int64_t> matchTotp(std::string_view key, std::string_view code, std::int64_t unix_seconds,
                                      int window = 1, int period = 30, int digits = 6);

// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30, for a QR code or
// an app's "enter a key" form.
std::string totpUri(std::string_view issuer, std::string_view account, std::string_view secret_base32);

}  // namespace vkhid::crypto
