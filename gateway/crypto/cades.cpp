#include "gateway/crypto/cades.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <map>

#include "gateway/crypto/der.hpp"
#include "gateway/crypto/known_certificates.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/crypto/signed_data.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::crypto {
namespace {

using namespace signed_data::oid;
constexpr const char* kTstInfo = "1.2.840.113549.1.9.16.1.4";
constexpr const char* kSigningCertificate = "1.2.840.113549.1.9.16.2.12";
constexpr const char* kContentTimestamp = "1.2.840.113549.1.9.16.2.20";
constexpr const char* kSignatureTimestamp = "1.2.840.113549.1.9.16.2.14";
constexpr const char* kSha1 = "1.3.14.3.2.26";

Error malformed(const std::string& what) { return Error::invalid("cms.malformed", what); }

struct SignerParts {
  std::string issuer_der, serial, ski;  // the signer's identifier: issuer and serial, or a key identifier
  std::string digest_oid, signature_oid;
  std::optional<der::Node> signed_attrs;  // [0] IMPLICIT SET
  std::string_view signature;
  std::map<std::string, der::Node> attrs, unsigned_attrs;  // the first value of each attribute
};

struct SignedParts {
  std::string econtent_type;
  std::optional<std::string_view> econtent;
  std::vector<std::string_view> certificates;
  SignerParts signer;
};

Result<std::map<std::string, der::Node>> attributes(const der::Node& set) {
  std::map<std::string, der::Node> out;
  auto items = der::children(set);
  if (!items) return items.error();
  for (const auto& a : *items) {
    auto parts = der::children(a);
    if (!parts || parts->size() != 2) return malformed("an attribute: its type and values");
    auto type = der::oid((*parts)[0], "attribute type");
    if (!type) return type.error();
    auto values = der::children((*parts)[1]);
    if (!values || values->empty()) return malformed("attribute " + *type + ": a set of values");
    out.emplace(*type, (*values)[0]);
  }
  return out;
}

// One SignerInfo: the signer's identifier, its algorithms, signed and unsigned attributes, the signature.
Result<SignerParts> signerOf(const der::Node& node) {
  auto si = der::children(node);
  if (!si || si->size() < 5) return malformed("a SignerInfo");
  SignerParts s;
  const der::Node& sid = (*si)[1];
  if (sid.tag == der::kSequence) {
    auto ias = der::children(sid);
    if (!ias || ias->size() != 2) return malformed("the signer's issuer and serial number");
    s.issuer_der = std::string((*ias)[0].whole);
    auto serial = der::integerBytes((*ias)[1], "the signer's serial number");
    if (!serial) return serial.error();
    s.serial = *serial;
  } else if (sid.tag == 0x80) {
    s.ski = std::string(sid.content);
  } else {
    return malformed("the signer's identifier");
  }
  auto algOf = [](const der::Node& n, const char* what) -> Result<std::string> {
    auto a = der::children(n);
    if (!a || a->empty()) return malformed(std::string(what) + ": an AlgorithmIdentifier");
    return der::oid((*a)[0], what);
  };
  auto digest = algOf((*si)[2], "digest algorithm");
  if (!digest) return digest.error();
  s.digest_oid = *digest;
  std::size_t k = 3;
  if ((*si)[k].tag == der::context(0)) {
    s.signed_attrs = (*si)[k];
    auto a = attributes((*si)[k]);
    if (!a) return a.error();
    s.attrs = std::move(a).value();
    ++k;
  }
  if (k + 1 >= si->size()) return malformed("a SignerInfo: its signature algorithm and value");
  auto sig_alg = algOf((*si)[k], "signature algorithm");
  if (!sig_alg) return sig_alg.error();
  s.signature_oid = *sig_alg;
  auto value = der::octets((*si)[k + 1], "signature value");
  if (!value) return value.error();
  s.signature = *value;
  if (k + 2 < si->size() && (*si)[k + 2].tag == der::context(1)) {
    auto u = attributes((*si)[k + 2]);
    if (!u) return u.error();
    s.unsigned_attrs = std::move(u).value();
  }
  return s;
}

Result<SignedParts> parseSignedData(std::string_view bytes) {
  auto top = der::readAll(bytes);
  if (!top) return malformed("a CMS ContentInfo: " + top.error().message);
  auto ci = der::children(*top);
  if (!ci || ci->size() != 2) return malformed("a CMS ContentInfo: a type and a content");
  auto type = der::oid((*ci)[0], "content type");
  if (!type || *type != kSignedData) return malformed("a CMS SignedData");
  auto wrapped = der::children((*ci)[1]);
  if (!wrapped || wrapped->size() != 1) return malformed("a CMS SignedData inside [0]");
  auto sd = der::children((*wrapped)[0]);
  if (!sd || sd->size() < 4) return malformed("a SignedData: version, algorithms, content and signers");
  SignedParts out;
  auto encap = der::children((*sd)[2]);
  if (!encap || encap->empty()) return malformed("a SignedData's encapsulated content");
  auto etype = der::oid((*encap)[0], "encapsulated content type");
  if (!etype) return etype.error();
  out.econtent_type = *etype;
  if (encap->size() > 1) {
    auto inner = der::children((*encap)[1]);
    if (!inner || inner->size() != 1) return malformed("the encapsulated content");
    auto o = der::octets((*inner)[0], "encapsulated content");
    if (!o) return o.error();
    out.econtent = *o;
  }
  std::size_t at = 3;
  if (at < sd->size() && (*sd)[at].tag == der::context(0)) {
    auto certs = der::children((*sd)[at]);
    if (!certs) return certs.error();
    for (const auto& c : *certs) out.certificates.push_back(c.whole);
    ++at;
  }
  if (at < sd->size() && (*sd)[at].tag == der::context(1)) ++at;  // CRLs: not read
  if (at + 1 != sd->size() || (*sd)[at].tag != der::kSet) return malformed("a SignedData ending with its signers");
  auto signers = der::children((*sd)[at]);
  if (!signers || signers->size() != 1) return malformed("exactly one signer in the CMS");
  auto signer = signerOf((*signers)[0]);
  if (!signer) return signer.error();
  out.signer = std::move(signer).value();
  return out;
}

std::string serialOf(X509* c) {
  std::unique_ptr<BIGNUM, OsslDeleter<BIGNUM, BN_free>> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), nullptr));
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  if (out.empty()) out = std::string(1, '\0');
  return out;
}

