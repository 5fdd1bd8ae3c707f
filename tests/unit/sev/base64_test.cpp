#include <boost/test/unit_test.hpp>

#include "gateway/domain/base64.hpp"

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(round_trips_every_length) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    auto encoded = vkhid::base64Encode(bytes);
    BOOST_TEST(encoded.size() == (bytes.size() + 2) / 3 * 4);
    auto decoded = vkhid::base64Decode(encoded);
    BOOST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == bytes);
    bytes += static_cast<char>(n * 37 + 11);
  }
  BOOST_TEST(vkhid::base64Encode("Ман") == "0JzQsNC9");
  BOOST_TEST(*vkhid::base64Decode("0JzQ\r\n sNC9") == "Ман");
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_base64) {
  BOOST_TEST(!vkhid::base64Decode("abc").has_value());   // length
  BOOST_TEST(!vkhid::base64Decode("ab*d").has_value());  // character
  BOOST_TEST(!vkhid::base64Decode("ab=d").has_value());  // data after padding
  BOOST_TEST(!vkhid::base64Decode("a===").has_value());  // too much padding
  BOOST_TEST(!vkhid::base64Decode("ab==").has_value());  // tail bits set: xs:base64Binary refuses it too
  BOOST_TEST(*vkhid::base64Decode("aQ==") == "i");
}

BOOST_AUTO_TEST_SUITE_END()
