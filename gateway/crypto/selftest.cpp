#include "gateway/crypto/selftest.hpp"

#include <sstream>

#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/gost34311.hpp"
#include "gateway/domain/text.hpp"

namespace vkhid::crypto {
namespace {

// One vector: agrees when the verifier's answer is the expected one (a malformed input is "0").
bool agrees(int curve_id, const std::string& key_bits, const std::string& hash, const std::string& signature,
            bool expected, std::string* got) {
  auto key = dstu::publicKey(dstu::namedParameters(curve_id), key_bits);
  bool valid = false;
  if (key) {
    auto v = dstu::verify(*key, hash, signature);
    valid = v && *v;
  }
  *got = valid ? "1" : "0";
  return valid == expected;
}

// The standard curve of a vector file's name: DSTU_PB_<m>, or a curve number 0–9.
int curveOf(const std::string& name) {
  if (name.size() == 1 && name[0] >= '0' && name[0] <= '9') return name[0] - '0';
  if (!name.starts_with("DSTU_PB_")) return -1;
  for (int id = 0; id <= 9; ++id) {
    if (std::to_string(dstu::standardCurve(id)->m) == name.substr(8)) return id;
  }
  return -1;
}

struct Line {
  std::string curve, key, hash, signature, expected;
};

struct BuiltinLine {
  const char *curve, *key, *hash, *signature, *expected;
};

// Vectors of the independent implementation (jkurwa) built in: each curve's first valid vector and the
// same with one bit of the hash changed.
constexpr BuiltinLine kBuiltinVectors[] = {
    {"DSTU_PB_257", "04218e432da46486e713ee54a6b8c7ebf40ac3e33c8dbc40c5bd439b7d51d042a3cc00",
     "5b836d45ea1a1212d1280d1e96b588ccfbd7ed7e5868d2ad5fe35457a85e93d2",
     "7951908dbd29acaa10aa444c34f3e98c0e5152932a2ff6fea6db903b8c981518f6b822a7bcb9d6dff536635b433caed33e097176da3a1d"
     "2fbe1f17131b54d207",
     "1"},
    {"DSTU_PB_257", "04218e432da46486e713ee54a6b8c7ebf40ac3e33c8dbc40c5bd439b7d51d042a3cc00",
     "5a836d45ea1a1212d1280d1e96b588ccfbd7ed7e5868d2ad5fe35457a85e93d2",
     "7951908dbd29acaa10aa444c34f3e98c0e5152932a2ff6fea6db903b8c981518f6b822a7bcb9d6dff536635b433caed33e097176da3a1d"
     "2fbe1f17131b54d207",
     "0"},
    {"DSTU_PB_431",
     "04364a1b4db25fcf1070ef614fa311da383328f0186cf7e4543123cff2950b4e111ad5d7cd7890b3ddbd58305c9908914cf57ac914c8b163",
     "ef8303ee27ec755e2f3ec29287c62b63415893c935f2a9a0d241c99c3fce0577",
     "4a424df82459b5c0cd9c4c53f49c0d4db0c54095c79e345ec5cd864a6bcdcda1f2f4afdd149de979b54b8f588f2fbaa3084747fc6910d08"
     "744721d4a762268792a18e91d44fb89e6a38c9e964cdb0fc3c1fc0604ef03847606c6252b8fc60af7da4c55446b68db5330964e2c",
     "1"},
    {"DSTU_PB_431",
     "04364a1b4db25fcf1070ef614fa311da383328f0186cf7e4543123cff2950b4e111ad5d7cd7890b3ddbd58305c9908914cf57ac914c8b163",
     "ee8303ee27ec755e2f3ec29287c62b63415893c935f2a9a0d241c99c3fce0577",
     "4a424df82459b5c0cd9c4c53f49c0d4db0c54095c79e345ec5cd864a6bcdcda1f2f4afdd149de979b54b8f588f2fbaa3084747fc6910d08"
     "744721d4a762268792a18e91d44fb89e6a38c9e964cdb0fc3c1fc0604ef03847606c6252b8fc60af7da4c55446b68db5330964e2c",
     "0"},
};

}  // namespace

SelftestResult selftestBuiltin() {
  SelftestResult out;
  auto check = [&](bool agreed, const std::string& what) {
    ++out.total;
    if (agreed) {
      ++out.agree;
    } else {
      out.disagreements.push_back(what);
    }
  };
  // GOST 34.311-95 with DKE №1 (tests/data/reference/dstu4145.md, from the independent gost89 library).
  std::string bytes_0_255;
  for (int r = 0; r < 4; ++r) {
    for (int b = 0; b < 256; ++b) bytes_0_255.push_back(static_cast<char>(b));
  }
  const std::pair<std::string, const char*> digests[] = {
      {"abc", "a34a53504d8ba070cb73a583146167a0a3c226d793440d9cea24465fe02251f2"},
      {"message digest", "ab68a193346fd3e8d00865701ac06d591d18d57052470c51df7d71e0aaeb352a"},
      {std::string(32, 'U'), "1e121c48ee999ae0511688de86aac6c96724ee72b5e33f32e456c34c9901e787"},
      {"Suppose the original message has length = 50 bytes",
       "3087537a2bb2b9e986fddcc5ed136fd94ac29b9b5ad13f204a66fc631704f3ab"},
      {std::string(1000, 'a'), "cbcf156abfc976c81057b8ee424f3a7386d231eb4355ee56114b44444e4bb2bc"},
      {bytes_0_255, "79a790f892c1705839f4a1ba7861a6aecc81d5c70f54fe91bbb013ceba2a9756"},
  };
  for (const auto& [input, expected] : digests) {
    std::string got = hexEncode(Gost34311::digest(input));
    check(got == expected,
          "GOST 34.311 of a " + std::to_string(input.size()) + "-byte input: expected " + expected + ", got " + got);
  }
  // DSTU 4145 vectors of the independent implementation.
  for (const auto& v : kBuiltinVectors) {
    std::string got;
    check(agrees(curveOf(v.curve), *hexDecode(v.key), *hexDecode(v.hash), *hexDecode(v.signature),
                 std::string_view(v.expected) == "1", &got),
          std::string("DSTU 4145 vector on ") + v.curve + ": expected " + v.expected + ", got " + got);
  }
  // Sign and verify on every standard curve; one bit of the hash changed must not verify.
  const std::string hash = Gost34311::digest("vkhid selftest");
  for (int id = 0; id <= 9; ++id) {
    auto key = dstu::generate(dstu::standardCurve(id));
    auto sig = key ? dstu::sign(*key, hash) : Result<std::string>(key.error());
    auto pub = key ? dstu::publicKey(dstu::namedParameters(id), dstu::publicKeyBits(*key))
                   : Result<dstu::PublicKey>(key.error());
    auto holds = [&](const std::string& h) {
      auto v = dstu::verify(*pub, h, *sig);
      return v && *v;
    };
    bool round = sig && pub && holds(hash);
    std::string other = hash;
    other[0] = static_cast<char>(other[0] ^ 1);
    bool refused = sig && pub && !holds(other);
    check(round && refused, "DSTU 4145 sign and verify on curve " + std::to_string(id) + ": " +
                                (round ? "a changed hash verified" : "its own signature did not verify"));
  }
  return out;
}

Result<SelftestResult> selftestVectors(std::string_view text) {
  SelftestResult out;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    Line v;
    std::string extra;
    const std::string where = "line " + std::to_string(number) + ": ";
    if (!(fields >> v.curve >> v.key >> v.hash >> v.signature >> v.expected) || (fields >> extra)) {
      return Error::invalid("selftest.vectors",
                            where + "expected five fields: curve public-key hash signature expected");
    }
    int curve = curveOf(v.curve);
    if (curve < 0) return Error::invalid("selftest.vectors", where + "unknown curve '" + v.curve + "'");
    auto key = hexDecode(v.key), hash = hexDecode(v.hash), signature = hexDecode(v.signature);
    if (!key || !hash || !signature) return Error::invalid("selftest.vectors", where + "a field is not hexadecimal");
    if (v.expected != "0" && v.expected != "1") {
      return Error::invalid("selftest.vectors",
                            where + "expected is 1 (valid) or 0 (invalid), not '" + v.expected + "'");
    }
    std::string got;
    ++out.total;
    if (agrees(curve, *key, *hash, *signature, v.expected == "1", &got)) {
      ++out.agree;
    } else {
      out.disagreements.push_back(where + "expected " + v.expected + ", got " + got);
    }
  }
  if (out.total == 0) return Error::invalid("selftest.vectors", "no vector in the file");
  return out;
}

}  // namespace vkhid::crypto
