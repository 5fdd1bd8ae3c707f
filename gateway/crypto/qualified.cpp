#include "gateway/crypto/qualified.hpp"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "gateway/crypto/der.hpp"
#include "gateway/crypto/gost34311.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::crypto {
namespace {

std::string objText(const ASN1_OBJECT* o) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, o, 1);
  return buf;
}

std::string nameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string isoOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string subjectCn(X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf[0] ? buf : nameText(X509_get_subject_name(cert));
}

// A certificate's (or CRL's) signed part, algorithm and signature value, as encoded.
struct Signed {
  std::string_view tbs;
  std::string algorithm;
  std::string_view signature;
};
Result<Signed> signedParts(std::string_view whole_der) {
  auto top = der::readAll(whole_der);
  if (!top) return top.error();
  auto parts = der::children(*top);
  if (!parts || parts->size() != 3) return Error::invalid("der.malformed", "a signed structure of three parts");
  auto alg = der::children((*parts)[1]);
  if (!alg || alg->empty()) return Error::invalid("der.malformed", "a signature algorithm");
  auto oid = der::oid((*alg)[0], "signature algorithm");
  if (!oid) return oid.error();
  auto sig = der::bitString((*parts)[2], "signature value");
  if (!sig) return sig.error();
  return Signed{(*parts)[0].whole, *oid, *sig};
}

const EVP_MD* mdOf(const std::string& oid) {
  if (oid == "2.16.840.1.101.3.4.2.1" || oid == "1.2.840.10045.4.3.2" || oid == "1.2.840.113549.1.1.11") {
    return EVP_sha256();
  }
  if (oid == "2.16.840.1.101.3.4.2.2" || oid == "1.2.840.10045.4.3.3" || oid == "1.2.840.113549.1.1.12") {
    return EVP_sha384();
  }
  if (oid == "2.16.840.1.101.3.4.2.3" || oid == "1.2.840.10045.4.3.4" || oid == "1.2.840.113549.1.1.13") {
    return EVP_sha512();
  }
  if (oid == "2.16.840.1.101.3.4.2.4" || oid == "1.2.840.10045.4.3.1" || oid == "1.2.840.113549.1.1.14") {
    return EVP_sha224();
  }
  if (oid == "1.3.14.3.2.26" || oid == "1.2.840.10045.4.1" || oid == "1.2.840.113549.1.1.5") return EVP_sha1();
  return nullptr;
}

std::string keyId(const ASN1_OCTET_STRING* s) {
  return s ? std::string(reinterpret_cast<const char*>(s->data), static_cast<std::size_t>(s->length)) : std::string();
}

Error untrusted(const std::string& why) { return sev::sevError(sev::SevError::SignerUntrusted, why); }

}  // namespace

std::string AnyKey::name() const {
  if (kind == Kind::Dstu) return dstu->curve->name();
  int bits = EVP_PKEY_get_bits(evp.get());
  if (EVP_PKEY_is_a(evp.get(), "EC")) {
    char group[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(evp.get(), group, sizeof group, &len) == 1) {
      const char* nist = EC_curve_nid2nist(OBJ_txt2nid(group));
      return std::string("ECDSA ") + (nist != nullptr ? nist : group);
    }
    return "ECDSA " + std::to_string(bits);
  }
  if (EVP_PKEY_is_a(evp.get(), "RSA")) return "RSA " + std::to_string(bits);
  return std::string(EVP_PKEY_get0_type_name(evp.get()) ? EVP_PKEY_get0_type_name(evp.get()) : "key") + " " +
         std::to_string(bits);
}

bool hasDstuKey(X509* cert) {
  const ASN1_OBJECT* alg = nullptr;
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert);
  if (!pub || !X509_PUBKEY_get0_param(const_cast<ASN1_OBJECT**>(&alg), nullptr, nullptr, nullptr, pub)) return false;
  return objText(alg).starts_with("1.2.804.2.1.1.1.1.3.1");
}

