#include "gateway/crypto/dstu4145.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <mutex>

#include "gateway/crypto/der.hpp"

namespace vkhid::crypto::dstu {
namespace {

using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;
using CtxPtr = std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)>;
using PointPtr = std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)>;

BnPtr bn() { return BnPtr(BN_new(), &BN_free); }
CtxPtr ctx() { return CtxPtr(BN_CTX_new(), &BN_CTX_free); }
BnPtr hexBn(const char* hex) {
  BIGNUM* b = nullptr;
  BN_hex2bn(&b, hex);
  return BnPtr(b, &BN_free);
}
BnPtr bnOf(long v) {
  auto b = bn();
  BN_set_word(b.get(), static_cast<BN_ULONG>(v));
  return b;
}
BnPtr leBn(std::string_view le) {
  return BnPtr(BN_lebin2bn(reinterpret_cast<const unsigned char*>(le.data()), static_cast<int>(le.size()), nullptr),
               &BN_free);
}
BnPtr beBn(std::string_view be) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(be.data()), static_cast<int>(be.size()), nullptr),
               &BN_free);
}

Error invalid(const std::string& what) { return Error::invalid("dstu.invalid", "DSTU 4145: " + what); }

// The ten standard curves (DSTU 4145-2002, its annex; tests/data/reference/dstu4145-curves.toml).
struct CurveData {
  int m;
  std::array<int, 6> poly;  // highest first, 0, then -1
  int a;
  const char *b, *n, *px, *py;
};
constexpr CurveData kCurves[10] = {
    {163,
     {163, 7, 6, 3, 0, -1},
     1,
     "05ff6108462a2dc8210ab403925e638a19c1455d21",
     "0400000000000000000002bec12be2262d39bcf14d",
     "02e2f85f5dd74ce983a5c4237229daf8a3f35823be",
     "03826f008a8c51d7b95284d9d03ff0e00ce2cd723a"},
    {167,
     {167, 6, 0, -1, -1, -1},
     1,
     "6ee3ceeb230811759f20518a0930f1a4315a827dac",
     "3fffffffffffffffffffffb12ebcc7d7f29ff7701f",
     "7a1f6653786a68192803910a3d30b2a2018b21cd54",
     "5f49eb26781c0ec6b8909156d98ed435e45fd59918"},
    {173,
     {173, 10, 2, 1, 0, -1},
     0,
     "108576c80499db2fc16eddf6853bbb278f6b6fb437d9",
     "0800000000000000000000189b4e67606e3825bb2831",
     "04d41a619bcc6eadf0448fa22fad567a9181d37389ca",
     "10b51cc12849b234c75e6dd2028bf7ff5c1ce0d991a1"},
    {179,
     {179, 4, 2, 1, 0, -1},
     1,
     "04a6e0856526436f2f88dd07a341e32d04184572beb710",
     "03ffffffffffffffffffffffb981960435fe5ab64236ef",
     "06ba06fe51464b2bd26dc57f48819ba9954667022c7d03",
     "025fbc363582dcec065080ca8287aaff09788a66dc3a9e"},
    {191,
     {191, 9, 0, -1, -1, -1},
     1,
     "7bc86e2102902ec4d5890e8b6b4981ff27e0482750fefc03",
     "40000000000000000000000069a779cac1dabc6788f7474f",
     "714114b762f2ff4a7912a6d2ac58b9b5c2fcfe76daeb7129",
     "29c41e568b77c617efe5902f11db96fa9613cd8d03db08da"},
    {233,
     {233, 9, 4, 1, 0, -1},
     1,
     "006973b15095675534c7cf7e64a21bd54ef5dd3b8a0326aa936ece454d2c",
     "01000000000000000000000000000013e974e72f8a6922031d2603cfe0d7",
     "003fcda526b6cdf83ba1118df35b3c31761d3545f32728d003eeb25efe96",
     "009ca8b57a934c54deeda9e54a7bbad95e3b2e91c54d32be0b9df96d8d35"},
    {257,
     {257, 12, 0, -1, -1, -1},
     0,
     "01cef494720115657e18f938d7a7942394ff9425c1458c57861f9eea6adbe3be10",
     "00800000000000000000000000000000006759213af182e987d3e17714907d470d",
     "002a29ef207d0e9b6c55cd260b306c7e007ac491ca1b10c62334a9e8dcd8d20fb7",
     "010686d41ff744d4449fccf6d8eea03102e6812c93a9d60b978b702cf156d814ef"},
    {307,
     {307, 8, 4, 2, 0, -1},
     1,
     "0393c7f7d53666b5054b5e6c6d3de94f4296c0c599e2e2e241050df18b6090bdc90186904968bb",
     "03ffffffffffffffffffffffffffffffffffffffc079c2f3825da70d390fbba588d4604022b7b7",
     "0216ee8b189d291a0224984c1e92f1d16bf75ccd825a087a239b276d3167743c52c02d6e7232aa",
     "05d9306bacd22b7faeb09d2e049c6e2866c5d1677762a8f2f2dc9a11c7f7be8340ab2237c7f2a0"},
    {367,
     {367, 21, 0, -1, -1, -1},
     1,
     "43fc8ad242b0b7a6f3d1627ad5654447556b47bf6aa4a64b0c2afe42cadab8f93d92394c79a79755437b56995136",
     "40000000000000000000000000000000000000000000009c300b75a3fa824f22428fd28ce8812245ef44049b2d49",
     "324a6eddd512f08c49a99ae0d3f961197a76413e7be81a400ca681e09639b5fe12e59a109f78bf4a373541b3b9a1",
     "01ab597a5b4477f59e39539007c7f977d1a567b92b043a49c6b61984c3fe3481aaf454cd41ba1f051626442b3c10"},
    {431,
     {431, 5, 3, 1, 0, -1},
     1,
     "03ce10490f6a708fc26dfe8c3d27c4f94e690134d5bff988d8d28aaeaede975936c66bac536b18ae2dc312ca493117daa469c640caf3",
     "3fffffffffffffffffffffffffffffffffffffffffffffffffffffba3175458009a8c0a724f02f81aa8a1fcbaf80d90c7a95110504cf",
     "1a62ba79d98133a16bbae7ed9a8e03c32e0824d57aef72f88986874e5aae49c27bed49a2a95058068426c2171e99fd3b43c5947c857d",
     "70b5e1e14031c1f70bbefe96bdde66f451754b4ca5f48da241f331aa396b8d1839a855c1769b1ea14ba53308b5e2723724e090e02db9"},
};

