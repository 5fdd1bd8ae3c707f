#include "gateway/crypto/trust.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>

#include "gateway/crypto/der.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::crypto {
namespace {

std::string nameText(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::optional<std::time_t> timeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return timegm(&tm);
}

std::string timeText(const ASN1_TIME* t) {
  auto at = timeOf(t);
  return at ? formatIsoUtc(*at) : std::string();
}

// SHA-256 of the certificate's DER, raw bytes.
std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

// The EDRPOU code Ukrainian qualified certificates of an organisation's officials carry in their
// subjectDirectoryAttributes (1.2.804.2.1.1.1.11.1.4.2.1), when the subject names no
// organizationIdentifier.
std::string edrpouAttribute(X509* cert) {
  int at = X509_get_ext_by_NID(cert, NID_subject_directory_attributes, -1);
  if (at < 0) return {};
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert, at));
  auto attrs = der::readAll(
      std::string_view(reinterpret_cast<const char*>(value->data), static_cast<std::size_t>(value->length)));
  auto list = attrs ? der::children(*attrs) : Result<std::vector<der::Node>>(attrs.error());
  if (!list) return {};
  for (const auto& a : *list) {
    auto parts = der::children(a);
    if (!parts || parts->size() != 2) continue;
    auto type = der::oid((*parts)[0], "attribute");
    if (!type || *type != "1.2.804.2.1.1.1.11.1.4.2.1") continue;
    auto values = der::children((*parts)[1]);
    if (!values || values->empty()) continue;
    std::string code((*values)[0].content);
    if (isDigits(code) && code.size() >= 8 && code.size() <= 10) return code;
  }
  return {};
}

}  // namespace

CertificateInfo describe(X509* cert) {
  CertificateInfo info;
  info.subject = nameText(X509_get_subject_name(cert));
  info.issuer = nameText(X509_get_issuer_name(cert));
  ASN1_OBJECT* oid = OBJ_txt2obj("2.5.4.97", 1);
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_OBJ(subject, oid, -1);
  ASN1_OBJECT_free(oid);
  if (idx >= 0) {
    ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
    if (text.starts_with("NTRUA-")) info.org_id = text.substr(6);
  }
  if (info.org_id.empty()) info.org_id = edrpouAttribute(cert);
  info.sha256 = hexEncode(fingerprint(cert));
  info.not_before = timeText(X509_get0_notBefore(cert));
  info.not_after = timeText(X509_get0_notAfter(cert));
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert);
  ASN1_OBJECT* alg = nullptr;
  X509_PUBKEY_get0_param(&alg, nullptr, nullptr, nullptr, pub);
  int nid = alg ? OBJ_obj2nid(alg) : NID_undef;
  if (nid == NID_X9_62_id_ecPublicKey) {
    info.key_algorithm = "EC";
  } else if (nid == NID_rsaEncryption) {
    info.key_algorithm = "RSA";
  } else if (alg != nullptr) {
    char buf[128];
    OBJ_obj2txt(buf, sizeof buf, alg, 1);
    info.key_algorithm = buf;
  }
  return info;
}

// Chains built before, by the fingerprints of the leaf and of the certificates sent with it.
struct TrustStore::ChainMemory {
  struct Chain {
    std::vector<X509Ptr> certs;  // leaf first, as OpenSSL built it
    std::time_t valid_from = 0;  // the latest notBefore of them
    std::time_t valid_to = 0;    // the earliest notAfter
  };
  static constexpr std::size_t kMax = 1024;
  std::mutex mutex;
  std::map<std::string, Chain> chains;
  std::size_t built = 0;

  // Keeps the chain OpenSSL built under `key`, for the span all its certificates are valid; returns it.
  std::vector<X509*> remember(const std::string& key, STACK_OF(X509) * built_chain) {
    Chain remembered;
    remembered.valid_from = std::numeric_limits<std::time_t>::min();
    remembered.valid_to = std::numeric_limits<std::time_t>::max();
    std::vector<X509*> chain;
    bool known_span = true;
    for (int i = 0; i < sk_X509_num(built_chain); ++i) {
      X509* c = sk_X509_value(built_chain, i);
      chain.push_back(c);
      remembered.certs.push_back(upRef(c));
      auto from = timeOf(X509_get0_notBefore(c));
      auto to = timeOf(X509_get0_notAfter(c));
      if (!from || !to) known_span = false;
      if (from) remembered.valid_from = std::max(remembered.valid_from, *from);
      if (to) remembered.valid_to = std::min(remembered.valid_to, *to);
    }
    if (known_span) {
      std::lock_guard lock(mutex);
      if (chains.size() >= kMax) chains.clear();
      chains.insert_or_assign(key, std::move(remembered));
    }
    return chain;
  }
};

