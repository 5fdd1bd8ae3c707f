// schemas/sev-ovv-1.5.xsd must refuse everything the published Header.xsd refuses.
#include <libxml/xmlschemas.h>
#include <boost/test/unit_test.hpp>

#include "gateway/sev/codec.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;

namespace {

// Validates with the published schema, compiled from its text (no file access through libxml2).
bool publishedAccepts(const std::string& xml) {
  static xmlSchemaPtr schema = [] {
    sev::initXml();
    std::string text = testing::readFile(testing::dataDir() + "/sev-ovv-1.5/xsd/Header.xsd");
    xmlSchemaParserCtxtPtr p = xmlSchemaNewMemParserCtxt(text.data(), static_cast<int>(text.size()));
    xmlSchemaPtr s = xmlSchemaParse(p);
    xmlSchemaFreeParserCtxt(p);
    return s;
  }();
  BOOST_REQUIRE(schema != nullptr);
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE);
  if (doc == nullptr) return false;
  xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
  xmlSchemaSetValidStructuredErrors(
      v, [](void*, xmlErrorPtr) {}, nullptr);
  int rc = xmlSchemaValidateDoc(v, doc);
  xmlSchemaFreeValidCtxt(v);
  xmlFreeDoc(doc);
  return rc == 0;
}

std::string mutate(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "not in sample: " << from);
  return s.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schema)

BOOST_AUTO_TEST_CASE(ours_refuses_whatever_the_published_schema_refuses) {
  auto reply = testing::readFile(testing::dataDir() + "/sev-ovv-1.5/samples/ds09-reply-to-approval.xml");
  auto ack = testing::readFile(testing::dataDir() + "/sev-ovv-1.5/samples/ds15-ack3-registered.xml");
  BOOST_REQUIRE(publishedAccepts(reply));
  BOOST_REQUIRE(sev::parseAndValidate(reply).ok());

  const std::vector<std::pair<std::string, std::string>> mutations = {
      {mutate(reply, " from_system=\"IT-Enterprise\"", ""), "required header attribute removed"},
      {mutate(reply, "msg_acknow=\"2\"", "msg_acknow=\"3\""), "msg_acknow out of range"},
      {mutate(reply, "<Confident flag=\"0\" />", ""), "Confident missing"},
      {mutate(reply, "<Confident flag=\"0\" />", "<Confident flag=\"2\" />"), "Confident flag out of range"},
      {mutate(reply, "regdate=\"2015-09-09\"", "regdate=\"2015-13-09\""), "invalid date"},
      {mutate(reply, "retype=\"д\"", "retype=\"x\""), "unknown retype"},
      {mutate(reply, "purpose_type=\"4\"", "purpose_type=\"9\""), "purpose_type out of range"},
      {mutate(reply, "<Writer>", "<Unknown/><Writer>"), "unknown element"},
      {mutate(reply, "<Addressee type=\"0\">", "<Addressee>"), "Addressee type missing"},
      {mutate(reply, "ogrn=\"37472062\"", "ogrn=\"ABC\""), "ogrn not an integer"},
      {mutate(ack, "ack_type=\"3\"", "ack_type=\"6\""), "ack_type out of range"},
      {mutate(ack, "errortext=\"\"", ""), "errortext missing"},
      {mutate(ack, "time=\"2015-09-11T07:00:22Z\"", "time=\"yesterday\""), "time not a dateTime"},
  };
  for (const auto& [xml, what] : mutations) {
    BOOST_TEST_CONTEXT(what) {
      BOOST_TEST(!publishedAccepts(xml));            // the mutation is one the published schema refuses…
      BOOST_TEST(!sev::parseAndValidate(xml).ok());  // …and so does ours
    }
  }
}

BOOST_AUTO_TEST_CASE(ours_is_stricter_where_it_says_so) {
  auto ack = testing::readFile(testing::dataDir() + "/sev-ovv-1.5/samples/ds13-ack1-delivered.xml");
  auto other_charset = mutate(ack, "charset=\"UTF-8\"", "charset=\"windows-1251\"");
  BOOST_TEST(publishedAccepts(other_charset));
  BOOST_TEST(!sev::parseAndValidate(other_charset).ok());
  auto empty_id = mutate(ack, "msg_id=\"e4e3439a-708e-47c7-9e0e-a9f38c91e770\"", "msg_id=\"\"");
  BOOST_TEST(publishedAccepts(empty_id));
  BOOST_TEST(!sev::parseAndValidate(empty_id).ok());
}

BOOST_AUTO_TEST_SUITE_END()
