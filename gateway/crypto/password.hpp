// Passwords of the console's personal accounts (issue 29): Argon2id through libsodium's
// crypto_pwhash_str_alg, stored as its self-describing string ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
#pragma once

#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto {

// Argon2id at libsodium's limits for interactive sign-in (2 passes over 64 MiB), with a random salt.
Result<std::string> hashPassword(std::string_view password);
// True when `password` is the one `stored` was made from. A malformed `stored` is false.
bool verifyPassword(std::string_view stored, std::string_view password);
// True when `stored` was made with other parameters than hashPassword's now (re-hash at the next sign-in).
bool passwordNeedsRehash(std::string_view stored);
// A string of the same form made once from a random password: checked against when a login is unknown,
// so that a refusal takes as long whether or not the login exists.
const std::string& decoyPasswordHash();

}  // namespace vkhid::crypto