TrustStore::TrustStore() : store_(X509_STORE_new()), chains_(std::make_unique<ChainMemory>()) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

std::size_t TrustStore::chainsBuilt() const {
  std::lock_guard lock(chains_->mutex);
  return chains_->built;
}

Result<TrustStore> TrustStore::fromDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::invalid("crypto.trust_dir", "trust folder " + dir + " does not exist");
  TrustStore trust;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".pem") continue;
    auto text = readFile(entry.path().string());
    if (!text) return text.error();
    if (auto s = trust.addPem(*text); !s) {
      return Error::invalid("crypto.trust_file", entry.path().string() + ": " + s.error().message);
    }
  }
  if (trust.size() == 0) return Error::invalid("crypto.trust_empty", "no certificate in " + dir + "/*.pem");
  return trust;
}

Result<TrustStore> TrustStore::fromFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  TrustStore trust;
  if (auto s = trust.addPem(*text); !s) return Error::invalid("crypto.trust_file", path + ": " + s.error().message);
  if (trust.size() == 0) return Error::invalid("crypto.trust_empty", "no certificate in " + path);
  return trust;
}

Result<TrustStore> TrustStore::fromPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TrustStore trust;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      static const std::vector<std::string> kinds{".pem", ".der", ".cer", ".crt", ".p7b"};
      if (std::find(kinds.begin(), kinds.end(), entry.path().extension().string()) != kinds.end()) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
  } else {
    files.emplace_back(path);
  }
  for (const auto& f : files) {
    auto bytes = readFile(f.string());
    if (!bytes) return bytes.error();
    if (auto s = trust.addAny(*bytes); !s) {
      return Error::invalid("crypto.trust_file", f.string() + ": " + s.error().message);
    }
  }
  if (trust.size() == 0) return Error::invalid("crypto.trust_empty", "no certificate in " + path);
  return trust;
}

Result<TrustStore> TrustStore::fromPaths(const std::string& paths) {
  TrustStore trust;
  for (const auto& path : splitList(paths)) {
    auto one = fromPath(path);
    if (!one) return Error::invalid(one.error().code, path + ": " + one.error().message);
    trust.addFrom(*one);
  }
  if (trust.size() == 0) return Error::invalid("crypto.trust_empty", "no trusted certificate given");
  return trust;
}

Status TrustStore::addAny(std::string_view bytes) {
  if (bytes.find("-----BEGIN") != std::string_view::npos) return addPem(bytes);
  if (auto c = certificateFromDer(bytes)) {
    add(c->get());
    return {};
  }
  return addBundle(bytes);
}

Status TrustStore::addBundle(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<PKCS7, OsslDeleter<PKCS7, PKCS7_free>> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7 || !PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr || p7->d.sign->cert == nullptr) {
    ERR_clear_error();
    return Error::invalid("crypto.bundle", "neither a certificate nor a PKCS#7 bundle of certificates");
  }
  for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) add(sk_X509_value(p7->d.sign->cert, i));
  return {};
}

Status TrustStore::addCrlDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  if (crl == nullptr) {
    ERR_clear_error();
    return Error::invalid("crypto.crl", "not a DER CRL");
  }
  crls_.emplace_back(crl);
  return {};
}

void TrustStore::addFrom(const TrustStore& other) {
  for (const auto& c : other.anchors_) add(c.get());
  for (const auto& crl : other.crls_) {
    X509_CRL_up_ref(crl.get());
    crls_.emplace_back(crl.get());
  }
}

Status TrustStore::addPem(std::string_view pem) {
  auto certs = certificatesFromPem(pem);
  if (!certs) return certs.error();
  for (auto& c : *certs) add(c.get());
  return {};
}

void TrustStore::add(X509* ca) {
  X509_STORE_add_cert(store_.get(), ca);
  anchors_.push_back(upRef(ca));
  ++count_;
  std::lock_guard lock(chains_->mutex);
  chains_->chains.clear();
}

