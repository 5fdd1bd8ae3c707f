#include "gateway/crypto/aead.hpp"

#include "gateway/domain/text.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace vkhid::crypto {
namespace {

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* u(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

void check(bool ok) {
  if (!ok) throw std::runtime_error("AES-256-GCM: OpenSSL failed");
}

// AES-256-GCM as the provider implements it, fetched once: a cipher named by EVP_aes_256_gcm() is
// fetched again at every initialisation. And one context a thread, set afresh (key and nonce) by every
// seal and open, rather than one made and freed for each — together a hundredth of the gateway's CPU
// under load, where every package and case is sealed at rest.
const EVP_CIPHER* gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  check(cipher != nullptr);
  return cipher;
}

EVP_CIPHER_CTX* threadContext() {
  thread_local const Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  check(ctx != nullptr);
  return ctx.get();
}

}  // namespace

std::string randomBytes(std::size_t n) {
  std::string out(n, '\0');
  check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1);
  return out;
}

std::string aeadSealWithNonce(std::string_view key, std::string_view nonce, std::string_view plaintext,
                              std::string_view aad) {
  if (key.size() != kAeadKeyBytes || nonce.size() != kAeadNonceBytes) {
    throw std::invalid_argument("AES-256-GCM: a 32-byte key and a 12-byte nonce");
  }
  EVP_CIPHER_CTX* ctx = threadContext();
  check(EVP_EncryptInit_ex2(ctx, gcm(), u(key), u(nonce), nullptr) == 1);
  int len = 0;
  if (!aad.empty()) check(EVP_EncryptUpdate(ctx, nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1);
  std::string out(nonce);
  out.resize(kAeadNonceBytes + plaintext.size() + kAeadTagBytes);
  auto* body = reinterpret_cast<unsigned char*>(out.data()) + kAeadNonceBytes;
  check(EVP_EncryptUpdate(ctx, body, &len, u(plaintext), static_cast<int>(plaintext.size())) == 1);
  int tail = 0;
  check(EVP_EncryptFinal_ex(ctx, body + len, &tail) == 1);
  check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kAeadTagBytes, body + plaintext.size()) == 1);
  return out;
}

std::string aeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  return aeadSealWithNonce(key, randomBytes(kAeadNonceBytes), plaintext, aad);
}

std::optional<std::string> aeadOpen(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != kAeadKeyBytes || sealed.size() < kAeadNonceBytes + kAeadTagBytes) return std::nullopt;
  const auto body = sealed.substr(kAeadNonceBytes, sealed.size() - kAeadNonceBytes - kAeadTagBytes);
  std::string tag(sealed.substr(sealed.size() - kAeadTagBytes));
  EVP_CIPHER_CTX* ctx = threadContext();
  check(EVP_DecryptInit_ex2(ctx, gcm(), u(key), u(sealed.substr(0, kAeadNonceBytes)), nullptr) == 1);
  int len = 0;
  if (!aad.empty()) check(EVP_DecryptUpdate(ctx, nullptr, &len, u(aad), static_cast<int>(aad.size())) == 1);
  std::string out(body.size(), '\0');
  check(EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, u(body),
                          static_cast<int>(body.size())) == 1);
  check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kAeadTagBytes, tag.data()) == 1);
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &tail) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return out;
}

std::string hmacSha256Hex(std::string_view key, std::string_view value) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  check(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), u(value), value.size(), mac, &n) != nullptr);
  return hexEncode(std::string_view(reinterpret_cast<const char*>(mac), n));
}

}  // namespace vkhid::crypto
