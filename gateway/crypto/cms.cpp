#include "gateway/crypto/cms.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>

#include <algorithm>

#include "gateway/crypto/cades.hpp"
#include "gateway/crypto/der.hpp"
#include "gateway/crypto/signed_data.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::crypto {

bool isDstuOid(const std::string& oid) { return oid.starts_with("1.2.804.2.1.1.1."); }

Result<CmsSignature> signDetached(std::string_view content, const Signer& signer) {
  // The signed attributes of a CAdES-BES signature as Ukrainian signing tools make them: content type,
  // message digest, signing time and the signing certificate (below) — no S/MIME capabilities list,
  // which OpenSSL adds by default and which no reader of these files uses.
  const int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  X509StackPtr extra(sk_X509_new_null());
  for (X509* c : signer.chain()) {
    X509_up_ref(c);
    sk_X509_push(extra.get(), c);
  }
  CmsPtr cms(CMS_sign(nullptr, nullptr, extra.get(), nullptr, flags));
  if (!cms) return Error::internal("crypto.cms", "CMS_sign: " + opensslError());
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.certificate(), signer.key(), EVP_sha256(), flags);
  if (si == nullptr) return Error::internal("crypto.cms", "CMS_add1_signer: " + opensslError());

  // CAdES-BES: bind the signer's certificate by hash (ESS signing-certificate-v2, RFC 5035).
  ESS_SIGNING_CERT_V2* sc = OSSL_ESS_signing_cert_v2_new_init(EVP_sha256(), signer.certificate(), nullptr, 0);
  unsigned char* sc_der = nullptr;
  int sc_len = i2d_ESS_SIGNING_CERT_V2(sc, &sc_der);
  ESS_SIGNING_CERT_V2_free(sc);
  int added = sc_len > 0 ? CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE,
                                                       sc_der, sc_len)
                         : 0;
  OPENSSL_free(sc_der);
  if (added != 1) return Error::internal("crypto.cms", "signing-certificate-v2: " + opensslError());

  BioPtr data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  if (CMS_final(cms.get(), data.get(), nullptr, flags) != 1) {
    return Error::internal("crypto.cms", "CMS_final: " + opensslError());
  }
  unsigned char* der = nullptr;
  int len = i2d_CMS_ContentInfo(cms.get(), &der);
  CmsSignature out;
  out.der.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  out.certificate = certificateToDer(signer.certificate());
  int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
  std::tm tm{};
  if (t != nullptr && ASN1_TIME_to_tm(t->value.utctime, &tm) == 1) out.signing_time = formatIsoUtc(timegm(&tm));
  return out;
}

struct CadesTemplate {
  signed_data::SignerParts parts;
  std::string signing_certificate;  // the attribute, whole
  std::string certificate;          // the signer's, DER (SignInfo/CertificateData)
  EVP_MD* sha256 = nullptr;         // fetched once: an implicit fetch at every digest costs a look-up
  CadesTemplate() = default;
  CadesTemplate(const CadesTemplate&) = delete;
  CadesTemplate& operator=(const CadesTemplate&) = delete;
  ~CadesTemplate() { EVP_MD_free(sha256); }
};

std::shared_ptr<const CadesTemplate> cadesTemplate(X509* certificate, const std::vector<X509*>& chain, EVP_PKEY* key) {
  const bool ec = EVP_PKEY_is_a(key, "EC") == 1, rsa = EVP_PKEY_is_a(key, "RSA") == 1;
  if (certificate == nullptr || (!ec && !rsa)) return nullptr;
  auto t = std::make_shared<CadesTemplate>();
  t->sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  t->certificate = certificateToDer(certificate);
  auto sid = signed_data::issuerAndSerial(t->certificate);
  if (t->sha256 == nullptr || !sid) return nullptr;
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_len = 0;
  if (EVP_Digest(t->certificate.data(), t->certificate.size(), hash, &hash_len, t->sha256, nullptr) != 1)
    return nullptr;
  // As CMS_sign writes them: SHA-256 without parameters; ecdsa-with-SHA256 without, rsaEncryption with NULL.
  t->parts.digest_algorithm = der::algorithm(signed_data::oid::kSha256);
  t->parts.signature_algorithm =
      ec ? der::algorithm(signed_data::oid::kEcdsaWithSha256)
         : der::sequence({der::encodeOid(signed_data::oid::kRsaEncryption), der::encode(der::kNull, "")});
  t->parts.sid = std::move(*sid);
  t->signing_certificate =
      signed_data::signingCertificate(std::string_view(reinterpret_cast<char*>(hash), hash_len), "");
  // The certificates the signer sends, each once, in the order of their encodings (a DER SET OF).
  std::vector<std::string> certs{t->certificate};
  for (X509* c : chain) {
    std::string d = certificateToDer(c);
    if (std::find(certs.begin(), certs.end(), d) == certs.end()) certs.push_back(std::move(d));
  }
  std::sort(certs.begin(), certs.end());
  for (const auto& c : certs) t->parts.certificates += c;
  return t;
}

Result<CmsSignature> signDetached(std::string_view content, const CadesTemplate& t, EVP_PKEY* key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(content.data(), content.size(), digest, &digest_len, t.sha256, nullptr) != 1) {
    return Error::internal("crypto.cms", "SHA-256: " + opensslError());
  }
  const std::time_t now = std::time(nullptr);
  const std::string attrs = signed_data::signedAttributes(
      now, std::string_view(reinterpret_cast<char*>(digest), digest_len), t.signing_certificate);
  const std::string signed_attrs = der::encode(der::kSet, attrs);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  const auto* tbs = reinterpret_cast<const unsigned char*>(signed_attrs.data());
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, tbs, signed_attrs.size()) != 1) {
    return Error::internal("crypto.cms", "signing: " + opensslError());
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, tbs, signed_attrs.size()) !=
      1) {
    return Error::internal("crypto.cms", "signing: " + opensslError());
  }
  signature.resize(len);
  CmsSignature out;
  out.der = signed_data::detached(t.parts, attrs, signature);
  out.certificate = t.certificate;
  out.signing_time = formatIsoUtc(now);
  return out;
}

SignatureVerdict verifyDetached(std::string_view content, std::string_view der, const TrustStore& trust,
                                const std::string& expected_org_id, std::string_view hint_certificate_der,
                                std::optional<std::time_t> at) {
  CadesOptions options;
  options.at = at;
  options.expected_org_id = expected_org_id;
  options.hint_certificate = hint_certificate_der;
  return verifyCades(content, der, trust, options).signature;
}

const char* signatureStateName(SignatureState s) {
  switch (s) {
    case SignatureState::Valid: return "valid";
    case SignatureState::Invalid: return "invalid";
    case SignatureState::UnsupportedAlgorithm: return "unsupported-algorithm";
    case SignatureState::Untrusted: return "untrusted";
    case SignatureState::NotValidAtSigning: return "not-valid-at-signing";
    case SignatureState::SignerNotSender: return "signer-not-sender";
    case SignatureState::Missing: return "missing";
    case SignatureState::Malformed: return "malformed";
    case SignatureState::NotCheckable: return "not-checkable";
    case SignatureState::ExpiredNoProof: return "expired-no-proof-of-time";
  }
  return "invalid";
}

}  // namespace vkhid::crypto
