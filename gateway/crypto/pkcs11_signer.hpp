// The UCC's seal key in a hardware module, over PKCS#11 (libp11): the key is generated on the token and
// never leaves it; OpenSSL signs through it (the EVP_PKEY libp11 gives routes each signature to the
// token), so the seal, CMS signatures and the audit batches need nothing else. Tested with SoftHSM2; a
// deployment plugs in its certified module's library instead (docs/signatures.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/crypto/signer.hpp"

namespace vkhid::crypto {

// A key on a token, named by an RFC 7512 URI: pkcs11:token=<token label>;object=<key label> (id=%xx…
// also accepted). The PIN comes from a secret file, never the URI or the command line.
struct TokenKey {
  std::string module;  // the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string uri;
  std::string pin;
};

class Pkcs11Signer final : public Signer {
 public:
  // Opens the token, logs in, finds the private key and checks it is the key of `cert_path` (PEM:
  // the certificate first, then any intermediates). Errors name the module, token or object at fault.
  static Result<std::unique_ptr<Pkcs11Signer>> open(const TokenKey& key, const std::string& cert_path);
  // The key alone, before it has a certificate (to sign its certificate request); certificate() must
  // not be called on it.
  static Result<std::unique_ptr<Pkcs11Signer>> openKeyOnly(const TokenKey& key);
  ~Pkcs11Signer() override;
  Pkcs11Signer(const Pkcs11Signer&) = delete;
  Pkcs11Signer& operator=(const Pkcs11Signer&) = delete;

  EVP_PKEY* key() const override { return key_.get(); }
  X509* certificate() const override { return certs_.front().get(); }
  std::vector<X509*> chain() const override;
  bool keyInModule() const override { return true; }

 private:
  Pkcs11Signer() = default;
  struct Session;
  std::unique_ptr<Session> session_;
  EvpPkeyPtr key_;
  std::vector<X509Ptr> certs_;
};

// The seal's signer as configured: a PKCS#11 URI (`pkcs11:…`) opens the token with `module` and the PIN
// in `pin_file`; anything else is a PEM key file.
Result<std::unique_ptr<Signer>> openSealSigner(const std::string& key, const std::string& cert,
                                               const std::string& module, const std::string& pin_file);

// A certificate request (PEM) for the signer's key and `subject` ("/O=…/CN=…"): how a token's key
// gets its certificate from a CA without the key ever leaving the token.
Result<std::string> certificateRequest(EVP_PKEY* key, const std::string& subject);

}  // namespace vkhid::crypto