void TrustStore::mapOrganization(const std::string& sha256_hex, const std::string& org_id) {
  org_by_fingerprint_[sha256_hex] = org_id;
}

std::string TrustStore::organizationOf(X509* cert) const { return organizationOf(describe(cert)); }

std::string TrustStore::organizationOf(const CertificateInfo& info) const {
  if (auto it = org_by_fingerprint_.find(info.sha256); it != org_by_fingerprint_.end()) return it->second;
  return info.org_id;
}

Status TrustStore::addCrl(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int added = 0;
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    crls_.emplace_back(crl);
    ++added;
  }
  ERR_clear_error();
  if (added == 0) return Error::invalid("crypto.crl", "no CRL in the PEM text");
  return {};
}

Status TrustStore::revocation(const std::vector<X509*>& chain) const {
  // Each certificate of the chain against the CRL of its issuer, when one is loaded (a CRL counts
  // only if that issuer signed it).
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* subject = chain[i];
    X509* issuer = chain[i + 1];
    for (const auto& crl : crls_) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) continue;
      EvpPkeyPtr key(X509_get_pubkey(issuer));
      if (!key || X509_CRL_verify(crl.get(), key.get()) != 1) continue;
      X509_REVOKED* revoked = nullptr;
      if (X509_CRL_get0_by_cert(crl.get(), &revoked, subject) == 1) {
        return sev::sevError(sev::SevError::SignerUntrusted,
                             "certificate revoked by its CA's CRL (" + describe(subject).subject + ")");
      }
    }
  }
  return {};
}

Status TrustStore::verifyChain(X509* cert, const std::vector<X509*>& intermediates, std::time_t at) const {
  // A DSTU 4145 key in the leaf or among the certificates sent with it: OpenSSL cannot read it, so the
  // chain is built here (mixed chains too: an ECDSA CA under a DSTU root).
  auto built_here = [&] {
    std::vector<X509*> anchors;
    for (const auto& a : anchors_) anchors.push_back(a.get());
    std::vector<X509_CRL*> crls;
    for (const auto& c : crls_) crls.push_back(c.get());
    return verifyChainAnyKey(cert, intermediates, anchors, crls, at);
  };
  if (hasDstuKey(cert) || std::any_of(intermediates.begin(), intermediates.end(), hasDstuKey)) return built_here();
  std::string key = fingerprint(cert);
  std::vector<std::string> others;
  for (X509* c : intermediates) {
    if (c != cert) others.push_back(fingerprint(c));
  }
  std::sort(others.begin(), others.end());
  for (const auto& o : others) key += o;
  {
    std::lock_guard lock(chains_->mutex);
    if (auto it = chains_->chains.find(key);
        it != chains_->chains.end() && it->second.valid_from <= at && at <= it->second.valid_to) {
      std::vector<X509*> chain;
      for (const auto& c : it->second.certs) chain.push_back(c.get());
      return revocation(chain);
    }
  }

  X509StackPtr untrusted(sk_X509_new_null());
  for (X509* c : intermediates) {
    if (c != cert) {
      X509_up_ref(c);
      sk_X509_push(untrusted.get(), c);
    }
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store_.get(), cert, untrusted.get());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, at);
  const int ok = X509_verify_cert(ctx.get());
  {
    std::lock_guard lock(chains_->mutex);
    ++chains_->built;
  }
  if (ok == 1) {
    return revocation(chains_->remember(key, X509_STORE_CTX_get0_chain(ctx.get())));
  }
  int err = X509_STORE_CTX_get_error(ctx.get());
  const bool dstu_anchor =
      std::any_of(anchors_.begin(), anchors_.end(), [](const X509Ptr& a) { return hasDstuKey(a.get()); });
  if (dstu_anchor &&
      (err == X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY || err == X509_V_ERR_CERT_SIGNATURE_FAILURE ||
       err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)) {
    // An issuer with a key OpenSSL cannot read (a DSTU root over an ECDSA CA): built here instead.
    return built_here();
  }
  std::string reason = X509_verify_cert_error_string(err);
  if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) {
    return sev::sevError(sev::SevError::CertificateNotValidAtSigning,
                         reason + " at " + formatIsoUtc(at) + " (" + describe(cert).subject + ")");
  }
  return sev::sevError(sev::SevError::SignerUntrusted, reason + " (" + describe(cert).subject + ")");
}

}  // namespace vkhid::crypto
