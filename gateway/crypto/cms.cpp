#include "gateway/crypto/cms.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>

#include "gateway/domain/time.hpp"

namespace vkhid::crypto {
namespace {

std::string oidText(const ASN1_OBJECT* obj) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return buf;
}

std::string algorithmName(const ASN1_OBJECT* obj) {
  int nid = OBJ_obj2nid(obj);
  return nid != NID_undef ? OBJ_nid2ln(nid) : oidText(obj);
}

SignatureVerdict verdict(SignatureState state, sev::SevError code, std::string detail) {
  SignatureVerdict v;
  v.state = state;
  v.code = code;
  v.detail = std::move(detail);
  return v;
}

// "issuer <DN>, serial <hex>" for a signer whose certificate did not travel with the signature.
std::string signerIdText(CMS_SignerInfo* si) {
  ASN1_OCTET_STRING* keyid = nullptr;
  X509_NAME* issuer = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &serial) != 1 || issuer == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  BIO_puts(bio.get(), "issuer ");
  X509_NAME_print_ex(bio.get(), issuer, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  BIO_puts(bio.get(), ", serial ");
  if (serial != nullptr) i2a_ASN1_INTEGER(bio.get(), serial);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

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

SignatureVerdict verifyDetached(std::string_view content, std::string_view der, const TrustStore& trust,
                                const std::string& expected_org_id, std::string_view hint_certificate_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) {
    ERR_clear_error();
    return verdict(SignatureState::Malformed, sev::SevError::AttachmentSignatureInvalid, "not a CMS SignedData");
  }
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (infos == nullptr || sk_CMS_SignerInfo_num(infos) != 1) {
    return verdict(SignatureState::Malformed, sev::SevError::AttachmentSignatureInvalid,
                   "expected exactly one signer in the CMS");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);

  X509StackPtr certs(CMS_get1_certs(cms.get()));
  X509* signer_cert = nullptr;
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), i)) == 0) signer_cert = sk_X509_value(certs.get(), i);
  }

  // SEV OVV may carry the certificate beside the signature (SignInfo/CertificateData) instead of in it.
  X509Ptr hint;
  if (signer_cert == nullptr && !hint_certificate_der.empty()) {
    if (auto c = certificateFromDer(hint_certificate_der); c && CMS_SignerInfo_cert_cmp(si, c->get()) == 0) {
      hint = std::move(c).value();
      signer_cert = hint.get();
    }
  }

  SignatureVerdict v;
  X509_ALGOR* digest_alg = nullptr;
  X509_ALGOR* sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, &sig_alg);
  const ASN1_OBJECT* sig_oid = nullptr;
  X509_ALGOR_get0(&sig_oid, nullptr, nullptr, sig_alg);
  v.algorithm = algorithmName(sig_oid);
  if (signer_cert != nullptr) {
    auto info = describe(signer_cert);
    v.signer_subject = info.subject;
    v.signer_sha256 = info.sha256;
    v.signer_org_id = trust.organizationOf(info);
  } else {
    v.signer_subject = signerIdText(si);
  }
  int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  std::time_t signed_at = std::time(nullptr);
  if (idx >= 0) {
    ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, idx), 0);
    std::tm tm{};
    if (t != nullptr && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME) &&
        ASN1_TIME_to_tm(t->value.utctime, &tm) == 1) {
      signed_at = timegm(&tm);
      v.signing_time = formatIsoUtc(signed_at);
    }
  }

  const ASN1_OBJECT* digest_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
  if (isDstuOid(oidText(sig_oid)) || isDstuOid(oidText(digest_oid))) {
    v.state = SignatureState::UnsupportedAlgorithm;
    v.code = sev::SevError::AttachmentSignatureUnsupported;
    v.detail = "DSTU 4145 signature (" + oidText(sig_oid) + ") by " +
               (v.signer_subject.empty() ? std::string("an unknown signer") : v.signer_subject);
    return v;
  }
  if (signer_cert == nullptr) {
    v.state = SignatureState::Malformed;
    v.code = sev::SevError::AttachmentSignatureInvalid;
    v.detail = "the CMS carries no signer certificate";
    return v;
  }

  // The mathematics and the ESS binding first; the chain is ours to check at the signing time.
  BioPtr data(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  X509StorePtr empty(X509_STORE_new());
  if (CMS_verify(cms.get(), nullptr, empty.get(), data.get(), nullptr,
                 CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    v.state = SignatureState::Invalid;
    v.code = sev::SevError::AttachmentSignatureInvalid;
    v.detail = "the signature does not match the attachment: " + opensslError();
    return v;
  }
  std::vector<X509*> intermediates;
  for (int i = 0; i < sk_X509_num(certs.get()); ++i) intermediates.push_back(sk_X509_value(certs.get(), i));
  if (auto s = trust.verifyChain(signer_cert, intermediates, signed_at); !s) {
    auto code = sev::sevErrorOf(s.error()).value_or(sev::SevError::SignerUntrusted);
    v.state = code == sev::SevError::CertificateNotValidAtSigning ? SignatureState::NotValidAtSigning
                                                                  : SignatureState::Untrusted;
    v.code = code;
    v.detail = sev::sevErrorDetail(s.error());
    return v;
  }
  if (!expected_org_id.empty() && v.signer_org_id != expected_org_id) {
    v.state = SignatureState::SignerNotSender;
    v.code = sev::SevError::SignerNotSender;
    v.detail = "signed for organisation '" + v.signer_org_id + "', the sender is '" + expected_org_id + "'";
    return v;
  }
  v.state = SignatureState::Valid;
  return v;
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
  }
  return "invalid";
}

}  // namespace vkhid::crypto