std::shared_ptr<Curve> buildCurve(int id) {
  const auto& d = kCurves[id];
  auto c = std::make_shared<Curve>();
  c->id = id;
  c->m = d.m;
  for (int e : d.poly) {
    if (e >= 0) c->poly.push_back(e);
  }
  c->a = d.a;
  auto bnctx = ctx();
  c->p.reset(BN_new());
  BN_GF2m_arr2poly(d.poly.data(), c->p.get());
  auto a = bnOf(d.a);
  c->b = hexBn(d.b);
  c->n = hexBn(d.n);
  c->group.reset(EC_GROUP_new_curve_GF2m(c->p.get(), a.get(), c->b.get(), bnctx.get()));
  PointPtr g(EC_POINT_new(c->group.get()), &EC_POINT_free);
  auto px = hexBn(d.px), py = hexBn(d.py);
  EC_POINT_set_affine_coordinates(c->group.get(), g.get(), px.get(), py.get(), bnctx.get());
  EC_GROUP_set_generator(c->group.get(), g.get(), c->n.get(), nullptr);
  return c;
}

// Tr(x) = x + x^2 + x^4 + … + x^(2^(m-1)), 0 or 1.
int trace(const Curve& c, const BIGNUM* x, BN_CTX* bnctx) {
  auto acc = bn(), t = bn();
  BN_copy(acc.get(), x);
  BN_copy(t.get(), x);
  for (int i = 1; i < c.m; ++i) {
    BN_GF2m_mod_sqr(t.get(), t.get(), c.p.get(), bnctx);
    BN_GF2m_add(acc.get(), acc.get(), t.get());
  }
  return BN_is_one(acc.get()) ? 1 : 0;
}

