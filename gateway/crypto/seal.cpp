#include "gateway/crypto/seal.hpp"

#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/membuf.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <mutex>

#include "gateway/crypto/known_certificates.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::crypto {
namespace {

using sev::sv;
using sev::xc;

struct DSigCtxDeleter {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};
using DSigCtxPtr = std::unique_ptr<xmlSecDSigCtx, DSigCtxDeleter>;
struct KeyDeleter {
  void operator()(xmlSecKey* k) const { xmlSecKeyDestroy(k); }
};
using KeyPtr = std::unique_ptr<xmlSecKey, KeyDeleter>;

bool isDsig(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr && sv(n->ns->href) == kDsigNs &&
         sv(n->name) == name;
}
bool isPlain(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns == nullptr && sv(n->name) == name;
}

void collectSignatures(xmlNode* n, std::vector<xmlNode*>& out) {
  for (xmlNode* c = n; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (isDsig(c, "Signature")) out.push_back(c);
    collectSignatures(c->children, out);
  }
}

std::vector<xmlNode*> elementChildren(const xmlNode* n) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = n ? n->children : nullptr; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

std::string attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetNoNsProp(n, xc(name));
  std::string s(sv(v));
  xmlFree(v);
  return s;
}

// An xmlsec key holding `pkey` (and, for signing, its certificate for KeyInfo).
KeyPtr makeKey(EVP_PKEY* pkey, X509* cert) {
  EVP_PKEY_up_ref(pkey);
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pkey);
  if (data == nullptr) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  KeyPtr key(xmlSecKeyCreate());
  if (!key || xmlSecKeySetValue(key.get(), data) < 0) {
    xmlSecKeyDataDestroy(data);
    return nullptr;
  }
  if (cert != nullptr) {
    xmlSecKeyDataPtr x509 = xmlSecKeyEnsureData(key.get(), xmlSecOpenSSLKeyDataX509Id);
    X509_up_ref(cert);
    if (x509 == nullptr || xmlSecOpenSSLKeyDataX509AdoptCert(x509, cert) < 0) return nullptr;
  }
  return key;
}

// A key of the same kind as a module's (ECDSA P-256 or RSA), made once per process: what xmlsec signs
// with before the module's own signature replaces its value (seal()).
EVP_PKEY* standInKey(int base) {
  static EVP_PKEY* ec = EVP_EC_gen("P-256");
  static EVP_PKEY* rsa = EVP_RSA_gen(2048);
  return base == EVP_PKEY_RSA ? rsa : ec;
}

// An XML-DSig SignatureValue of `data` by `key` with SHA-256: PKCS#1 v1.5 for RSA, r || s (each the
// size of the curve's order) for ECDSA.
Result<std::string> signatureValue(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>> md(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Error::internal("crypto.seal", "the module cannot sign: " + opensslError());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Error::internal("crypto.seal", "the module did not sign: " + opensslError());
  }
  sig.resize(len);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, OsslDeleter<ECDSA_SIG, ECDSA_SIG_free>> ecdsa(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!ecdsa) return Error::internal("crypto.seal", "the module's ECDSA signature is not DER");
  const int half = (EVP_PKEY_get_bits(key) + 7) / 8;
  std::string out(static_cast<std::size_t>(2 * half), '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), reinterpret_cast<unsigned char*>(out.data()), half);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), reinterpret_cast<unsigned char*>(out.data()) + half, half);
  return out;
}

SignatureVerdict fail(SignatureVerdict v, SignatureState state, sev::SevError code, std::string detail) {
  v.state = state;
  v.code = code;
  v.detail = std::move(detail);
  return v;
}

xmlNode* ensureExpansion(xmlDoc* doc, const std::string& organization, const std::string& version) {
  xmlNode* root = xmlDocGetRootElement(doc);
  for (xmlNode* c : elementChildren(root)) {
    if (isPlain(c, "Expansion")) return c;
  }
  xmlNode* expansion = xmlNewDocNode(doc, nullptr, xc("Expansion"), nullptr);
  xmlNewChild(expansion, nullptr, xc("StaticExpansion"), nullptr);
  xmlNewProp(expansion, xc("organization"), xc(organization.c_str()));
  xmlNewProp(expansion, xc("exp_ver"), xc(version.c_str()));
  xmlNode* ack = nullptr;
  for (xmlNode* c : elementChildren(root)) {
    if (isPlain(c, "Acknowledgement")) ack = c;
  }
  // Expansion comes before Acknowledgement in the envelope's sequence.
  if (ack != nullptr) return xmlAddPrevSibling(ack, expansion);
  return xmlAddChild(root, expansion);
}

}  // namespace

