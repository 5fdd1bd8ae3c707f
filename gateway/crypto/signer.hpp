// The key that seals and signs: an interface, so a PKCS#11 token (hardware key; SoftHSM in tests)
// can replace the key file. With OpenSSL 3 a token's key is an EVP_PKEY from a provider, so callers
// need nothing else. Thread-safe for concurrent signing (OpenSSL keys are, once loaded).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/crypto/openssl.hpp"

namespace vkhid::crypto {

// A detached CMS signature of attachment bytes, as SEV OVV carries it in SignInfo.
struct CmsSignature {
  std::string der;           // the SignedData, DER
  std::string certificate;   // the signer's certificate, DER (for SignInfo/CertificateData)
  std::string signing_time;  // ISO 8601 UTC (for SignInfo/SigningTime)
};

struct CadesTemplate;  // crypto/cms.hpp

class Signer {
 public:
  virtual ~Signer() = default;
  // The key of an XML-DSig seal and of OpenSSL's CMS; nullptr for a key OpenSSL cannot use (DSTU 4145),
  // which signs attachments only (signCms).
  virtual EVP_PKEY* key() const = 0;
  virtual X509* certificate() const = 0;
  // Intermediate certificates to send along (may be empty); never the root.
  virtual std::vector<X509*> chain() const = 0;
  // A detached CAdES-BES signature of `content` (cms.hpp's signDetached unless the key signs otherwise).
  virtual Result<CmsSignature> signCms(std::string_view content) const;
  // The key is in a hardware module: it signs, but none of its secret parameters can be read.
  virtual bool keyInModule() const { return false; }

 protected:
  // Set by a signer whose key signs in this process (a key file): its signatures' fixed parts.
  std::shared_ptr<const CadesTemplate> cades_;
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
