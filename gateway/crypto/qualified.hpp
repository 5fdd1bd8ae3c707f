// Certificates whatever their key — DSTU 4145 (decoded here), ECDSA or RSA (by OpenSSL) — and the
// signatures they make: a certificate's or CRL's by its issuer, a CMS signer's over its attributes. The
// chain of a certificate is built here when OpenSSL cannot (a DSTU key anywhere in it, mixed chains):
// issuer by name and key identifier, each signature checked, validity at the time judged, CA and key
// usage, revocation by CRLs that are themselves checked.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/openssl.hpp"

namespace vkhid::crypto {

// A certificate's public key.
struct AnyKey {
  enum class Kind { Dstu, Openssl } kind = Kind::Openssl;
  std::optional<dstu::PublicKey> dstu;
  EvpPkeyPtr evp;
  std::string name() const;  // "DSTU 4145 (m = 257)", "EC P-256", "RSA 2048"
};
Result<AnyKey> publicKeyOf(X509* cert);
bool hasDstuKey(X509* cert);

// The digest of `bytes` by an algorithm OID: GOST 34.311 (with `dke`, empty for DKE №1), SHA-1, SHA-224,
// SHA-256, SHA-384, SHA-512. An error names an unknown algorithm.
Result<std::string> digestBy(const std::string& oid, std::string_view bytes, std::string_view dke = {});

// Whether `signature` over `data` is `key`'s, for a signature algorithm OID (DSTU 4145 over GOST 34.311;
// ECDSA and RSA with the digest the OID or `digest_oid` names). `dstu_wrapped`: the signature is a DER
// OCTET STRING around LE(r) || LE(s), as in certificates and CRLs. Ok(false): it does not hold.
Result<bool> verifySignature(const AnyKey& key, const std::string& algorithm_oid, const std::string& digest_oid,
                             std::string_view data, std::string_view signature, bool dstu_wrapped);

// The certificate's own signature, by `issuer`.
Result<bool> certificateSignedBy(X509* cert, X509* issuer);

// A certificate as a person describes it: the provider (its issuer's organisation), its key, whether it
// declares itself qualified (qcStatements, QcCompliance).
struct CertificateFacts {
  std::string provider;
  std::string key;
  bool qualified = false;
};
CertificateFacts factsOf(X509* cert);

// Builds and checks the chain from `leaf` to one of `anchors`, helped by `intermediates`, at `at`; CRLs
// of the issuers (checked with the issuer's key) revoke. Errors carry sev codes: SignerUntrusted (no
// path, a bad signature in it, not a CA, revoked) or CertificateNotValidAtSigning (a certificate not
// valid at `at`, naming which and its validity).
Status verifyChainAnyKey(X509* leaf, const std::vector<X509*>& intermediates, const std::vector<X509*>& anchors,
                         const std::vector<X509_CRL*>& crls, std::time_t at);

}  // namespace vkhid::crypto
