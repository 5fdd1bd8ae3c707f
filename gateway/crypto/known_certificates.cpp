#include "gateway/crypto/known_certificates.hpp"

#include <openssl/x509.h>

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vkhid::crypto {
namespace {

// Looked up by the bytes as they arrive, without a copy of them.
struct DerHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view der) const { return std::hash<std::string_view>{}(der); }
};

struct Memory {
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const KnownCertificate>, DerHash, std::equal_to<>> by_der;
  std::size_t decoded = 0;
};

Memory& memory() {
  static Memory m;
  return m;
}

}  // namespace

Result<std::shared_ptr<const KnownCertificate>> knownCertificate(std::string_view der) {
  // Decoding a certificate is costly in OpenSSL 3 (its public key goes through the provider decoders),
  // and so is describing it (its names as text, its fingerprint, its extensions): the description alone
  // was 3 % of the gateway's CPU under load and 4 % of a simulator's, for the few certificates that
  // arrive with every package of a sender. An X509 is immutable once decoded: one is shared by all.
  Memory& m = memory();
  {
    std::lock_guard lock(m.mutex);
    if (auto it = m.by_der.find(der); it != m.by_der.end()) return it->second;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr) return Error::invalid("crypto.bad_certificate", "not a DER certificate: " + opensslError());
  auto known = std::make_shared<KnownCertificate>();
  known->cert.reset(c);
  known->info = describe(c);
  known->facts = factsOf(c);
  std::lock_guard lock(m.mutex);
  ++m.decoded;
  // Bytes after the certificate: decoded, not kept, since those bytes are not a certificate's.
  const bool whole = p == reinterpret_cast<const unsigned char*>(der.data() + der.size());
  if (whole && der.size() <= kKnownCertificateBytes) {
    if (m.by_der.size() >= kKnownCertificates) m.by_der.clear();
    m.by_der.emplace(std::string(der), known);
  }
  return std::shared_ptr<const KnownCertificate>(std::move(known));
}

std::size_t certificatesDecoded() {
  Memory& m = memory();
  std::lock_guard lock(m.mutex);
  return m.decoded;
}

}  // namespace vkhid::crypto
