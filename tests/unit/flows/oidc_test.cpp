// The national ID sign-in's id_token checks (OpenID Connect Core §3.1.3.7), from the attacker's side:
// tokens signed HS256 here with the client secret as a provider would, and each forgery the checks must
// refuse by name — a changed claim, "alg": "none", another algorithm, another issuer or audience, an
// expired token, another sign-in's nonce.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "gateway/crypto/aead.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/oidc.hpp"

using namespace vkhid::flows;
namespace json = boost::json;

namespace {

std::string token(const json::object& header, const json::object& claims, const std::string& secret) {
  const std::string signed_part =
      base64UrlEncode(json::serialize(header)) + "." + base64UrlEncode(json::serialize(claims));
  return signed_part + "." +
         base64UrlEncode(vkhid::hexDecode(vkhid::crypto::hmacSha256Hex(secret, signed_part)).value());
}

const json::object kHeader{{"alg", "HS256"}, {"typ", "JWT"}};
json::object claims() {
  return {{"iss", "https://id.gov.ua"}, {"aud", "vkhid-console"}, {"sub", "p-1"},        {"exp", 2000000000},
          {"iat", 1999999700},          {"nonce", "n-1"},         {"drfo", "3012345678"}};
}
IdTokenCheck check() { return {"https://id.gov.ua", "vkhid-console", "n-1", "secret-7731", "", 1999999800}; }

std::string refusal(const std::string& jwt) {
  auto r = checkIdToken(jwt, check());
  return r ? std::string("accepted") : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(oidc)

BOOST_AUTO_TEST_CASE(an_id_token_is_accepted_only_when_every_check_holds) {
  auto good = checkIdToken(token(kHeader, claims(), "secret-7731"), check());
  BOOST_REQUIRE(good);
  BOOST_TEST(std::string(good->at("drfo").as_string()) == "3012345678");
  // An audience list naming this client is good too.
  auto list = claims();
  list["aud"] = json::array{"other", "vkhid-console"};
  BOOST_TEST(static_cast<bool>(checkIdToken(token(kHeader, list, "secret-7731"), check())));

  BOOST_TEST(refusal(token(kHeader, claims(), "another-secret")).find("signature does not verify") !=
             std::string::npos);
  // A claim changed after signing: the payload swapped, the signature kept.
  const std::string jwt = token(kHeader, claims(), "secret-7731");
  auto forged = claims();
  forged["drfo"] = "2999999999";
  const std::string swapped =
      jwt.substr(0, jwt.find('.') + 1) + base64UrlEncode(json::serialize(forged)) + jwt.substr(jwt.rfind('.'));
  BOOST_TEST(refusal(swapped).find("signature does not verify") != std::string::npos);
  BOOST_TEST(refusal(token({{"alg", "none"}}, claims(), "")).find("alg none") != std::string::npos);
  BOOST_TEST(refusal(token({{"alg", "RS256"}}, claims(), "secret-7731")).find("HS256 expected") != std::string::npos);
  for (const auto& [claim, value, named] :
       {std::tuple{"iss", json::value("https://evil.example"), "iss"}, std::tuple{"aud", json::value("other"), "aud"},
        std::tuple{"exp", json::value(1999999000), "expired"}, std::tuple{"nonce", json::value("n-2"), "nonce"}}) {
    auto c = claims();
    c[claim] = value;
    BOOST_TEST(refusal(token(kHeader, c, "secret-7731")).find(named) != std::string::npos, claim);
  }
  BOOST_TEST(refusal("not-a-token").find("compact JWS") != std::string::npos);
  BOOST_TEST(refusal("a.b.c.d").find("compact JWS") != std::string::npos);
  BOOST_TEST(refusal("!!.??.**").find("base64url") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(base64url_and_form_encoding_round_trip) {
  const std::string bytes("\xfb\xff\xfe\x00\x01", 5);
  BOOST_TEST(base64UrlEncode(bytes) == "-__-AAE");
  BOOST_TEST(base64UrlDecode("-__-AAE").value_or("") == bytes);
  BOOST_TEST(!base64UrlDecode("+/=="));
  BOOST_TEST(formEncode("a b&c=д") == "a%20b%26c%3D%D0%B4");
}

BOOST_AUTO_TEST_SUITE_END()