std::string leBytes(const BIGNUM* v, int len) {
  std::string out(static_cast<std::size_t>(len), '\0');
  BN_bn2lebinpad(v, reinterpret_cast<unsigned char*>(out.data()), len);
  return out;
}

// h: the hash read as a little-endian integer, its low m bits; 1 when that is 0.
BnPtr hashElement(const Curve& c, std::string_view hash) {
  auto h = leBn(hash);
  BN_mask_bits(h.get(), c.m);
  if (BN_is_zero(h.get())) BN_one(h.get());
  return h;
}

}  // namespace

CurvePtr standardCurve(int id) {
  static std::once_flag once;
  static std::array<CurvePtr, 10> curves;
  std::call_once(once, [] {
    for (int i = 0; i < 10; ++i) curves[static_cast<std::size_t>(i)] = buildCurve(i);
  });
  if (id < 0 || id > 9) return nullptr;
  return curves[static_cast<std::size_t>(id)];
}

Result<std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)>> decompress(const Curve& c, std::string_view le) {
  const int bytes = (c.m + 7) / 8;
  if (le.empty() || static_cast<int>(le.size()) > bytes) {
    return invalid("a compressed point of at most " + std::to_string(bytes) + " bytes, not " +
                   std::to_string(le.size()));
  }
  auto bnctx = ctx();
  auto x = leBn(le);
  if (BN_num_bits(x.get()) > c.m) return invalid("a point whose x has more than m bits");
  const int k = BN_is_bit_set(x.get(), 0);
  BN_clear_bit(x.get(), 0);
  // x's own bit 0 is what makes Tr(x) = Tr(A) (m is odd: Tr(1) = 1, so Tr(A) = A).
  if (trace(c, x.get(), bnctx.get()) != c.a) BN_set_bit(x.get(), 0);
  auto y = bn();
  if (BN_is_zero(x.get())) {
    BN_GF2m_mod_sqrt(y.get(), c.b.get(), c.p.get(), bnctx.get());
  } else {
    // z^2 + z = x + A + B/x^2, the root whose trace is k; y = z·x.
    auto w = bn(), x2 = bn(), z = bn();
    BN_GF2m_mod_sqr(x2.get(), x.get(), c.p.get(), bnctx.get());
    if (!BN_GF2m_mod_div(w.get(), c.b.get(), x2.get(), c.p.get(), bnctx.get())) {
      return invalid("a point x that has no inverse");
    }
    BN_GF2m_add(w.get(), w.get(), x.get());
    if (c.a) {
      auto one = bn();
      BN_one(one.get());
      BN_GF2m_add(w.get(), w.get(), one.get());
    }
    if (!BN_GF2m_mod_solve_quad(z.get(), w.get(), c.p.get(), bnctx.get())) {
      ERR_clear_error();
      return invalid("a compressed point that is not on the curve");
    }
    if (trace(c, z.get(), bnctx.get()) != k) {
      auto one = bn();
      BN_one(one.get());
      BN_GF2m_add(z.get(), z.get(), one.get());
    }
    BN_GF2m_mod_mul(y.get(), z.get(), x.get(), c.p.get(), bnctx.get());
  }
  PointPtr point(EC_POINT_new(c.group.get()), &EC_POINT_free);
  if (!EC_POINT_set_affine_coordinates(c.group.get(), point.get(), x.get(), y.get(), bnctx.get()) ||
      EC_POINT_is_on_curve(c.group.get(), point.get(), bnctx.get()) != 1 ||
      EC_POINT_is_at_infinity(c.group.get(), point.get())) {
    ERR_clear_error();
    return invalid("a compressed point that is not on the curve");
  }
  return point;
}