std::string issuerDer(X509* c) {
  unsigned char* buf = nullptr;
  int len = i2d_X509_NAME(X509_get_issuer_name(c), &buf);
  std::string out(reinterpret_cast<const char*>(buf), len > 0 ? static_cast<std::size_t>(len) : 0);
  OPENSSL_free(buf);
  return out;
}

bool identifies(const SignerParts& s, X509* c) {
  if (!s.ski.empty()) {
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(c);
    return ski &&
           std::string_view(reinterpret_cast<const char*>(ski->data), static_cast<std::size_t>(ski->length)) == s.ski;
  }
  std::string serial = s.serial;
  if (serial.empty()) serial = std::string(1, '\0');
  return serialOf(c) == serial && issuerDer(c) == s.issuer_der;
}

std::string subjectText(X509* c) { return describe(c).subject; }

// A signature algorithm as people name it: OpenSSL's long name, or the Ukrainian standard's.
std::string algorithmName(const std::string& oid) {
  if (oid.starts_with("1.2.804.2.1.1.1.1.3.1")) return "DSTU 4145 with GOST 34.311";
  std::unique_ptr<ASN1_OBJECT, OsslDeleter<ASN1_OBJECT, ASN1_OBJECT_free>> obj(OBJ_txt2obj(oid.c_str(), 1));
  int nid = obj ? OBJ_obj2nid(obj.get()) : NID_undef;
  return nid != NID_undef ? OBJ_nid2ln(nid) : oid;
}

// "issuer <DN>, serial <hex>" (or "subject key <hex>") for a signer whose certificate is nowhere at hand.
std::string signerIdText(const SignerParts& s) {
  if (!s.ski.empty()) return "subject key identifier " + hexEncode(s.ski);
  const auto* p = reinterpret_cast<const unsigned char*>(s.issuer_der.data());
  std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME, X509_NAME_free>> name(
      d2i_X509_NAME(nullptr, &p, static_cast<long>(s.issuer_der.size())));
  std::string issuer = "?";
  if (name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name.get(), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    issuer.assign(data, static_cast<std::size_t>(len));
  }
  ERR_clear_error();
  std::string serial = hexEncode(s.serial);
  for (auto& ch : serial) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return "issuer " + issuer + ", serial " + serial;
}

