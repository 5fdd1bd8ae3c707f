#include <boost/test/unit_test.hpp>

#include "gateway/app/metrics.hpp"

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(exposition_has_help_type_and_labelled_series) {
  vkhid::app::Metrics m;
  m.counter("vkhid_cases_total", "Cases registered", {{"kind", "appeal"}}).inc();
  m.counter("vkhid_cases_total", "Cases registered", {{"kind", "appeal"}}).inc(2);
  m.gauge("vkhid_dependency_up", "Up", {{"dependency", "database"}}).set(1);
  auto text = m.exposition();
  BOOST_TEST(text.find("# HELP vkhid_cases_total Cases registered\n# TYPE vkhid_cases_total counter\n") !=
             std::string::npos);
  BOOST_TEST(text.find("vkhid_cases_total{kind=\"appeal\"} 3\n") != std::string::npos);
  BOOST_TEST(text.find("# TYPE vkhid_dependency_up gauge\nvkhid_dependency_up{dependency=\"database\"} 1\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  vkhid::app::Metrics m;
  m.gauge("g", "h", {{"l", "a\"b\\c\nd"}}).set(0.5);
  BOOST_TEST(m.exposition().find("g{l=\"a\\\"b\\\\c\\nd\"} 0.5\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