Result<CurvePtr> curveFromParameters(std::string_view params_der, std::string* dke) {
  auto top = der::readAll(params_der);
  if (!top || top->tag != der::kSequence) return invalid("parameters: a DSTU4145Params SEQUENCE");
  auto parts = der::children(*top);
  if (!parts || parts->empty() || parts->size() > 2) return invalid("parameters: a curve and an optional S-box");
  if (parts->size() == 2) {
    auto box = der::octets((*parts)[1], "parameters' dke");
    if (!box) return invalid(box.error().message);
    if (box->size() != 64) return invalid("parameters' dke: 64 bytes, not " + std::to_string(box->size()));
    if (dke) *dke = std::string(*box);
  }
  const der::Node& def = (*parts)[0];
  if (def.tag == der::kOid) {
    auto named = der::oid(def, "named curve");
    if (!named) return invalid(named.error().message);
    if (named->starts_with(kNormalBasisOidPrefix)) {
      return invalid("a normal-basis curve (" + *named + "): only polynomial basis is supported");
    }
    if (!named->starts_with(kNamedCurveOidPrefix)) return invalid("an unknown named curve " + *named);
    std::string tail = named->substr(std::string(kNamedCurveOidPrefix).size());
    if (tail.size() != 1 || tail[0] < '0' || tail[0] > '9') return invalid("an unknown named curve " + *named);
    return standardCurve(tail[0] - '0');
  }
  // Explicit: ECBinary { [0] version OPTIONAL, f BinaryField, a, b (LE), n, bp (LE, compressed) }.
  if (def.tag != der::kSequence) return invalid("parameters: a named curve or explicit ECBinary parameters");
  auto e = der::children(def);
  if (!e) return invalid("parameters: " + e.error().message);
  std::size_t at = (!e->empty() && (*e)[0].tag == der::context(0)) ? 1 : 0;
  if (e->size() != at + 5) return invalid("explicit parameters: f, a, b, n and the base point");
  auto field = der::children((*e)[at]);
  if (!field || field->size() != 2) return invalid("explicit parameters' field: m and its polynomial");
  auto m = der::smallInteger((*field)[0], "field m");
  if (!m) return invalid(m.error().message);
  std::vector<int> poly{static_cast<int>(*m)};
  if ((*field)[1].tag == der::kInteger) {
    auto k = der::smallInteger((*field)[1], "trinomial");
    if (!k) return invalid(k.error().message);
    poly.push_back(static_cast<int>(*k));
  } else {
    auto pent = der::children((*field)[1]);
    if (!pent || pent->size() != 3) return invalid("explicit parameters' pentanomial: k, j, l");
    std::vector<int> kjl;
    for (const auto& t : *pent) {
      auto v = der::smallInteger(t, "pentanomial");
      if (!v) return invalid(v.error().message);
      kjl.push_back(static_cast<int>(*v));
    }
    poly.insert(poly.end(), {kjl[2], kjl[1], kjl[0]});
  }
  poly.push_back(0);
  auto a = der::smallInteger((*e)[at + 1], "a");
  auto b = der::octets((*e)[at + 2], "b");
  auto n = der::integerBytes((*e)[at + 3], "n");
  auto bp = der::octets((*e)[at + 4], "base point");
  if (!a || !b || !n || !bp) return invalid("explicit parameters: a, b, n or the base point malformed");
  // Only the standard curves are taken: explicit parameters must be one of them, field for field.
  for (int id = 0; id < 10; ++id) {
    auto std_curve = standardCurve(id);
    if (std_curve->m != *m) continue;
    auto differs = [&](const char* what) {
      return invalid(std::string("explicit parameters contradict ") + std_curve->name() + ": their " + what +
                     " differs");
    };
    if (std_curve->poly != poly) return differs("field polynomial");
    if (std_curve->a != *a) return differs("A");
    if (BN_cmp(leBn(*b).get(), std_curve->b.get()) != 0) return differs("B");
    if (BN_cmp(beBn(*n).get(), std_curve->n.get()) != 0) return differs("order n");
    auto g = decompress(*std_curve, *bp);
    if (!g) return invalid("explicit parameters' base point: " + g.error().message);
    auto bnctx = ctx();
    if (EC_POINT_cmp(std_curve->group.get(), g->get(), EC_GROUP_get0_generator(std_curve->group.get()), bnctx.get()) !=
        0) {
      return differs("base point");
    }
    return std_curve;
  }
  return invalid("explicit parameters of no standard curve (m = " + std::to_string(*m) + ")");
}

