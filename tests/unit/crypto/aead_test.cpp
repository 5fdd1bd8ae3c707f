// Personal data at rest (issue 29): AES-256-GCM against the known answer of the GCM specification
// (McGrew and Viega, "The Galois/Counter Mode of Operation", test case 16: a 256-bit key, 96-bit IV,
// additional data), and what a changed byte, key or binding does; HMAC-SHA-256 against RFC 4231.
#include <boost/test/unit_test.hpp>

#include "gateway/crypto/aead.hpp"
#include "gateway/domain/text.hpp"

using namespace vkhid::crypto;

namespace {
std::string unhex(std::string_view text) { return vkhid::hexDecode(text).value(); }
std::string hex(std::string_view bytes) { return vkhid::hexEncode(bytes); }
}  // namespace

BOOST_AUTO_TEST_SUITE(aead)

BOOST_AUTO_TEST_CASE(aes_256_gcm_gives_the_specifications_known_answer) {
  const auto key = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const auto iv = unhex("cafebabefacedbaddecaf888");
  const auto plain = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de"
      "657ba637b39");
  const auto aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const auto sealed = aeadSealWithNonce(key, iv, plain, aad);
  BOOST_TEST(hex(sealed) ==
             "cafebabefacedbaddecaf888"
             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e639"
             "3ba7a0abcc9f662"
             "76fc6ece0f4e1768cddf8853bb2d551b");
  BOOST_TEST(aeadOpen(key, sealed, aad).value_or("") == plain);
}

BOOST_AUTO_TEST_CASE(a_changed_byte_key_or_binding_does_not_open) {
  const std::string key(32, 'k'), other(32, 'o');
  const auto sealed = aeadSeal(key, "Шевченко Олена Петрівна", "cases.personal:1");
  BOOST_TEST(aeadOpen(key, sealed, "cases.personal:1").value_or("") == "Шевченко Олена Петрівна");
  for (std::size_t at : {std::size_t{0}, std::size_t{12}, sealed.size() - 1}) {  // nonce, ciphertext, tag
    std::string changed = sealed;
    changed[at] = static_cast<char>(changed[at] ^ 1);
    BOOST_TEST(!aeadOpen(key, changed, "cases.personal:1"), "byte " << at);
  }
  BOOST_TEST(!aeadOpen(other, sealed, "cases.personal:1"));
  BOOST_TEST(!aeadOpen(key, sealed, "cases.personal:2"));  // moved to another row
  BOOST_TEST(!aeadOpen(key, sealed.substr(0, 20), "cases.personal:1"));
  // Two seals of one value differ (a fresh nonce each time).
  BOOST_TEST(aeadSeal(key, "x", "a") != aeadSeal(key, "x", "a"));
  // A thread seals and opens with one context: what failed before leaves nothing in it for the next.
  const auto after = aeadSeal(other, "Петренко", "");
  BOOST_TEST(aeadOpen(other, after, "").value_or("") == "Петренко");
  BOOST_TEST(aeadOpen(key, sealed, "cases.personal:1").value_or("") == "Шевченко Олена Петрівна");
}

BOOST_AUTO_TEST_CASE(hmac_sha_256_gives_rfc_4231_values) {
  BOOST_TEST(hmacSha256Hex(std::string(20, '\x0b'), "Hi There") ==
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  BOOST_TEST(hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_SUITE_END()
