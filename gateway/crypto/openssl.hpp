// Owning handles for OpenSSL objects (each freed by its own function) and PEM/DER loading.
#pragma once

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto {

template <class T, void (*Free)(T*)>
struct OsslDeleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509, X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO, BIO_free_all>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, OsslDeleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE, X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

inline void freeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OsslDeleter<STACK_OF(X509), freeX509Stack>>;

inline X509Ptr upRef(X509* cert) {
  X509_up_ref(cert);
  return X509Ptr(cert);
}

// The last OpenSSL error as one line (and the queue cleared).
std::string opensslError();

Result<std::string> readFile(const std::string& path);
// A small file another process rewrites in place while it runs (a simulator's counts): read until two
// reads in a row agree, so that a read made during a write — part of each text — is never taken.
Result<std::string> readSettledFile(const std::string& path);
// A secret kept in a file (a password): its contents without the trailing newline or spaces.
Result<std::string> readSecret(const std::string& path);
// Writes the whole file (replacing it); code "file.unwritable" when it cannot.
Status writeFile(const std::string& path, std::string_view bytes);

// Every certificate in a PEM text, in order.
Result<std::vector<X509Ptr>> certificatesFromPem(std::string_view pem);
// One DER certificate, decoded (bytes after it are ignored). A signer's certificate as packages carry it:
// knownCertificate (known_certificates.hpp), decoded and described once.
Result<X509Ptr> certificateFromDer(std::string_view der);
std::string certificateToDer(X509* cert);
Result<EvpPkeyPtr> privateKeyFromPem(std::string_view pem);

}  // namespace vkhid::crypto