Result<PublicKey> publicKey(std::string_view params_der, std::string_view key_bits) {
  PublicKey key;
  auto curve = curveFromParameters(params_der, &key.dke);
  if (!curve) return curve.error();
  key.curve = *curve;
  auto inner = der::readAll(key_bits);
  if (!inner) return invalid("the public key: " + inner.error().message);
  auto point = der::octets(*inner, "the public key");
  if (!point) return invalid(point.error().message);
  const std::size_t expected = static_cast<std::size_t>((key.curve->m + 7) / 8);
  if (point->size() != expected) {
    return invalid("a public key of " + std::to_string(expected) + " bytes for m = " + std::to_string(key.curve->m) +
                   ", not " + std::to_string(point->size()) + " (its length)");
  }
  auto q = decompress(*key.curve, *point);
  if (!q) return q.error();
  // x = 0 is the curve's point of order 2, and any point outside the group of order n: never a key.
  auto bnctx = ctx();
  auto x = bn();
  EC_POINT_get_affine_coordinates(key.curve->group.get(), q->get(), x.get(), nullptr, bnctx.get());
  if (BN_is_zero(x.get())) return invalid("a public key with x = 0");
  PointPtr check(EC_POINT_new(key.curve->group.get()), &EC_POINT_free);
  if (!EC_POINT_mul(key.curve->group.get(), check.get(), nullptr, q->get(), key.curve->n.get(), bnctx.get()) ||
      !EC_POINT_is_at_infinity(key.curve->group.get(), check.get())) {
    ERR_clear_error();
    return invalid("a public key outside the group of order n");
  }
  key.q = std::move(q).value();
  return key;
}

Result<bool> verify(const PublicKey& key, std::string_view hash, std::string_view signature) {
  const Curve& c = *key.curve;
  if (hash.empty()) return invalid("an empty hash");
  const int nbits = BN_num_bits(c.n.get());
  const std::size_t most = 2 * static_cast<std::size_t>((c.m + 7) / 8 + 8);
  if (signature.empty() || signature.size() % 2 != 0 || signature.size() > most) {
    return invalid("a signature of two halves of equal length (r, s), not " + std::to_string(signature.size()) +
                   " bytes");
  }
  auto r = leBn(signature.substr(0, signature.size() / 2));
  auto s = leBn(signature.substr(signature.size() / 2));
  if (BN_is_zero(r.get()) || BN_cmp(r.get(), c.n.get()) >= 0) return invalid("r is not in (0, n)");
  if (BN_is_zero(s.get()) || BN_cmp(s.get(), c.n.get()) >= 0) return invalid("s is not in (0, n)");
  auto bnctx = ctx();
  PointPtr big_r(EC_POINT_new(c.group.get()), &EC_POINT_free);
  if (!EC_POINT_mul(c.group.get(), big_r.get(), s.get(), key.q.get(), r.get(), bnctx.get())) {
    ERR_clear_error();
    return invalid("the point s·P + r·Q could not be computed");
  }
  if (EC_POINT_is_at_infinity(c.group.get(), big_r.get())) return false;
  auto x = bn(), y = bn();
  EC_POINT_get_affine_coordinates(c.group.get(), big_r.get(), x.get(), nullptr, bnctx.get());
  auto h = hashElement(c, hash);
  BN_GF2m_mod_mul(y.get(), h.get(), x.get(), c.p.get(), bnctx.get());
  BN_mask_bits(y.get(), nbits - 1);
  return BN_cmp(y.get(), r.get()) == 0;
}

