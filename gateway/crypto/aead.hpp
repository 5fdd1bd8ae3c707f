// AES-256-GCM (OpenSSL EVP) for personal data at rest (issue 29), and HMAC-SHA-256 for the keyed hashes
// that let sealed values be searched by equality. Pure: keys come from the caller.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkhid::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32, kAeadNonceBytes = 12, kAeadTagBytes = 16;

// nonce (12 random bytes) || ciphertext || tag (16 bytes). `aad` is authenticated, not stored: the
// same aad must be given to open it (it binds a value to its row, so a value moved to another row or
// column does not open). The key must be 32 bytes.
std::string aeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad);
// The same with a given nonce: for known-answer tests only (a nonce must never repeat under one key).
std::string aeadSealWithNonce(std::string_view key, std::string_view nonce, std::string_view plaintext,
                              std::string_view aad);
// The plaintext; nullopt when the tag does not match (a changed byte, the wrong key or the wrong aad).
std::optional<std::string> aeadOpen(std::string_view key, std::string_view sealed, std::string_view aad);

// HMAC-SHA-256 of `value` under `key`, as lower-case hex.
std::string hmacSha256Hex(std::string_view key, std::string_view value);

// n bytes from OpenSSL's CSPRNG.
std::string randomBytes(std::size_t n);

}  // namespace vkhid::crypto
