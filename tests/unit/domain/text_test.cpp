// Text reduced to its words: how mass appeals are recognised whatever their case, punctuation and spacing.
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <vector>

#include "gateway/domain/text.hpp"

using vkhid::normalisedWords;

BOOST_AUTO_TEST_SUITE(text)

BOOST_AUTO_TEST_CASE(words_compare_whatever_the_case_punctuation_and_spacing) {
  BOOST_TEST(normalisedWords("  Прошу, ВІДРЕМОНТУВАТИ дорогу!!\n\tНа вул. Ґрунтовій  ") ==
             "прошу відремонтувати дорогу на вул ґрунтовій");
  BOOST_TEST(normalisedWords("Прошу відремонтувати дорогу на вул. Ґрунтовій") ==
             normalisedWords("ПРОШУ — відремонтувати дорогу на вул Ґрунтовій."));
  // Apostrophes of every keyboard are one word; Є, І, Ї lower-case too.
  BOOST_TEST(normalisedWords("М'ЯСО м’ясо мʼясо") == "мясо мясо мясо");
  BOOST_TEST(normalisedWords("ЄДРПОУ Їжак Ірпінь") == "єдрпоу їжак ірпінь");
  BOOST_TEST(normalisedWords("Road 7, KYIV") == "road 7 kyiv");
  BOOST_TEST(normalisedWords("...") == "");
  // Different words stay different.
  BOOST_TEST(normalisedWords("дорогу на вул. Садовій") != normalisedWords("дорогу на вул. Садова"));
}

BOOST_AUTO_TEST_CASE(codes_are_judged_as_their_patterns_say) {
  // The patterns the intake's messages name, as regular expressions: the oracle the checks written out
  // character by character must agree with, on codes right and wrong.
  const std::regex classifier(R"([0-9]{1,2}(\.[0-9]{1,3}){1,3})");
  const std::regex topic(R"([0-9]{3}(\.[0-9]{1,4})*)");
  const std::regex edrpou("[0-9]{8,10}");
  const std::vector<std::string> samples = {
      "",         ".",        "1",       "1.",         ".1",          "1.1",           "7.10",
      "12.3",     "123.4",    "1.1234",  "1.1.1",      "1.1.1.1",     "1.1.1.1.1",     "99.999.999.999",
      "1..1",     "1.a",      "a.1",     "1,1",        " 1.1",        "1.1 ",          "004",
      "04",       "0004",     "004.1",   "004.0001",   "004.00001",   "004.1.2.3.4.5", "004.",
      "004..1",   "12345678", "1234567", "1234567890", "12345678901", "1234567a",      "+12345678",
      "١٢٣٤٥٦٧٨", "１２３",   "1\n",     "00000000"};
  for (const auto& s : samples) {
    BOOST_TEST(vkhid::isClassifierCode(s) == std::regex_match(s, classifier), "classifier code '" << s << "'");
    BOOST_TEST(vkhid::isTopicCode(s) == std::regex_match(s, topic), "topic '" << s << "'");
    BOOST_TEST(vkhid::isEdrpou(s) == std::regex_match(s, edrpou), "EDRPOU '" << s << "'");
  }
  BOOST_TEST(vkhid::isClassifierCode("7.10"));
  BOOST_TEST(vkhid::isTopicCode("004.0001"));
  BOOST_TEST(vkhid::isEdrpou("00013480"));
  BOOST_TEST(!vkhid::isClassifierCode("1.1.1.1.1"));
}

BOOST_AUTO_TEST_SUITE_END()