// What one SignerInfo's own checks found: its certificate, the digest and signature states.
struct SignerCheck {
  std::shared_ptr<const KnownCertificate> known;  // the signer's certificate, as described; null: none found
  std::vector<X509Ptr> carried;                   // the certificates the CMS carried
  X509* cert() const { return known ? known->cert.get() : nullptr; }
  std::string digest = "unknown";
  std::optional<SignatureState> failed;
  sev::SevError code = sev::SevError::None;
  std::string detail;
};

// The signer's certificate: carried in the CMS (all of which go to `carried`), beside it
// (SignInfo/CertificateData: `hint`), or known to the trust list (a TSA's, say); null when none is.
std::shared_ptr<const KnownCertificate> signerCertificate(const SignedParts& sd, std::string_view hint,
                                                          const TrustStore& trust, std::vector<X509Ptr>& carried) {
  const SignerParts& s = sd.signer;
  std::shared_ptr<const KnownCertificate> cert;
  for (auto der_cert : sd.certificates) {
    auto c = knownCertificate(der_cert);
    if (!c) continue;
    carried.push_back(upRef((*c)->cert.get()));
    if (!cert && identifies(s, (*c)->cert.get())) cert = std::move(c).value();
  }
  if (!cert && !hint.empty()) {
    if (auto c = knownCertificate(hint); c && identifies(s, (*c)->cert.get())) cert = std::move(c).value();
  }
  if (!cert) {
    for (const auto& c : trust.certificates()) {
      if (!identifies(s, c.get())) continue;
      if (auto k = knownCertificate(certificateToDer(c.get()))) cert = std::move(k).value();
    }
  }
  return cert;
}

// The signing-certificate attribute binds the signature to this certificate (its hash): nullopt when
// it does, or when there is none; else the state and why.
std::optional<std::pair<SignatureState, std::string>> checkSigningCertificate(const SignerParts& s, X509* cert,
                                                                              const std::string& dke) {
  const std::string cert_der = certificateToDer(cert);
  auto malformedAttr = [](std::string why) { return std::pair{SignatureState::Malformed, std::move(why)}; };
  for (const char* attr : {kSigningCertificateV2, kSigningCertificate}) {
    auto sc = s.attrs.find(attr);
    if (sc == s.attrs.end()) continue;
    auto ids = der::children(sc->second);
    auto first = ids && !ids->empty() ? der::children((*ids)[0]) : Result<std::vector<der::Node>>(malformed(""));
    auto id = first && !first->empty() ? der::children((*first)[0]) : Result<std::vector<der::Node>>(malformed(""));
    if (!id || id->empty()) return malformedAttr("a malformed signing-certificate attribute");
    std::string hash_oid = attr == std::string(kSigningCertificate) ? kSha1 : kSha256;
    std::size_t at = 0;
    if ((*id)[0].tag == der::kSequence) {
      auto alg = der::children((*id)[0]);
      if (!alg || alg->empty()) return malformedAttr("the signing certificate's hash algorithm");
      auto o = der::oid((*alg)[0], "signing certificate hash");
      if (!o) return malformedAttr(o.error().message);
      hash_oid = *o;
      at = 1;
    }
    if (at >= id->size()) return malformedAttr("the signing certificate's hash");
    auto hash = der::octets((*id)[at], "signing certificate hash");
    auto ours = digestBy(hash_oid, cert_der, dke);
    if (!hash || !ours) return malformedAttr("the signing certificate's hash");
    if (*hash != *ours) {
      return std::pair{SignatureState::Invalid,
                       "the signing-certificate attribute names another certificate than " + subjectText(cert)};
    }
    break;
  }
  return std::nullopt;
}