Result<AnyKey> publicKeyOf(X509* cert) {
  AnyKey key;
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert);
  const ASN1_OBJECT* alg = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* params = nullptr;
  if (!pub || !X509_PUBKEY_get0_param(const_cast<ASN1_OBJECT**>(&alg), &bits, &bits_len, &params, pub)) {
    return Error::invalid("crypto.key", "a certificate without a readable public key");
  }
  const std::string oid = objText(alg);
  if (oid == dstu::kSignatureOidBe) {
    return Error::invalid("crypto.key", "a DSTU 4145 key in the big-endian encoding (" + oid + "): not supported");
  }
  if (oid.starts_with("1.2.804.2.1.1.1.1.3.1")) {
    if (oid != dstu::kSignatureOidLe) return Error::invalid("crypto.key", "an unknown DSTU 4145 key algorithm " + oid);
    int type = 0;
    const void* value = nullptr;
    X509_ALGOR_get0(nullptr, &type, &value, params);
    if (type != V_ASN1_SEQUENCE || value == nullptr) {
      return Error::invalid("crypto.key", "a DSTU 4145 key without its parameters");
    }
    const auto* seq = static_cast<const ASN1_STRING*>(value);
    auto k = dstu::publicKey(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(seq)),
                                              static_cast<std::size_t>(ASN1_STRING_length(seq))),
                             std::string_view(reinterpret_cast<const char*>(bits), static_cast<std::size_t>(bits_len)));
    if (!k) return k.error();
    key.kind = AnyKey::Kind::Dstu;
    key.dstu.emplace(std::move(k).value());
    return key;
  }
  EVP_PKEY* p = X509_get_pubkey(cert);
  if (p == nullptr) {
    ERR_clear_error();
    return Error::invalid("crypto.key", "a public key of algorithm " + oid + " that cannot be read");
  }
  key.evp.reset(p);
  return key;
}

Result<std::string> digestBy(const std::string& oid, std::string_view bytes, std::string_view dke) {
  if (oid == dstu::kGost34311Oid) return Gost34311::digest(bytes, dke);
  const EVP_MD* md = mdOf(oid);
  if (md == nullptr) return Error::invalid("crypto.digest", "an unknown digest algorithm " + oid);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), len);
}

Result<bool> verifySignature(const AnyKey& key, const std::string& algorithm_oid, const std::string& digest_oid,
                             std::string_view data, std::string_view signature, bool dstu_wrapped) {
  if (key.kind == AnyKey::Kind::Dstu) {
    if (algorithm_oid == dstu::kSignatureOidBe) {
      return Error::invalid("crypto.algorithm", "a DSTU 4145 signature in the big-endian encoding: not supported");
    }
    if (!algorithm_oid.starts_with("1.2.804.2.1.1.1.1.3.1")) {
      return Error::invalid("crypto.algorithm", "a " + algorithm_oid + " signature by a DSTU 4145 key");
    }
    std::string_view rs = signature;
    if (dstu_wrapped) {
      auto inner = der::readAll(signature);
      if (!inner) return Error::invalid("crypto.signature", "the DSTU signature value: " + inner.error().message);
      auto o = der::octets(*inner, "the DSTU signature value");
      if (!o) return o.error();
      rs = *o;
    }
    return dstu::verify(*key.dstu, Gost34311::digest(data, key.dstu->dke), rs);
  }
  const EVP_MD* md = mdOf(algorithm_oid);
  if (md == nullptr) md = mdOf(digest_oid);
  if (md == nullptr) {
    return Error::invalid("crypto.algorithm", "an unknown signature algorithm " + algorithm_oid);
  }
  std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.evp.get()) != 1) {
    ERR_clear_error();
    return Error::invalid("crypto.algorithm", "the key cannot verify with " + algorithm_oid);
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return rc == 1;
}

Result<bool> certificateSignedBy(X509* cert, X509* issuer) {
  auto key = publicKeyOf(issuer);
  if (!key) return key.error();
  std::string whole = certificateToDer(cert);
  auto parts = signedParts(whole);
  if (!parts) return parts.error();
  return verifySignature(*key, parts->algorithm, "", parts->tbs, parts->signature, true);
}

CertificateFacts factsOf(X509* cert) {
  CertificateFacts f;
  char org[256] = {};
  X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_organizationName, org, sizeof org);
  f.provider = org[0] ? org : nameText(X509_get_issuer_name(cert));
  auto key = publicKeyOf(cert);
  if (key) {
    f.key = key->name();
  } else if (hasDstuKey(cert)) {
    f.key = key.error().message.find("big-endian") != std::string::npos
                ? "DSTU 4145 (big-endian encoding: not supported)"
                : "DSTU 4145 (unreadable: " + key.error().message + ")";
  } else {
    f.key = "unreadable key";
  }
  // qcStatements (1.3.6.1.5.5.7.1.3) naming QcCompliance (0.4.0.1862.1.1).
  int at = X509_get_ext_by_NID(cert, NID_qcStatements, -1);
  if (at >= 0) {
    ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert, at));
    static const std::string compliance = der::encodeOid("0.4.0.1862.1.1");
    std::string_view body(reinterpret_cast<const char*>(value->data), static_cast<std::size_t>(value->length));
    f.qualified = body.find(compliance) != std::string_view::npos;
  }
  return f;
}

