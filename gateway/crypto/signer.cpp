#include "gateway/crypto/signer.hpp"

#include "gateway/crypto/cms.hpp"

namespace vkhid::crypto {

Result<CmsSignature> Signer::signCms(std::string_view content) const {
  return cades_ ? signDetached(content, *cades_, key()) : signDetached(content, *this);
}

Result<FileSigner> FileSigner::load(const std::string& key_path, const std::string& cert_path) {
  auto key_pem = readFile(key_path);
  if (!key_pem) return key_pem.error();
  auto cert_pem = readFile(cert_path);
  if (!cert_pem) return cert_pem.error();
  auto key = privateKeyFromPem(*key_pem);
  if (!key) return Error::invalid(key.error().code, key_path + ": " + key.error().message);
  auto certs = certificatesFromPem(*cert_pem);
  if (!certs) return Error::invalid(certs.error().code, cert_path + ": " + certs.error().message);
  if (X509_check_private_key(certs->front().get(), key->get()) != 1) {
    return Error::invalid("crypto.key_mismatch", key_path + " is not the key of " + cert_path);
  }
  FileSigner s;
  s.key_ = std::move(key).value();
  s.certs_ = std::move(certs).value();
  s.cades_ = cadesTemplate(s.certificate(), s.chain(), s.key());
  return s;
}

std::vector<X509*> FileSigner::chain() const {
  std::vector<X509*> out;
  for (std::size_t i = 1; i < certs_.size(); ++i) out.push_back(certs_[i].get());
  return out;
}

}  // namespace vkhid::crypto
