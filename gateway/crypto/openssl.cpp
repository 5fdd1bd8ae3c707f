#include "gateway/crypto/openssl.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace vkhid::crypto {

std::string opensslError() {
  unsigned long e = ERR_get_error();
  std::string text;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text.empty() ? "unknown OpenSSL error" : text;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorKind::NotFound, "file.unreadable", "cannot read " + path};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::string> readSettledFile(const std::string& path) {
  auto last = readFile(path);
  for (int reads = 0; last && reads < 100; ++reads) {
    auto again = readFile(path);
    if (!again || *again == *last) return again;
    last = std::move(again);
  }
  return last ? Result<std::string>(Error::internal("file.unsettled", path + " kept changing while read")) : last;
}

Result<std::string> readSecret(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text;
  while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) text->pop_back();
  return text;
}

Status writeFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Error::unavailable("file.unwritable", "cannot write " + path);
  return {};
}

Result<std::vector<X509Ptr>> certificatesFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return Error::invalid("crypto.no_certificate", "no PEM certificate found");
  return out;
}

Result<X509Ptr> certificateFromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr) return Error::invalid("crypto.bad_certificate", "not a DER certificate: " + opensslError());
  return X509Ptr(c);
}

std::string certificateToDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len > 0 ? len : 0));
  OPENSSL_free(der);
  return out;
}

Result<EvpPkeyPtr> privateKeyFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (k == nullptr) return Error::invalid("crypto.bad_key", "not a PEM private key: " + opensslError());
  return EvpPkeyPtr(k);
}

}  // namespace vkhid::crypto
