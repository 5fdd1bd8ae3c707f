#include "gateway/crypto/trust.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>

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

Status TrustStore::addPem(std::string_view pem) {
  auto certs = certificatesFromPem(pem);
  if (!certs) return certs.error();
  for (auto& c : *certs) add(c.get());
  return {};
}

void TrustStore::add(X509* ca) {
  X509_STORE_add_cert(store_.get(), ca);
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
    STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
    ChainMemory::Chain remembered;
    remembered.valid_from = std::numeric_limits<std::time_t>::min();
    remembered.valid_to = std::numeric_limits<std::time_t>::max();
    std::vector<X509*> chain;
    bool known_span = true;
    for (int i = 0; i < sk_X509_num(built); ++i) {
      X509* c = sk_X509_value(built, i);
      chain.push_back(c);
      remembered.certs.push_back(upRef(c));
      auto from = timeOf(X509_get0_notBefore(c));
      auto to = timeOf(X509_get0_notAfter(c));
      if (!from || !to) known_span = false;
      if (from) remembered.valid_from = std::max(remembered.valid_from, *from);
      if (to) remembered.valid_to = std::min(remembered.valid_to, *to);
    }
    if (known_span) {
      std::lock_guard lock(chains_->mutex);
      if (chains_->chains.size() >= ChainMemory::kMax) chains_->chains.clear();
      chains_->chains.insert_or_assign(key, std::move(remembered));
    }
    return revocation(chain);
  }
  int err = X509_STORE_CTX_get_error(ctx.get());
  std::string reason = X509_verify_cert_error_string(err);
  if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) {
    return sev::sevError(sev::SevError::CertificateNotValidAtSigning,
                         reason + " at " + formatIsoUtc(at) + " (" + describe(cert).subject + ")");
  }
  return sev::sevError(sev::SevError::SignerUntrusted, reason + " (" + describe(cert).subject + ")");
}

}  // namespace vkhid::crypto