void initXmlSec() {
  static std::once_flag once;
  std::call_once(once, [] {
    sev::initXml();
    xmlSecInit();
    xmlSecCryptoAppInit(nullptr);
    xmlSecCryptoInit();
    // Verification failures are expected input, reported as verdicts; xmlsec must not print them.
    xmlSecErrorsSetCallback([](const char*, int, const char*, const char*, const char*, int, const char*) {});
  });
}

Status seal(xmlDoc* doc, const Signer& signer, const std::string& expansion_organization,
            const std::string& expansion_version) {
  initXmlSec();
  if (signer.key() == nullptr) {
    return Error::invalid("crypto.seal_key",
                          "this key cannot make an XML-DSig seal (a DSTU 4145 key signs attachments only)");
  }
  std::vector<xmlNode*> existing;
  collectSignatures(xmlDocGetRootElement(doc), existing);
  for (xmlNode* n : existing) {
    xmlUnlinkNode(n);
    xmlFreeNode(n);
  }
  xmlNode* expansion = ensureExpansion(doc, expansion_organization, expansion_version);

  int base = EVP_PKEY_get_base_id(signer.key());
  xmlSecTransformId method = base == EVP_PKEY_RSA ? xmlSecTransformRsaSha256Id : xmlSecTransformEcdsaSha256Id;
  if (base != EVP_PKEY_RSA && base != EVP_PKEY_EC) {
    return Error::invalid("crypto.key_type", "the seal key must be ECDSA or RSA");
  }
  xmlNode* sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, method, nullptr, xc("ds"));
  xmlAddChild(expansion, sig);
  xmlNode* ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, nullptr, xc(""), nullptr);
  if (ref == nullptr || xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) == nullptr ||
      xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) == nullptr) {
    return Error::internal("crypto.seal", "cannot build the signature template");
  }
  xmlNode* key_info = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
  xmlNode* x509 = xmlSecTmplKeyInfoAddX509Data(key_info);
  if (x509 == nullptr || xmlSecTmplX509DataAddCertificate(x509) == nullptr) {
    return Error::internal("crypto.seal", "cannot build KeyInfo");
  }
  DSigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));
  // A key in a hardware module: xmlsec cannot read what it wants of it (the curve's order), so it signs
  // with a stand-in key of the same kind, keeps the canonical SignedInfo it signed, and the module's key
  // signs those bytes in its place. Everything else — digest, transforms, KeyInfo — is xmlsec's.
  const bool in_module = signer.keyInModule();
  KeyPtr key = makeKey(in_module ? standInKey(base) : signer.key(), signer.certificate());
  if (!ctx || !key) return Error::internal("crypto.seal", "cannot load the seal key into xmlsec");
  ctx->signKey = key.release();  // the context owns it now
  if (in_module) ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNATURE;
  if (xmlSecDSigCtxSign(ctx.get(), sig) < 0) return Error::internal("crypto.seal", "xmlsec could not sign");
  if (!in_module) return {};
  xmlSecBufferPtr signed_info =
      ctx->preSignMemBufMethod != nullptr ? xmlSecTransformMemBufGetBuffer(ctx->preSignMemBufMethod) : nullptr;
  if (signed_info == nullptr) return Error::internal("crypto.seal", "xmlsec kept no SignedInfo to sign");
  auto value =
      signatureValue(signer.key(), std::string_view(reinterpret_cast<const char*>(xmlSecBufferGetData(signed_info)),
                                                    xmlSecBufferGetSize(signed_info)));
  if (!value) return value.error();
  for (xmlNode* c : elementChildren(sig)) {
    if (isDsig(c, "SignatureValue")) {
      xmlNodeSetContent(c, xc(base64Encode(*value).c_str()));
      return {};
    }
  }
  return Error::internal("crypto.seal", "no SignatureValue in the seal");
}

