// Signing with DSTU 4145 over GOST 34.311, for tests, the simulator and the demo only: a test CA's
// certificates made with our own DSTU code (nothing of it is qualified — the UCC's qualified DSTU
// signing needs a certified device, docs/signatures.md), and CAdES-BES signatures as Ukrainian signing
// tools make them (messageDigest and signingCertificateV2 by GOST 34.311, the signature over the DER
// SET of the signed attributes, SignerInfo.signature = LE(r) || LE(s)).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/signer.hpp"

namespace vkhid::crypto::dstu {

struct CertificateRequest {
  std::string common_name;
  std::string organization;
  std::string org_id;      // EDRPOU: organizationIdentifier NTRUA-<org_id>; empty: none
  bool ca = false;         // basicConstraints CA, keyCertSign and cRLSign; else digitalSignature, nonRepudiation
  bool qualified = false;  // qcStatements with QcCompliance (a test certificate that says it is qualified)
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  long long serial = 1;
};

// A certificate (DER) for `subject_key`, signed by `issuer_key`; `issuer_der` empty: self-signed.
Result<std::string> issueCertificate(const PrivateKey& subject_key, const CertificateRequest& request,
                                     const PrivateKey& issuer_key, const std::string& issuer_der = {});

// The same for any key (an ECDSA or RSA one, DER SubjectPublicKeyInfo): a mixed chain's certificate.
Result<std::string> issueCertificateFor(const std::string& spki_der, const CertificateRequest& request,
                                        const PrivateKey& issuer_key, const std::string& issuer_der = {});

// A CRL (DER) signed by `issuer_key` for the certificate `issuer_der`, revoking each serial at its time.
Result<std::string> issueCrl(const PrivateKey& issuer_key, const std::string& issuer_der,
                             const std::vector<std::pair<long long, std::time_t>>& revoked, std::time_t this_update);

// A test PKI written into `dir` (made when missing, kept when present): dstu-ca.{cer,key} (m = 257),
// and for each organisation `dstu-<org>.{cer,key}` (m = 431) issued by it. Keys are text files
// (privateKeyText), mode 0600. Returns the files made.
Result<std::vector<std::string>> makeTestPki(const std::string& dir, const std::vector<std::string>& org_ids);

// A Signer over a DSTU 4145 key and its certificate (and the certificates to send along).
class DstuSigner final : public Signer {
 public:
  static Result<DstuSigner> load(const std::string& key_path, const std::string& cert_path,
                                 const std::string& chain_path = {});
  EVP_PKEY* key() const override { return nullptr; }
  X509* certificate() const override { return cert_.get(); }
  std::vector<X509*> chain() const override;
  Result<CmsSignature> signCms(std::string_view content) const override;

 private:
  std::shared_ptr<PrivateKey> key_;
  X509Ptr cert_;
  std::vector<X509Ptr> chain_;
};

}  // namespace vkhid::crypto::dstu
