#include <boost/test/unit_test.hpp>

#include "gateway/app/logging.hpp"

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(json_strings_are_escaped) {
  std::string out;
  vkhid::log::appendJsonString(out, "a\"b\\c\nd\x01");
  BOOST_TEST(out == "\"a\\\"b\\\\c\\nd\\u0001\"");
  std::string utf8;
  vkhid::log::appendJsonString(utf8, "Звернення");
  BOOST_TEST(utf8 == "\"Звернення\"");
}

BOOST_AUTO_TEST_SUITE_END()
