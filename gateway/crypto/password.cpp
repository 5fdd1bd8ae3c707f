#include "gateway/crypto/password.hpp"

#include <sodium.h>

namespace vkhid::crypto {
namespace {

bool ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

Result<std::string> hashPassword(std::string_view password) {
  if (!ready()) return Error{ErrorKind::Internal, "crypto.sodium", "libsodium could not be initialised"};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error{ErrorKind::Internal, "crypto.pwhash", "Argon2id: out of memory"};
  }
  return std::string(out);
}

bool verifyPassword(std::string_view stored, std::string_view password) {
  if (!ready() || stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string str(stored);  // NUL-terminated, as libsodium wants it
  return crypto_pwhash_str_verify(str.c_str(), password.data(), password.size()) == 0;
}

bool passwordNeedsRehash(std::string_view stored) {
  if (!ready()) return false;
  const std::string str(stored);
  return crypto_pwhash_str_needs_rehash(str.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

const std::string& decoyPasswordHash() {
  static const std::string decoy = [] {
    unsigned char random[32];
    if (ready()) randombytes_buf(random, sizeof random);
    auto h = hashPassword(std::string_view(reinterpret_cast<const char*>(random), sizeof random));
    return h ? *h : std::string();
  }();
  return decoy;
}

}  // namespace vkhid::crypto
