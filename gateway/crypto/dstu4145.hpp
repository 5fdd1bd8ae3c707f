// DSTU 4145-2002 — the Ukrainian elliptic-curve signature over GF(2^m), polynomial basis, in its
// little-endian encodings (tests/data/reference/dstu4145.md), on OpenSSL's GF(2^m) primitives. Verifies
// what certificates, CMS signatures and time-stamp tokens carry; signs only for tests and the simulator.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::crypto::dstu {

inline constexpr const char* kSignatureOidLe = "1.2.804.2.1.1.1.1.3.1.1";
inline constexpr const char* kSignatureOidBe = "1.2.804.2.1.1.1.1.3.1.1.1.1";
inline constexpr const char* kGost34311Oid = "1.2.804.2.1.1.1.1.2.1";
inline constexpr const char* kNamedCurveOidPrefix = "1.2.804.2.1.1.1.1.3.1.1.2.";
inline constexpr const char* kNormalBasisOidPrefix = "1.2.804.2.1.1.1.1.3.1.2";

// A curve y^2 + xy = x^3 + A x^2 + B over GF(2^m) with its base point P of prime order n.
struct Curve {
  int id = -1;  // 0–9 for the standard curves
  int m = 0;
  std::vector<int> poly;  // exponents of the field polynomial, highest first, ending with 0
  int a = 0;
  std::unique_ptr<EC_GROUP, decltype(&EC_GROUP_free)> group{nullptr, &EC_GROUP_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> p{nullptr, &BN_free};  // the field polynomial
  std::unique_ptr<BIGNUM, decltype(&BN_free)> b{nullptr, &BN_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n{nullptr, &BN_free};
  std::string name() const {
    return id >= 0 ? "DSTU 4145 curve " + std::to_string(id) + " (m = " + std::to_string(m) + ")"
                   : "m = " + std::to_string(m);
  }
};
using CurvePtr = std::shared_ptr<const Curve>;

// A public key: its curve, the point Q (Q = −d·P), and the hash's S-box (`dke`, empty for DKE №1).
struct PublicKey {
  CurvePtr curve;
  std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)> q{nullptr, &EC_POINT_free};
  std::string dke;
};

// The standard curve `id` (0–9), built once.
CurvePtr standardCurve(int id);
// DSTU4145Params (DER): a named curve, or explicit parameters — which must be one of the standard
// curves; normal basis refused. `dke` receives the parameters' S-box, when they carry one.
Result<CurvePtr> curveFromParameters(std::string_view params_der, std::string* dke = nullptr);
// A compressed point (little-endian, the trace of y/x in x's bit 0) on `curve`; refused when it is not a
// point of the curve.
Result<std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)>> decompress(const Curve& curve, std::string_view le);
// A public key from its parameters and the key bytes as they sit in a certificate's BIT STRING (a DER
// OCTET STRING around the compressed point).
Result<PublicKey> publicKey(std::string_view params_der, std::string_view key_bits);

// Verifies a signature (LE(r) || LE(s)) over a 32-byte hash. Ok(false): the signature does not hold; an
// error: it is malformed (lengths, r or s out of range), naming what.
Result<bool> verify(const PublicKey& key, std::string_view hash, std::string_view signature);

// For tests and the simulator: a key pair on `curve` (d random; Q = −d·P), and a signature.
struct PrivateKey {
  CurvePtr curve;
  std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> d{nullptr, &BN_clear_free};
};
Result<PrivateKey> generate(CurvePtr curve);
// The private key as text (curve id and d in hex) and back: what test fixtures keep under var/.
std::string privateKeyText(const PrivateKey& key);
Result<PrivateKey> privateKeyFromText(std::string_view text);
std::string publicKeyBits(const PrivateKey& key);                        // DER OCTET STRING of the compressed Q
std::string namedParameters(int curve_id);                               // DSTU4145Params with the named curve
Result<std::string> sign(const PrivateKey& key, std::string_view hash);  // LE(r) || LE(s)

}  // namespace vkhid::crypto::dstu
