// CAdES detached signatures as the real Ukrainian ones are made, whatever the algorithm (DSTU 4145 over
// GOST 34.311, ECDSA, RSA): the content's digest against messageDigest, the signing-certificate binding
// (signingCertificateV2 with its own hash, GOST included), the signature over the DER SET of the signed
// attributes, and RFC 3161 time-stamps (the content's and the signature's), themselves CMS signatures
// checked the same way, with their TSA's chain.
//
// When a signature is judged (ETSI EN 319 102-1): the signer's certificate must be valid at a time a
// trusted time-stamp proves — or, without one, now. Never at a time the signer states (signingTime).
// An auditor may choose the time (`at`), and the verdict says so.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/crypto/trust.hpp"
#include "gateway/crypto/verdict.hpp"

namespace vkhid::crypto {

struct CadesOptions {
  std::optional<std::time_t> at;      // judge at this time instead of a time-stamp's or now
  std::string expected_org_id;        // the signer must speak for this organisation (empty: not checked)
  std::string_view hint_certificate;  // DER: the signer's certificate when the CMS carries none
};

struct TimestampVerdict {
  std::string kind;  // "content" (a signed attribute: the content existed) or "signature"
  bool valid = false;
  std::string gen_time;  // ISO 8601 UTC
  std::string tsa;       // the TSA's certificate subject
  std::string detail;    // why not, when not valid
};

struct CadesVerdict {
  SignatureVerdict signature;  // the state and reason; signer, provider, key, algorithm, when judged
  std::string digest;          // "match", "mismatch", or "unknown" (unreadable)
  std::string chain;           // "trusted", the reason it is not, or "not checked" (an earlier step failed)
  std::vector<TimestampVerdict> timestamps;
  // 0 valid, 1 invalid, 3 indeterminate (cannot be decided from what is at hand).
  int exitCode() const;
  std::string text() const;  // a report, one fact a line
};

// Verifies a detached CMS (`der`) over `content`.
CadesVerdict verifyCades(std::string_view content, std::string_view der, const TrustStore& trust,
                         const CadesOptions& options = {});

// An RFC 3161 time-stamp token (a CMS SignedData over TSTInfo) for `imprinted` bytes: the imprint is
// their digest by the token's own algorithm; the token's signature and its TSA's chain at its genTime.
TimestampVerdict verifyTimestampToken(std::string_view token_der, std::string_view imprinted, const TrustStore& trust,
                                      const std::string& kind);

}  // namespace vkhid::crypto