namespace {

// One SignedInfo with one Reference URI="" and exactly the two transforms we make; nullopt when so.
std::optional<SignatureVerdict> checkSealStructure(xmlNode* sig, SignatureVerdict& v) {
  auto parts = elementChildren(sig);
  xmlNode* signed_info = parts.empty() ? nullptr : parts.front();
  if (!isDsig(signed_info, "SignedInfo")) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealMalformed, "no SignedInfo");
  }
  std::vector<xmlNode*> references;
  std::string method;
  for (xmlNode* c : elementChildren(signed_info)) {
    if (isDsig(c, "Reference")) references.push_back(c);
    if (isDsig(c, "SignatureMethod")) method = attr(c, "Algorithm");
  }
  v.algorithm = method;
  if (references.size() != 1) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealReferenceNotWhole,
                std::to_string(references.size()) + " references; exactly one is allowed");
  }
  xmlNode* reference = references.front();
  if (xmlHasProp(reference, xc("URI")) == nullptr || !attr(reference, "URI").empty()) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealReferenceNotWhole,
                "Reference URI=\"" + attr(reference, "URI") + "\"; only URI=\"\" (the whole document) is accepted");
  }
  std::vector<std::string> transforms;
  for (xmlNode* c : elementChildren(reference)) {
    if (isDsig(c, "Transforms")) {
      for (xmlNode* t : elementChildren(c)) transforms.push_back(attr(t, "Algorithm"));
    }
  }
  const std::vector<std::string> expected = {"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                                             "http://www.w3.org/2001/10/xml-exc-c14n#"};
  if (transforms != expected) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealMalformed,
                "the Reference must have exactly the enveloped-signature and exclusive C14N transforms");
  }
  return std::nullopt;
}

// The certificates of KeyInfo/X509Data, the signer's first.
std::vector<std::shared_ptr<const KnownCertificate>> keyInfoCertificates(xmlNode* sig) {
  std::vector<std::shared_ptr<const KnownCertificate>> certs;
  for (xmlNode* c : elementChildren(sig)) {
    if (!isDsig(c, "KeyInfo")) continue;
    for (xmlNode* d : elementChildren(c)) {
      if (!isDsig(d, "X509Data")) continue;
      for (xmlNode* e : elementChildren(d)) {
        if (!isDsig(e, "X509Certificate")) continue;
        xmlChar* text = xmlNodeGetContent(e);
        auto der = base64Decode(sv(text));
        xmlFree(text);
        if (!der) continue;
        if (auto cert = knownCertificate(*der)) certs.push_back(std::move(cert).value());
      }
    }
  }
  return certs;
}

// The mathematics, with xmlsec limited to what the structure check allowed; nullopt when it holds.
std::optional<SignatureVerdict> checkSealMath(xmlNode* sig, X509* signer, const SignatureVerdict& v) {
  EvpPkeyPtr pub(X509_get_pubkey(signer));
  KeyPtr key = pub ? makeKey(pub.get(), nullptr) : nullptr;
  DSigCtxPtr ctx(xmlSecDSigCtxCreate(nullptr));
  if (!key || !ctx) return fail(v, SignatureState::Malformed, sev::SevError::SealMalformed, "unusable certificate key");
  ctx->signKey = key.release();
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecTransformEnvelopedId);
  xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecTransformExclC14NId);
  xmlSecDSigCtxEnableReferenceTransform(ctx.get(), xmlSecTransformSha256Id);
  xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformExclC14NId);
  xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformSha256Id);
  xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformEcdsaSha256Id);
  xmlSecDSigCtxEnableSignatureTransform(ctx.get(), xmlSecTransformRsaSha256Id);
  if (xmlSecDSigCtxVerify(ctx.get(), sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
    return fail(v, SignatureState::Invalid, sev::SevError::SealInvalid,
                "the seal does not match the package (changed after sealing, or another key)");
  }
  return std::nullopt;
}