Result<PrivateKey> generate(CurvePtr curve) {
  PrivateKey key;
  key.curve = std::move(curve);
  key.d.reset(BN_new());
  do {
    if (!BN_rand_range(key.d.get(), key.curve->n.get())) return invalid("no randomness");
  } while (BN_is_zero(key.d.get()));
  return key;
}

std::string privateKeyText(const PrivateKey& key) {
  char* hex = BN_bn2hex(key.d.get());
  std::string out = "dstu4145 curve=" + std::to_string(key.curve->id) + " d=" + hex + "\n";
  OPENSSL_free(hex);
  return out;
}

Result<PrivateKey> privateKeyFromText(std::string_view text) {
  auto c = text.find("curve="), d = text.find(" d=");
  if (!text.starts_with("dstu4145 ") || c == std::string_view::npos || d == std::string_view::npos) {
    return invalid("a private key as 'dstu4145 curve=N d=HEX'");
  }
  int id = std::atoi(std::string(text.substr(c + 6, d - c - 6)).c_str());
  auto curve = standardCurve(id);
  if (!curve) return invalid("an unknown curve in the private key");
  std::string hex(text.substr(d + 3));
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  PrivateKey key;
  key.curve = curve;
  BIGNUM* v = nullptr;
  if (!BN_hex2bn(&v, hex.c_str())) return invalid("the private key's d is not hexadecimal");
  key.d.reset(v);
  return key;
}

std::string publicKeyBits(const PrivateKey& key) {
  const Curve& c = *key.curve;
  auto bnctx = ctx();
  PointPtr q(EC_POINT_new(c.group.get()), &EC_POINT_free);
  EC_POINT_mul(c.group.get(), q.get(), key.d.get(), nullptr, nullptr, bnctx.get());
  EC_POINT_invert(c.group.get(), q.get(), bnctx.get());  // Q = −d·P
  auto x = bn(), y = bn();
  EC_POINT_get_affine_coordinates(c.group.get(), q.get(), x.get(), y.get(), bnctx.get());
  int bit = 0;
  if (!BN_is_zero(x.get())) {
    auto ratio = bn();
    BN_GF2m_mod_div(ratio.get(), y.get(), x.get(), c.p.get(), bnctx.get());
    bit = trace(c, ratio.get(), bnctx.get());
  }
  if (bit) {
    BN_set_bit(x.get(), 0);
  } else {
    BN_clear_bit(x.get(), 0);
  }
  return der::encodeOctets(leBytes(x.get(), (c.m + 7) / 8));
}

std::string namedParameters(int curve_id) {
  return der::sequence({der::encodeOid(std::string(kNamedCurveOidPrefix) + std::to_string(curve_id))});
}

Result<std::string> sign(const PrivateKey& key, std::string_view hash) {
  const Curve& c = *key.curve;
  auto bnctx = ctx();
  const int nbits = BN_num_bits(c.n.get());
  const int half = (nbits + 7) / 8;
  auto h = hashElement(c, hash);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto e = bn(), x = bn(), r = bn(), s = bn();
    if (!BN_rand_range(e.get(), c.n.get()) || BN_is_zero(e.get())) continue;
    PointPtr f(EC_POINT_new(c.group.get()), &EC_POINT_free);
    EC_POINT_mul(c.group.get(), f.get(), e.get(), nullptr, nullptr, bnctx.get());
    EC_POINT_get_affine_coordinates(c.group.get(), f.get(), x.get(), nullptr, bnctx.get());
    if (BN_is_zero(x.get())) continue;
    BN_GF2m_mod_mul(r.get(), h.get(), x.get(), c.p.get(), bnctx.get());
    BN_mask_bits(r.get(), nbits - 1);
    if (BN_is_zero(r.get())) continue;
    BN_mod_mul(s.get(), key.d.get(), r.get(), c.n.get(), bnctx.get());
    BN_mod_add(s.get(), s.get(), e.get(), c.n.get(), bnctx.get());
    if (BN_is_zero(s.get())) continue;
    return leBytes(r.get(), half) + leBytes(s.get(), half);
  }
  return invalid("no signature after 100 tries");
}

}  // namespace vkhid::crypto::dstu
