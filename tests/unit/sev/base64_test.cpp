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

BOOST_AUTO_TEST_CASE(whitespace_anywhere_and_any_line_length_decode_alike) {
  // Four characters are decoded at once where they are all data: whatever breaks a quantum — a line's
  // end at any place, a space, the padding — the text means the same bytes, and a wrong character is
  // refused wherever it falls.
  std::string bytes;
  for (int n = 0; n < 200; ++n) bytes += static_cast<char>(n * 53 + 7);
  const std::string encoded = vkhid::base64Encode(bytes);
  for (std::size_t width : {1, 2, 3, 5, 63, 64, 76}) {
    std::string lines;
    for (std::size_t i = 0; i < encoded.size(); i += width) lines += encoded.substr(i, width) + "\r\n";
    auto decoded = vkhid::base64Decode(lines);
    BOOST_REQUIRE_MESSAGE(decoded.has_value(), "lines of " << width);
    BOOST_TEST(*decoded == bytes, "lines of " << width);
  }
  for (std::size_t at = 0; at <= encoded.size(); ++at) {
    std::string spaced = encoded;
    spaced.insert(at, " \t");
    auto decoded = vkhid::base64Decode(spaced);
    BOOST_REQUIRE_MESSAGE(decoded.has_value(), "a space at " << at);
    BOOST_TEST(*decoded == bytes, "a space at " << at);
    if (at < encoded.size() && encoded[at] != '=') {
      std::string wrong = encoded;
      wrong[at] = '*';
      BOOST_TEST(!vkhid::base64Decode(wrong).has_value(), "'*' at " << at);
    }
  }
  BOOST_TEST(!vkhid::base64Decode("aQ==aQ==").has_value());  // data after padding, a quantum on
  BOOST_TEST(!vkhid::base64Decode("AAAAaQ=").has_value());   // length, after a whole quantum
  BOOST_TEST(*vkhid::base64Decode("AAAA aQ==") == std::string("\0\0\0i", 4));
}

BOOST_AUTO_TEST_SUITE_END()
