// Detached CMS signatures of attachment bytes, as SEV OVV carries them in SignInfo/SignData:
// CAdES-BES (signing time and signing-certificate-v2 signed attributes), SHA-256.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/crypto/verdict.hpp"

namespace vkhid::crypto {

struct CmsSignature {
  std::string der;           // the SignedData, DER
  std::string certificate;   // the signer's certificate, DER (for SignInfo/CertificateData)
  std::string signing_time;  // ISO 8601 UTC (for SignInfo/SigningTime)
};

Result<CmsSignature> signDetached(std::string_view content, const Signer& signer);

// Checks `der` over `content`: the signature, the ESS signing-certificate binding, the chain at the
// signing time, and that the signer speaks for `expected_org_id` (skipped when empty).
// `hint_certificate_der`: SignInfo/CertificateData, used when the CMS itself carries no certificate.
SignatureVerdict verifyDetached(std::string_view content, std::string_view der, const TrustStore& trust,
                                const std::string& expected_org_id, std::string_view hint_certificate_der = {});

// True for the OIDs of Ukrainian DSTU 4145 / GOST 34.311 (1.2.804.2.1.1.1.*).
bool isDstuOid(const std::string& oid);

}  // namespace vkhid::crypto