// The signer: trusted now (or at the time an auditor asks for) — never at the Header's time, which the
// sender writes itself (ETSI EN 319 102-1: a signature is judged at a time someone can prove) — and the
// sender of the package.
SignatureVerdict judgeSigner(xmlNode* root, const TrustStore& trust,
                             const std::vector<std::shared_ptr<const KnownCertificate>>& certs,
                             std::optional<std::time_t> at, SignatureVerdict v) {
  X509* signer = certs.front()->cert.get();
  if (auto stated = parseIsoDateTime(attr(root, "time"))) v.signing_time = formatIsoUtc(*stated);
  std::time_t now = std::time(nullptr);
  const std::time_t judged = at.value_or(now);
  v.judged_at = formatIsoUtc(judged);
  v.judged_by = at ? "the time asked for" : "now";
  const auto& facts = certs.front()->facts;
  v.provider = facts.provider;
  v.key = facts.key;
  v.qualified = facts.qualified;
  std::vector<X509*> intermediates;
  for (const auto& c : certs) intermediates.push_back(c->cert.get());
  if (auto s = trust.verifyChain(signer, intermediates, judged); !s) {
    auto code = sev::sevErrorOf(s.error()).value_or(sev::SevError::SignerUntrusted);
    if (code == sev::SevError::CertificateNotValidAtSigning && !at &&
        X509_cmp_time(X509_get0_notAfter(signer), &now) < 0) {
      return fail(v, SignatureState::ExpiredNoProof, sev::SevError::CertificateExpiredNoProof,
                  "signer's certificate expired; no proof the signature existed before (" +
                      sev::sevErrorDetail(s.error()) + "; the package's own time " + attr(root, "time") +
                      " is the sender's word, not a proof)");
    }
    return fail(v,
                code == sev::SevError::CertificateNotValidAtSigning ? SignatureState::NotValidAtSigning
                                                                    : SignatureState::Untrusted,
                code, sev::sevErrorDetail(s.error()));
  }
  std::string from = attr(root, "from_org_id");
  if (v.signer_org_id != from) {
    return fail(v, SignatureState::SignerNotSender, sev::SevError::SignerNotSender,
                "sealed for organisation '" + v.signer_org_id + "', the sender is '" + from + "'");
  }
  v.state = SignatureState::Valid;
  return v;
}

}  // namespace

SignatureVerdict verifySeal(xmlDoc* doc, const TrustStore& trust, std::optional<std::time_t> at) {
  initXmlSec();
  SignatureVerdict v;
  xmlNode* root = xmlDocGetRootElement(doc);
  std::vector<xmlNode*> signatures;
  collectSignatures(root, signatures);
  if (signatures.empty()) return fail(v, SignatureState::Missing, sev::SevError::SealMissing, "no ds:Signature");
  if (signatures.size() > 1) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealDuplicated,
                std::to_string(signatures.size()) + " ds:Signature elements");
  }
  xmlNode* sig = signatures.front();
  if (!isPlain(sig->parent, "Expansion") || sig->parent->parent != root) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealMalformed, "the seal is not in Header/Expansion");
  }
  if (auto refused = checkSealStructure(sig, v)) return *refused;
  auto certs = keyInfoCertificates(sig);
  if (certs.empty()) {
    return fail(v, SignatureState::Malformed, sev::SevError::SealMalformed, "no X509Certificate in KeyInfo");
  }
  const auto& info = certs.front()->info;
  v.signer_subject = info.subject;
  v.signer_sha256 = info.sha256;
  v.signer_org_id = trust.organizationOf(info);
  if (auto refused = checkSealMath(sig, certs.front()->cert.get(), v)) return *refused;
  return judgeSigner(root, trust, certs, at, std::move(v));
}

}  // namespace vkhid::crypto
