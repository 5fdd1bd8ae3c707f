// Who is trusted to sign for whom: the CA certificates trusted for one participant (or for the CLI's
// --trust folder), chain checks at the time of signing, and the organisation a certificate speaks for.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "gateway/crypto/openssl.hpp"

namespace vkhid::crypto {

struct CertificateInfo {
  std::string subject;  // RFC 2253, UTF-8
  std::string issuer;
  std::string org_id;      // EDRPOU from organizationIdentifier "NTRUA-<code>"; empty when absent
  std::string sha256;      // fingerprint, lower-case hex
  std::string not_before;  // ISO 8601 UTC
  std::string not_after;
  std::string key_algorithm;  // "EC", "RSA", or the OID of what OpenSSL does not know (e.g. DSTU 4145)
};

CertificateInfo describe(X509* cert);

class TrustStore {
 public:
  TrustStore();
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;

  // Every *.pem file in `dir` (each may hold several CA certificates).
  static Result<TrustStore> fromDirectory(const std::string& dir);
  // The CA certificates of one PEM file.
  static Result<TrustStore> fromFile(const std::string& path);
  // A folder (every .pem, .der, .cer, .crt and .p7b in it) or one file of any of those forms — a trust
  // list as published, such as the IIT bundle CACertificates.p7b.
  static Result<TrustStore> fromPath(const std::string& path);
  // Several of those, comma-separated (`--trust` on the command line); an error names the one that fails.
  static Result<TrustStore> fromPaths(const std::string& paths);
  Status addPem(std::string_view pem);
  // One file's certificates by its form: PEM, a PKCS#7 bundle (DER) or a single DER certificate.
  Status addAny(std::string_view bytes);
  // A PKCS#7 bundle's certificates (DER SignedData with certificates only).
  Status addBundle(std::string_view der);
  // Every certificate added, in order.
  const std::vector<X509Ptr>& certificates() const { return anchors_; }
  // Certificate revocation lists (PEM, several allowed): a certificate its issuer has revoked no
  // longer verifies.
  Status addCrl(std::string_view pem);
  // A CRL in DER (DSTU-signed ones too: checked with the issuer's key when a chain is built here).
  Status addCrlDer(std::string_view der);
  void add(X509* ca);
  // Every certificate and CRL of `other` (a global list merged into a participant's store).
  void addFrom(const TrustStore& other);
  std::size_t size() const { return count_; }

  // A certificate that carries no organizationIdentifier may be mapped to an org id by its SHA-256
  // fingerprint (configured per participant).
  void mapOrganization(const std::string& sha256_hex, const std::string& org_id);
  std::string organizationOf(X509* cert) const;
  std::string organizationOf(const CertificateInfo& info) const;

  // The chain from `cert` (helped by `intermediates`) to a trusted CA, all valid at `at`, none revoked
  // by a loaded CRL. Errors: sev SignerUntrusted or CertificateNotValidAtSigning, naming the reason.
  // Chains with a DSTU 4145 key anywhere (OpenSSL cannot read one) are built by verifyChainAnyKey.
  // A chain once built is remembered with the span of time all its certificates are valid in: the
  // same certificates signing again within that span are not built and checked afresh (revocation
  // is checked every time).
  Status verifyChain(X509* cert, const std::vector<X509*>& intermediates, std::time_t at) const;
  // How many chains were built by OpenSSL (not taken from what was remembered).
  std::size_t chainsBuilt() const;

 private:
  struct ChainMemory;
  Status revocation(const std::vector<X509*>& chain) const;

  X509StorePtr store_;
  std::vector<X509Ptr> anchors_;
  std::vector<std::unique_ptr<X509_CRL, OsslDeleter<X509_CRL, X509_CRL_free>>> crls_;
  std::size_t count_ = 0;
  std::map<std::string, std::string> org_by_fingerprint_;
  std::unique_ptr<ChainMemory> chains_;
};

}  // namespace vkhid::crypto