Status verifyChainAnyKey(X509* leaf, const std::vector<X509*>& intermediates, const std::vector<X509*>& anchors,
                         const std::vector<X509_CRL*>& crls, std::time_t at) {
  auto isAnchor = [&](X509* c) {
    for (X509* a : anchors) {
      if (X509_cmp(a, c) == 0) return true;
    }
    return false;
  };
  std::vector<X509*> path{leaf};
  X509* cur = leaf;
  for (int depth = 0; !isAnchor(cur); ++depth) {
    if (depth > 10) return untrusted("a chain longer than 10 certificates");
    X509* issuer = nullptr;
    std::string why = "no issuer of '" + subjectCn(cur) + "' among the trusted certificates";
    const std::string aki = keyId(X509_get0_authority_key_id(cur));
    std::vector<X509*> candidates = anchors;
    candidates.insert(candidates.end(), intermediates.begin(), intermediates.end());
    for (X509* c : candidates) {
      if (c == cur || X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(cur)) != 0) continue;
      const std::string ski = keyId(X509_get0_subject_key_id(c));
      if (!aki.empty() && !ski.empty() && aki != ski) continue;
      auto ok = certificateSignedBy(cur, c);
      if (ok && *ok) {
        issuer = c;
        break;
      }
      why = "the signature on '" + subjectCn(cur) + "' does not verify with its issuer's key" +
            (ok ? std::string() : ": " + ok.error().message);
    }
    if (issuer == nullptr) return untrusted(why);
    path.push_back(issuer);
    cur = issuer;
  }
  for (std::size_t i = 0; i < path.size(); ++i) {
    X509* c = path[i];
    if (X509_cmp_time(X509_get0_notBefore(c), &at) > 0 || X509_cmp_time(X509_get0_notAfter(c), &at) < 0) {
      return sev::sevError(sev::SevError::CertificateNotValidAtSigning, "'" + subjectCn(c) + "' is valid from " +
                                                                            isoOf(X509_get0_notBefore(c)) + " to " +
                                                                            isoOf(X509_get0_notAfter(c)));
    }
    const std::uint32_t flags = X509_get_extension_flags(c);
    if (i > 0) {
      if (X509_check_ca(c) < 1) return untrusted("'" + subjectCn(c) + "' issues certificates but is not a CA");
      if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(c) & KU_KEY_CERT_SIGN)) {
        return untrusted("'" + subjectCn(c) + "' may not sign certificates (keyUsage)");
      }
    } else if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(c) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
      return untrusted("'" + subjectCn(c) + "' may not make signatures (keyUsage)");
    }
    if (i + 1 >= path.size()) continue;
    // Revocation: a CRL of its issuer, itself signed by that issuer.
    X509* issuer = path[i + 1];
    for (X509_CRL* crl : crls) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) continue;
      auto key = publicKeyOf(issuer);
      unsigned char* buf = nullptr;
      int len = i2d_X509_CRL(crl, &buf);
      std::string whole(reinterpret_cast<const char*>(buf), len > 0 ? static_cast<std::size_t>(len) : 0);
      OPENSSL_free(buf);
      auto parts = signedParts(whole);
      if (!key || !parts) continue;
      auto ok = verifySignature(*key, parts->algorithm, "", parts->tbs, parts->signature, true);
      if (!ok || !*ok) continue;  // not its issuer's: it says nothing
      X509_REVOKED* revoked = nullptr;
      // Revoked at or before the time judged: a signature proven older than the revocation stands.
      if (X509_CRL_get0_by_serial(crl, &revoked, X509_get0_serialNumber(c)) == 1 &&
          X509_cmp_time(X509_REVOKED_get0_revocationDate(revoked), &at) <= 0) {
        return untrusted("'" + subjectCn(c) + "' was revoked by its issuer on " +
                         isoOf(X509_REVOKED_get0_revocationDate(revoked)) + " (CRL)");
      }
    }
  }
  return {};
}

}  // namespace vkhid::crypto
