#include "gateway/crypto/signed_data.hpp"

#include <algorithm>
#include <vector>

#include "gateway/crypto/der.hpp"

namespace vkhid::crypto::signed_data {

using namespace oid;

std::string attribute(const char* oid, const std::string& value) {
  return der::sequence({der::encodeOid(oid), der::encode(der::kSet, value)});
}

std::string signingCertificate(std::string_view certificate_hash, const std::string& hash_algorithm) {
  // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { [hashAlgorithm], certHash } }
  const std::string id = der::sequence({hash_algorithm, der::encodeOctets(certificate_hash)});
  return attribute(kSigningCertificateV2, der::sequence({der::sequence({id})}));
}

Result<std::string> issuerAndSerial(std::string_view certificate_der) {
  auto whole = der::readAll(certificate_der);
  auto fields = whole ? der::children(*whole) : Result<std::vector<der::Node>>(whole.error());
  auto tbs = fields && !fields->empty() ? der::children((*fields)[0]) : Result<std::vector<der::Node>>(fields.error());
  if (!tbs || tbs->size() < 6) {
    return Error::invalid("crypto.signed_data", "the signer's certificate is not one this code reads");
  }
  const bool versioned = (*tbs)[0].tag == der::context(0);
  return der::sequence({std::string((*tbs)[versioned ? 3 : 2].whole), std::string((*tbs)[versioned ? 1 : 0].whole)});
}

std::string signedAttributes(std::time_t at, std::string_view digest, const std::string& signing_certificate) {
  std::vector<std::string> attrs = {
      attribute(kContentType, der::encodeOid(kData)),
      attribute(kSigningTime, der::encodeTime(at)),
      attribute(kMessageDigest, der::encodeOctets(digest)),
      signing_certificate,
  };
  std::sort(attrs.begin(), attrs.end());  // a DER SET OF is in the order of its encodings
  std::string out;
  for (const auto& a : attrs) out += a;
  return out;
}

std::string detached(const SignerParts& parts, const std::string& attributes, std::string_view signature) {
  const std::string signer_info = der::sequence({
      der::encodeSmallInteger(1),
      parts.sid,
      parts.digest_algorithm,
      der::encode(der::context(0), attributes),
      parts.signature_algorithm,
      der::encodeOctets(signature),
  });
  const std::string content = der::sequence({
      der::encodeSmallInteger(1),
      der::encode(der::kSet, parts.digest_algorithm),
      der::sequence({der::encodeOid(kData)}),
      der::encode(der::context(0), parts.certificates),
      der::encode(der::kSet, signer_info),
  });
  return der::sequence({der::encodeOid(kSignedData), der::encode(der::context(0), content)});
}

}  // namespace vkhid::crypto::signed_data