SignerCheck checkSigner(const SignedParts& sd, std::string_view content, const TrustStore& trust, std::string_view hint,
                        sev::SevError invalid_code) {
  SignerCheck out;
  const SignerParts& s = sd.signer;
  auto fail = [&](SignatureState st, std::string why) -> SignerCheck {
    out.failed = st;
    out.code = st == SignatureState::Invalid || st == SignatureState::Malformed ? invalid_code : out.code;
    out.detail = std::move(why);
    return std::move(out);
  };
  out.known = signerCertificate(sd, hint, trust, out.carried);
  std::optional<AnyKey> key;
  std::string dke;
  if (out.cert()) {
    auto k = publicKeyOf(out.cert());
    if (k) {
      if (k->kind == AnyKey::Kind::Dstu) dke = k->dstu->dke;
      key.emplace(std::move(k).value());
    }
  }
  if (!s.signed_attrs) return fail(SignatureState::Malformed, "no signed attributes (CAdES needs them)");
  auto md = s.attrs.find(kMessageDigest);
  if (md == s.attrs.end()) return fail(SignatureState::Malformed, "no messageDigest attribute");
  auto expected = der::octets(md->second, "messageDigest");
  if (!expected) return fail(SignatureState::Malformed, expected.error().message);
  auto digest = digestBy(s.digest_oid, content, dke);
  if (!digest) {
    out.code = sev::SevError::AttachmentSignatureUnsupported;
    return fail(SignatureState::UnsupportedAlgorithm, digest.error().message);
  }
  out.digest = *digest == *expected ? "match" : "mismatch";
  if (out.digest == "mismatch") {
    return fail(SignatureState::Invalid, "the content's digest is not the one signed (messageDigest)");
  }
  if (!out.cert()) {
    out.code = sev::SevError::AttachmentSignatureNotCheckable;
    return fail(SignatureState::NotCheckable,
                "no signer certificate in the signature, beside it or in the trust list: the signature cannot be "
                "checked");
  }
  if (!key) {
    out.code = sev::SevError::AttachmentSignatureUnsupported;
    return fail(SignatureState::UnsupportedAlgorithm, publicKeyOf(out.cert()).error().message);
  }
  if (auto wrong = checkSigningCertificate(s, out.cert(), dke)) return fail(wrong->first, wrong->second);
  auto ok =
      verifySignature(*key, s.signature_oid, s.digest_oid, der::retag(*s.signed_attrs, der::kSet), s.signature, false);
  if (!ok) return fail(SignatureState::Malformed, ok.error().message);
  if (!*ok) return fail(SignatureState::Invalid, "the signature does not verify with the signer's key");
  return out;
}

// Who signed, as far as the certificate (or, without one, the SignerInfo's identifier) says.
void describeSigner(const KnownCertificate* cert, const SignerParts& s, const TrustStore& trust, SignatureVerdict& v) {
  if (!cert) {
    v.signer_subject = signerIdText(s);
    return;
  }
  const auto& info = cert->info;
  v.signer_subject = info.subject;
  v.signer_sha256 = info.sha256;
  v.signer_org_id = trust.organizationOf(info);
  const auto& facts = cert->facts;
  v.provider = facts.provider;
  v.key = facts.key;
  v.qualified = facts.qualified;
}

std::optional<std::time_t> parseTime(const std::string& iso) { return parseIsoDateTime(iso); }

}  // namespace

TimestampVerdict verifyTimestampToken(std::string_view token_der, std::string_view imprinted, const TrustStore& trust,
                                      const std::string& kind) {
  TimestampVerdict v;
  v.kind = kind;
  auto sd = parseSignedData(token_der);
  if (!sd) {
    v.detail = "not a time-stamp token: " + sd.error().message;
    return v;
  }
  if (sd->econtent_type != kTstInfo || !sd->econtent) {
    v.detail = "not a time-stamp token (no TSTInfo)";
    return v;
  }
  // TSTInfo { version, policy, messageImprint { algorithm, hash }, serial, genTime, … }.
  auto tst = der::readAll(*sd->econtent);
  auto fields = tst ? der::children(*tst) : Result<std::vector<der::Node>>(tst.error());
  if (!fields || fields->size() < 5) {
    v.detail = "a malformed TSTInfo";
    return v;
  }
  auto imprint = der::children((*fields)[2]);
  auto alg =
      imprint && imprint->size() == 2 ? der::children((*imprint)[0]) : Result<std::vector<der::Node>>(malformed(""));
  auto alg_oid = alg && !alg->empty() ? der::oid((*alg)[0], "imprint algorithm") : Result<std::string>(malformed(""));
  auto hashed =
      imprint && imprint->size() == 2 ? der::octets((*imprint)[1], "imprint") : Result<std::string_view>(malformed(""));
  auto gen = der::time((*fields)[4], "genTime");
  if (!alg_oid || !hashed || !gen) {
    v.detail = "a malformed TSTInfo (imprint or time)";
    return v;
  }
  v.gen_time = *gen;
  auto ours = digestBy(*alg_oid, imprinted);
  if (!ours) {
    v.detail = ours.error().message;
    return v;
  }
  if (*ours != *hashed) {
    v.detail = "a time-stamp for another imprint: it does not stamp this " + kind;
    return v;
  }
  auto signer = checkSigner(*sd, *sd->econtent, trust, {}, sev::SevError::AttachmentSignatureInvalid);
  if (signer.known) v.tsa = signer.known->info.subject;
  if (signer.failed) {
    v.detail = "the time-stamp's own signature: " + signer.detail;
    return v;
  }
  std::vector<X509*> carried;
  for (auto& c : signer.carried) carried.push_back(c.get());
  auto at = parseTime(*gen);
  if (auto s = trust.verifyChain(signer.cert(), carried, at.value_or(std::time(nullptr))); !s) {
    v.detail = "the time-stamp authority is not trusted: " + sev::sevErrorDetail(s.error());
    return v;
  }
  v.valid = true;
  return v;
}

