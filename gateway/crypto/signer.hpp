// The key that seals and signs: an interface, so a PKCS#11 token (hardware key; SoftHSM in tests)
// can replace the key file. With OpenSSL 3 a token's key is an EVP_PKEY from a provider, so callers
// need nothing else. Thread-safe for concurrent signing (OpenSSL keys are, once loaded).
#pragma once

#include <string>
#include <vector>

#include "gateway/crypto/openssl.hpp"

namespace vkhid::crypto {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual EVP_PKEY* key() const = 0;
  virtual X509* certificate() const = 0;
  // Intermediate certificates to send along (may be empty); never the root.
  virtual std::vector<X509*> chain() const = 0;
};

// A PEM key file and a PEM certificate file (the signer first, then any intermediates).
class FileSigner final : public Signer {
 public:
  static Result<FileSigner> load(const std::string& key_path, const std::string& cert_path);

  EVP_PKEY* key() const override { return key_.get(); }
  X509* certificate() const override { return certs_.front().get(); }
  std::vector<X509*> chain() const override;

 private:
  EvpPkeyPtr key_;
  std::vector<X509Ptr> certs_;
};

}  // namespace vkhid::crypto
