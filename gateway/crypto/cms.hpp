// Detached CMS signatures of attachment bytes, as SEV OVV carries them in SignInfo/SignData:
// CAdES-BES (signing time and signing-certificate-v2 signed attributes), SHA-256.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/crypto/verdict.hpp"

namespace vkhid::crypto {

// OpenSSL's CMS_sign: any key OpenSSL can use, a hardware module's too.
Result<CmsSignature> signDetached(std::string_view content, const Signer& signer);

// What every signature of one ECDSA or RSA signer repeats — its certificates, its sid, its
// signing-certificate-v2 attribute, the algorithms — encoded once when its key is loaded, so that a
// signature is a digest, an encoding of its signed attributes and one raw signature: the structure
// OpenSSL's CMS_sign makes above (DER throughout), at a fraction of its cost.
struct CadesTemplate;
// nullptr: a key of another kind (signDetached above serves it).
std::shared_ptr<const CadesTemplate> cadesTemplate(X509* certificate, const std::vector<X509*>& chain, EVP_PKEY* key);
Result<CmsSignature> signDetached(std::string_view content, const CadesTemplate& parts, EVP_PKEY* key);

// Checks `der` over `content` as verifyCades does (any algorithm: DSTU 4145, ECDSA, RSA): the digest,
// the signing-certificate binding, the signature, the chain at the time a trusted time-stamp proves or
// now (or `at`, an auditor's choice) — never at the signingTime the signer states — and that the signer
// speaks for `expected_org_id` (skipped when empty). `hint_certificate_der`: SignInfo/CertificateData,
// used when the CMS itself carries no certificate.
SignatureVerdict verifyDetached(std::string_view content, std::string_view der, const TrustStore& trust,
                                const std::string& expected_org_id, std::string_view hint_certificate_der = {},
                                std::optional<std::time_t> at = {});

// True for the OIDs of Ukrainian DSTU 4145 / GOST 34.311 (1.2.804.2.1.1.1.*).
bool isDstuOid(const std::string& oid);

}  // namespace vkhid::crypto
