// Signers' certificates as packages carry them, decoded and described once. The same certificate comes
// with every package its holder signs, and what is read from it — its names, fingerprint, organisation,
// key and whether it declares itself qualified — depends on its bytes alone. Whether it is trusted is
// judged at every use (TrustStore::verifyChain), never remembered here.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/crypto/trust.hpp"

namespace vkhid::crypto {

struct KnownCertificate {
  X509Ptr cert;
  CertificateInfo info;
  CertificateFacts facts;
};

// The certificate whose DER is `der`: decoded and described at its first sight in this process, then
// taken from memory (at most kKnownCertificates of them, all forgotten at once when it is full). An
// error when `der` is not a certificate; nothing is remembered then. A package's sender chooses what its
// KeyInfo or CMS carries, up to the package's own limit of 50 MiB: a certificate over
// kKnownCertificateBytes (real ones, qualified or not, are 1-3 KiB) is decoded and described, never kept.
inline constexpr std::size_t kKnownCertificates = 1024;
inline constexpr std::size_t kKnownCertificateBytes = 16 * 1024;
Result<std::shared_ptr<const KnownCertificate>> knownCertificate(std::string_view der);

// How many certificates were decoded and described, not taken from memory, since the process began.
std::size_t certificatesDecoded();

}  // namespace vkhid::crypto
