// Text reduced to its words: how mass appeals are recognised whatever their case, punctuation and spacing.
#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
