// libFuzzer target for the DER readers written for DSTU 4145 (OpenSSL cannot read these structures):
// any bytes as a CMS signature, a time-stamp token, DSTU parameters, a DSTU public key and a signature
// must be refused with a reason or judged — never crash, and never be "valid" with nothing trusted.
// Built with clang (-DVKHID_FUZZ=ON), run for a bounded time by scripts/test on the real signatures,
// certificates and time-stamp as seeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/crypto/cades.hpp"
#include "gateway/crypto/der.hpp"
#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/text.hpp"

namespace {

// Walks every element the reader finds, as the CMS and certificate readers do.
void walk(const vkhid::crypto::der::Node& n, int depth) {
  if (depth > 64 || !n.constructed()) return;
  auto kids = vkhid::crypto::der::children(n);
  if (!kids) return;
  for (const auto& k : *kids) {
    (void)vkhid::crypto::der::oid(k, "fuzz");
    (void)vkhid::crypto::der::time(k, "fuzz");
    (void)vkhid::crypto::der::integerBytes(k, "fuzz");
    walk(k, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vkhid::crypto;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto top = der::readAll(bytes)) walk(*top, 0);
  static const TrustStore nothing_trusted;
  auto v = verifyCades("content", bytes, nothing_trusted);
  if (v.signature.valid()) std::abort();  // nothing is trusted: nothing can be valid
  auto t = verifyTimestampToken(bytes, "content", nothing_trusted, "content");
  if (t.valid) std::abort();
  (void)dstu::curveFromParameters(bytes);
  if (auto key = dstu::publicKey(dstu::namedParameters(6), bytes)) {
    (void)dstu::verify(*key, std::string(32, '\1'), bytes);
  }
  if (size > 8) {
    // A real key (the independent vectors' first): signatures of any shape against it.
    static const auto key =
        dstu::publicKey(dstu::namedParameters(6),
                        *vkhid::hexDecode("04218e432da46486e713ee54a6b8c7ebf40ac3e33c8dbc40c5bd439b7d51d042a3cc00"));
    (void)dstu::verify(*key, bytes.substr(0, 32), bytes.substr(8));
  }
  return 0;
}
