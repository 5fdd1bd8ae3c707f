// Writing a detached CAdES-BES signature (CMS SignedData, RFC 5652; ESS signing-certificate-v2, RFC
// 5035) from its parts, for the signers that build it themselves: DSTU 4145 keys, which OpenSSL cannot
// use, and the seal's ECDSA and RSA keys, whose fixed parts are encoded once (crypto/cms.hpp).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto::signed_data {

// The object identifiers a CAdES signature is made of, as its writer and its reader (crypto/cades) name them.
namespace oid {
inline constexpr const char* kData = "1.2.840.113549.1.7.1";
inline constexpr const char* kSignedData = "1.2.840.113549.1.7.2";
inline constexpr const char* kContentType = "1.2.840.113549.1.9.3";
inline constexpr const char* kMessageDigest = "1.2.840.113549.1.9.4";
inline constexpr const char* kSigningTime = "1.2.840.113549.1.9.5";
inline constexpr const char* kSigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
inline constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
inline constexpr const char* kEcdsaWithSha256 = "1.2.840.10045.4.3.2";
inline constexpr const char* kRsaEncryption = "1.2.840.113549.1.1.1";
}  // namespace oid

// An attribute: SEQUENCE { type, SET { value } }.
std::string attribute(const char* oid, const std::string& value);
// The signing-certificate-v2 attribute of a certificate whose hash under `hash_algorithm` (an
// AlgorithmIdentifier; empty for SHA-256, the default, which DER leaves out) is `certificate_hash`; no
// issuer and serial.
std::string signingCertificate(std::string_view certificate_hash, const std::string& hash_algorithm);
// A SignerInfo's sid: SEQUENCE { issuer, serialNumber } of a certificate.
Result<std::string> issuerAndSerial(std::string_view certificate_der);
// The content of the signed attributes' SET, in DER order: content type (data), signing time `at`,
// message digest `digest`, and `signing_certificate` (an attribute, whole). A signature signs the SET
// (crypto::der::kSet over this); the SignerInfo carries it as [0].
std::string signedAttributes(std::time_t at, std::string_view digest, const std::string& signing_certificate);

// The parts a signer's every signature repeats.
struct SignerParts {
  std::string digest_algorithm;     // AlgorithmIdentifier
  std::string signature_algorithm;  // AlgorithmIdentifier
  std::string sid;                  // issuerAndSerial
  std::string certificates;         // the content of SignedData's [0] certificates, as given
};
// ContentInfo { signedData, SignedData v1 { digest algorithm, data without content, certificates, one
// SignerInfo v1 } }, DER.
std::string detached(const SignerParts& parts, const std::string& attributes, std::string_view signature);

}  // namespace vkhid::crypto::signed_data