CadesVerdict verifyCades(std::string_view content, std::string_view der, const TrustStore& trust,
                         const CadesOptions& options) {
  CadesVerdict out;
  SignatureVerdict& v = out.signature;
  out.digest = "unknown";
  auto sd = parseSignedData(der);
  if (!sd) {
    ERR_clear_error();
    v.state = SignatureState::Malformed;
    v.code = sev::SevError::AttachmentSignatureInvalid;
    v.detail = sd.error().message;
    return out;
  }
  const SignerParts& s = sd->signer;
  v.algorithm = algorithmName(s.signature_oid);
  out.chain = "not checked";
  if (auto st = s.attrs.find(kSigningTime); st != s.attrs.end()) {
    if (auto t = der::time(st->second, "signingTime")) v.signing_time = *t;  // shown; never judged by
  }
  auto signer = checkSigner(*sd, content, trust, options.hint_certificate, sev::SevError::AttachmentSignatureInvalid);
  out.digest = signer.digest;
  describeSigner(signer.known.get(), s, trust, v);
  // Time-stamps: the content's (a signed attribute) and the signature's (unsigned).
  std::optional<std::time_t> proven;
  if (auto ct = s.attrs.find(kContentTimestamp); ct != s.attrs.end()) {
    out.timestamps.push_back(verifyTimestampToken(ct->second.whole, content, trust, "content"));
  }
  if (auto st = s.unsigned_attrs.find(kSignatureTimestamp); st != s.unsigned_attrs.end()) {
    auto t = verifyTimestampToken(st->second.whole, s.signature, trust, "signature");
    if (t.valid) proven = parseTime(t.gen_time);
    out.timestamps.push_back(std::move(t));
  }
  std::time_t now = std::time(nullptr);
  const std::time_t at = options.at ? *options.at : proven ? *proven : now;
  v.judged_at = formatIsoUtc(at);
  v.judged_by = options.at ? "the time asked for" : proven ? "time-stamp" : "now";
  if (signer.failed) {
    v.state = *signer.failed;
    v.code = signer.code;
    v.detail = signer.detail;
    return out;
  }
  std::vector<X509*> carried;
  for (auto& c : signer.carried) carried.push_back(c.get());
  if (auto chain = trust.verifyChain(signer.cert(), carried, at); !chain) {
    auto code = sev::sevErrorOf(chain.error()).value_or(sev::SevError::SignerUntrusted);
    v.detail = sev::sevErrorDetail(chain.error());
    out.chain = v.detail;
    if (code == sev::SevError::CertificateNotValidAtSigning && !options.at && !proven &&
        X509_cmp_time(X509_get0_notAfter(signer.cert()), &now) < 0) {
      // Judged now, and it has expired: no proof it signed while it was valid. Not "invalid" — not decided.
      v.state = SignatureState::ExpiredNoProof;
      v.code = sev::SevError::CertificateExpiredNoProof;
      v.detail = "signature and digest valid; signer's certificate expired, no proof the signature existed before (" +
                 v.detail + ")";
    } else {
      v.state = code == sev::SevError::CertificateNotValidAtSigning ? SignatureState::NotValidAtSigning
                                                                    : SignatureState::Untrusted;
      v.code = code;
    }
    return out;
  }
  out.chain = "trusted";
  // An official's qualified certificate may name no organisation at all (no organizationIdentifier, no
  // EDRPOU attribute): then who signed is shown, and the sender is vouched for by its transport and seal.
  // A certificate that names another organisation than the sender is refused.
  if (!options.expected_org_id.empty() && !v.signer_org_id.empty() && v.signer_org_id != options.expected_org_id) {
    v.state = SignatureState::SignerNotSender;
    v.code = sev::SevError::SignerNotSender;
    v.detail = "signed for organisation '" + v.signer_org_id + "', the sender is '" + options.expected_org_id + "'";
    return out;
  }
  v.state = SignatureState::Valid;
  return out;
}

}  // namespace vkhid::crypto
