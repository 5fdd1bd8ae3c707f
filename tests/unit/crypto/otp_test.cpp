// The console's second factor and passwords (issue 29) against the RFCs' own vectors: HOTP (RFC 4226
// appendix D), TOTP (RFC 6238 appendix B, all three hashes), base32 (RFC 4648 §10); and Argon2id
// password strings as libsodium makes them.
#include <boost/test/unit_test.hpp>

#include "gateway/crypto/otp.hpp"
#include "gateway/crypto/password.hpp"

using namespace vkhid::crypto;

BOOST_AUTO_TEST_SUITE(otp)

BOOST_AUTO_TEST_CASE(hotp_gives_rfc_4226_values) {
  const std::string key = "12345678901234567890";
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    BOOST_TEST(hotp(key, counter) == expected[counter], "counter " << counter);
  }
}

BOOST_AUTO_TEST_CASE(totp_gives_rfc_6238_values_for_each_hash) {
  const std::string sha1 = "12345678901234567890";
  const std::string sha256 = "12345678901234567890123456789012";
  const std::string sha512 = "1234567890123456789012345678901234567890123456789012345678901234";
  struct Row {
    std::int64_t time;
    const char *sha1, *sha256, *sha512;
  };
  const Row rows[] = {
      {59, "94287082", "46119246", "90693936"},         {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"}, {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"}, {20000000000, "65353130", "77737706", "47863826"}};
  for (const auto& r : rows) {
    BOOST_TEST(totp(sha1, r.time, 30, 8, OtpHash::Sha1) == r.sha1, "time " << r.time);
    BOOST_TEST(totp(sha256, r.time, 30, 8, OtpHash::Sha256) == r.sha256, "time " << r.time);
    BOOST_TEST(totp(sha512, r.time, 30, 8, OtpHash::Sha512) == r.sha512, "time " << r.time);
  }
}

BOOST_AUTO_TEST_CASE(a_code_is_matched_within_one_step_and_no_further) {
  const std::string key = "12345678901234567890";
  const std::int64_t now = 1111111111;  // step 37037037
  BOOST_TEST(matchTotp(key, totp(key, now), now).value() == now / 30);
  BOOST_TEST(matchTotp(key, totp(key, now - 30), now).value() == now / 30 - 1);  // a slow hand
  BOOST_TEST(matchTotp(key, totp(key, now + 30), now).value() == now / 30 + 1);  // a fast clock
  BOOST_TEST(!matchTotp(key, totp(key, now - 60), now));
  BOOST_TEST(!matchTotp(key, totp(key, now + 60), now));
  BOOST_TEST(!matchTotp(key, "12345", now));   // too short
  BOOST_TEST(!matchTotp(key, "abcdef", now));  // not digits
  BOOST_TEST(!matchTotp("another key", totp(key, now), now));
}

BOOST_AUTO_TEST_CASE(base32_gives_rfc_4648_values_and_refuses_what_is_not) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "MY"},
                                                         {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"},
                                                         {"foob", "MZXW6YQ"},
                                                         {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(base32Encode(plain) == encoded);
    BOOST_TEST(base32Decode(encoded).value() == plain);
  }
  BOOST_TEST(base32Decode("MZXW6YTBOI======").value() == "foobar");  // padded, as RFC 4648 writes it
  BOOST_TEST(base32Decode("mzxw 6ytb oi").value() == "foobar");      // as a person types it off a screen
  BOOST_TEST(!base32Decode("MZXW1"));                                // 1 is not in the alphabet
  BOOST_TEST(!base32Decode("MZX"));                                  // 3 symbols cannot end a group
  BOOST_TEST(!base32Decode("MY==MY"));                               // a symbol after the padding
  const std::string secret = "\x01\x02\xfe\xff secret bytes";
  BOOST_TEST(base32Decode(base32Encode(secret)).value() == secret);
}

BOOST_AUTO_TEST_CASE(otpauth_uri_names_the_issuer_and_escapes_the_account) {
  BOOST_TEST(totpUri("Vkhid UCC", "o.petrenko", "MZXW6YTBOI") ==
             "otpauth://totp/Vkhid%20UCC:o.petrenko?secret=MZXW6YTBOI&issuer=Vkhid%20UCC&algorithm=SHA1&digits=6&"
             "period=30");
}

BOOST_AUTO_TEST_CASE(passwords_are_argon2id_strings_with_their_own_salt) {
  auto a = hashPassword("correct horse battery staple");
  auto b = hashPassword("correct horse battery staple");
  BOOST_REQUIRE(a && b);
  BOOST_TEST(a->starts_with("$argon2id$v=19$m=65536,t=2,p=1$"));
  BOOST_TEST(*a != *b);  // a salt of its own
  BOOST_TEST(verifyPassword(*a, "correct horse battery staple"));
  BOOST_TEST(verifyPassword(*b, "correct horse battery staple"));
  BOOST_TEST(!verifyPassword(*a, "correct horse battery stapl"));
  BOOST_TEST(!verifyPassword(*a, ""));
  BOOST_TEST(!verifyPassword("not a hash", "correct horse battery staple"));
  BOOST_TEST(!verifyPassword("", ""));
  BOOST_TEST(!passwordNeedsRehash(*a));
  BOOST_TEST(passwordNeedsRehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"));
  BOOST_TEST(!verifyPassword(decoyPasswordHash(), "correct horse battery staple"));
}

BOOST_AUTO_TEST_SUITE_END()
