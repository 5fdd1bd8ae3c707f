#define BOOST_TEST_MODULE unit_sev
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "gateway/sev/codec.hpp"
#include "gateway/sev/errors.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;
using namespace vkhid::sev;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> realSamples() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(testing::dataDir() + "/sev-ovv-1.5/samples")) {
    if (e.path().extension() == ".xml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string sample(const std::string& name) {
  return testing::readFile(testing::dataDir() + "/sev-ovv-1.5/samples/" + name);
}

std::optional<SevError> codeOf(const Result<Header>& r) { return r.ok() ? std::nullopt : sevErrorOf(r.error()); }

const char* kAck = R"(<?xml version="1.0" encoding="utf-8"?>
<Header standart="1207" version="1.5" charset="UTF-8" time="2026-11-28T10:00:00Z" msg_type="0" msg_id="a1" msg_acknow="0" from_org_id="1" from_organization="A" from_sys_id="s" from_system="S" to_org_id="2" to_organization="B" to_sys_id="t" to_system="T">
  <Acknowledgement msg_id="m1" ack_type="1"><AckResult errorcode="0" errortext=""/></Acknowledgement>
</Header>)";

}  // namespace

BOOST_AUTO_TEST_SUITE(codec)

BOOST_AUTO_TEST_CASE(participant_guide_examples_are_what_they_say) {
  // docs/participant-guide.md shows a real file of every message a vendor must handle: each parses and
  // validates, and is the kind of message its name says.
  struct Example {
    const char* file;
    int msg_type, ack_type, errorcode;
  };
  const Example examples[] = {
      {"01-appeal-from-the-ucc.xml", 1, 0, 0},
      {"02-receipt-1-delivered.xml", 0, 1, 0},
      {"03-receipt-2-accepted.xml", 0, 2, 0},
      {"04-receipt-3-registered.xml", 0, 3, 0},
      {"05-reply.xml", 3, 0, 0},
      {"06-ucc-receipt-1-for-the-reply.xml", 0, 1, 0},
      {"07-ucc-receipt-2-for-the-reply.xml", 0, 2, 0},
      {"08-extension-notice.xml", 0, 0, 0},
      {"09-forward-not-in-competence.xml", 0, 4, 132},
      {"10-rejection.xml", 0, 4, 32},
  };
  for (const auto& e : examples) {
    BOOST_TEST_CONTEXT(e.file) {
      auto h = parsePackage(testing::readFile(testing::sourceDir() + "/docs/participant-guide/" + e.file));
      BOOST_REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
      BOOST_TEST(h->msg_type == e.msg_type);
      if (e.ack_type != 0) {
        BOOST_REQUIRE(h->acknowledgement.has_value());
        BOOST_TEST(h->acknowledgement->ack_type == e.ack_type);
        BOOST_TEST(h->acknowledgement->results.front().errorcode == e.errorcode);
      }
      if (std::string(e.file).find("extension") != std::string::npos) {
        BOOST_REQUIRE(h->expansion && h->expansion->notice);
        BOOST_TEST(h->expansion->notice->kind == "extension");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(real_samples_parse_validate_and_round_trip) {
  auto files = realSamples();
  BOOST_REQUIRE_EQUAL(files.size(), 12u);
  for (const auto& f : files) {
    BOOST_TEST_CONTEXT("sample " << f.filename().string()) {
      auto bytes = testing::readFile(f.string());
      auto first = parsePackage(bytes);
      BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
      auto written = writePackage(*first);
      auto second = parsePackage(written);  // validates the written XML against the schemas too
      BOOST_REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().message));
      BOOST_TEST((*first == *second));
    }
  }
}

BOOST_AUTO_TEST_CASE(samples_with_byte_order_mark_are_read) {
  auto bytes = sample("ds13-ack1-delivered.xml");
  BOOST_REQUIRE(bytes.starts_with("\xEF\xBB\xBF"));
  auto h = parsePackage(bytes);
  BOOST_REQUIRE(h.ok());
  BOOST_TEST(h->msg_type == 0);
  BOOST_REQUIRE(h->acknowledgement.has_value());
  BOOST_TEST(h->acknowledgement->ack_type == 1);
  BOOST_TEST(h->acknowledgement->msg_id == "63FC75F4-0759-4CFD-9E78-0903537D8597");
  BOOST_TEST(h->acknowledgement->results.at(0).errortext == "Повідомлення доставлено без помилок");
}

BOOST_AUTO_TEST_CASE(sample_values_are_lifted_into_the_model) {
  auto reg = parsePackage(sample("ds15-ack3-registered.xml"));
  BOOST_REQUIRE(reg.ok());
  BOOST_REQUIRE(reg->acknowledgement->reg_number.has_value());
  BOOST_TEST(reg->acknowledgement->reg_number->value == "1/0/-15");
  BOOST_TEST(reg->acknowledgement->reg_number->regdate == "2015-09-11");

  auto doc = parsePackage(sample("ds01-doc-for-execution.xml"));
  BOOST_REQUIRE(doc.ok());
  BOOST_TEST(doc->from_org_id == "37472062");
  BOOST_TEST(doc->document->attrs.purpose_type == 3);
  BOOST_TEST(doc->document->transfers.at(0).content.starts_with("%PDF"));
  BOOST_TEST(doc->document->addressees.size() == 2u);
  BOOST_TEST(doc->task_list->tasks.size() == 2u);
  BOOST_TEST(doc->task_list->tasks.at(1).referred_control == 1);
  const auto& sign = doc->expansion->sign_infos.at(0);
  BOOST_TEST(sign.doc_transfer_idnumber == "190");
  BOOST_TEST(static_cast<unsigned char>(sign.sign_data.at(0)) == 0x30u);  // DER SEQUENCE

  auto reply = parsePackage(sample("ds09-reply-to-approval.xml"));
  BOOST_REQUIRE(reply.ok());
  const auto& referred = reply->document->addressees.at(0).referred.at(0);
  BOOST_TEST(referred.retype == "д");
  BOOST_TEST(std::get<RegNumber>(referred.number).value == "67879899");
}

BOOST_AUTO_TEST_CASE(written_organisation_codes_keep_leading_zeros) {
  auto h = parsePackage(sample("ds07-reply-to-execution.xml"));
  BOOST_REQUIRE(h.ok());
  BOOST_TEST(h->to_org_id == "00000003");
  auto written = writePackage(*h);
  BOOST_TEST(written.find("ogrn=\"00000003\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(external_entity_is_refused) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE Header [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
      "<Header>&x;</Header>";
  BOOST_TEST((codeOf(parsePackage(xml)) == SevError::DtdForbidden));
}

BOOST_AUTO_TEST_CASE(billion_laughs_is_refused) {
  std::string xml = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i) {
    xml += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) xml += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    xml += "\">";
  }
  xml += "]><Header>&lol9;</Header>";
  BOOST_TEST((codeOf(parsePackage(xml)) == SevError::DtdForbidden));
}

// The bombs an attacker sent a registered participant's way (issue 21, B1): each refused with code 107
// before libxml2 builds anything — 100,000 attributes on one element held a thread for 5.5 minutes.
BOOST_AUTO_TEST_CASE(hostile_attribute_bomb_is_refused_before_parsing) {
  std::string xml = "<?xml version=\"1.0\"?><Header standart=\"1207\"";
  for (int i = 0; i < 100000; ++i) xml += " a" + std::to_string(i) + "=\"x\"";
  xml += "/>";
  auto r = parsePackage(xml);
  BOOST_TEST((codeOf(r) == SevError::LimitsExceeded));
  BOOST_TEST(r.error().message.find("more than 64 attributes") != std::string::npos, r.error().message);
  // Spread over many elements instead: the total is bounded too.
  std::string spread = "<Header>";
  for (int i = 0; i < 1000; ++i) {
    spread += "<e";
    for (int j = 0; j < 40; ++j) spread += " a" + std::to_string(j) + "='v'";
    spread += "/>";
  }
  spread += "</Header>";
  BOOST_TEST(parsePackage(spread).error().message.find("attributes in all") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(hostile_long_name_bomb_is_refused_before_parsing) {
  std::string element = "<Header><" + std::string(1 << 20, 'x') + "/></Header>";
  BOOST_TEST((codeOf(parsePackage(element)) == SevError::LimitsExceeded));
  std::string attribute = "<Header " + std::string(1 << 20, 'a') + "=\"1\"/>";
  BOOST_TEST((codeOf(parsePackage(attribute)) == SevError::LimitsExceeded));
  std::string value = "<Header a=\"" + std::string(1 << 20, 'v') + "\"/>";
  BOOST_TEST((codeOf(parsePackage(value)) == SevError::LimitsExceeded));
}

BOOST_AUTO_TEST_CASE(hostile_many_namespaces_bomb_is_refused_before_parsing) {
  std::string xml = "<Header>";
  for (int i = 0; i < 5000; ++i)
    xml += "<p" + std::to_string(i) + ":e xmlns:p" + std::to_string(i) + "=\"urn:" + std::to_string(i) + "\">";
  auto r = parsePackage(xml);
  BOOST_TEST((codeOf(r) == SevError::LimitsExceeded));
  BOOST_TEST(r.error().message.find("namespace declarations") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(attributes_inside_comments_cdata_and_values_are_not_counted) {
  // What only looks like attributes — in a comment, CDATA, or a quoted value holding '>' — is not
  // counted: the real samples, and a package with such text, parse as before.
  std::string filler;
  for (int i = 0; i < 200; ++i) filler += " a" + std::to_string(i) + "=\"x\"";
  std::string xml =
      "<Header><!--<e" + filler + "/>--><![CDATA[<e" + filler + "/>]]><x t=\"a>b" + filler + "\"/></Header>";
  auto r = parsePackage(xml);
  BOOST_TEST((codeOf(r) != SevError::LimitsExceeded), (r.ok() ? "" : r.error().message));
}

BOOST_AUTO_TEST_CASE(internal_dtd_is_refused) {
  std::string xml = "<?xml version=\"1.0\"?><!DOCTYPE Header [<!ELEMENT Header ANY>]><Header/>";
  BOOST_TEST((codeOf(parsePackage(xml)) == SevError::DtdForbidden));
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused) {
  std::string xml = "<Header>";
  for (int i = 0; i < 10000; ++i) xml += "<a>";
  for (int i = 0; i < 10000; ++i) xml += "</a>";
  xml += "</Header>";
  BOOST_TEST((codeOf(parsePackage(xml)) == SevError::TooDeep));
}

BOOST_AUTO_TEST_CASE(package_over_the_size_limit_is_refused_unread) {
  std::string xml = kAck;
  auto r = parsePackage(xml, ParseLimits{100, 64});
  BOOST_TEST((codeOf(r) == SevError::TooLarge));
  BOOST_TEST(r.error().message.find("the limit is 100") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_root_or_namespace_is_refused) {
  BOOST_TEST((codeOf(parsePackage("<Envelope/>")) == SevError::WrongRoot));
  BOOST_TEST((codeOf(parsePackage("<Header xmlns=\"urn:other\"/>")) == SevError::WrongRoot));
}

BOOST_AUTO_TEST_CASE(wrong_standart_version_and_msg_type_have_their_codes) {
  std::string ack = kAck;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = ack;
    s.replace(s.find(from), from.size(), to);
    return parsePackage(s);
  };
  BOOST_TEST((codeOf(with("standart=\"1207\"", "standart=\"1208\"")) == SevError::BadStandart));
  BOOST_TEST((codeOf(with("version=\"1.5\"", "version=\"1.4\"")) == SevError::BadVersion));
  BOOST_TEST((codeOf(with("msg_type=\"0\"", "msg_type=\"7\"")) == SevError::BadMsgType));
  auto missing = with(
      "<Acknowledgement msg_id=\"m1\" ack_type=\"1\"><AckResult errorcode=\"0\" errortext=\"\"/></Acknowledgement>",
      "");
  BOOST_TEST((codeOf(missing) == SevError::ZoneMissing));
  auto bad_attr = with("ack_type=\"1\"", "ack_type=\"9\"");
  BOOST_TEST((codeOf(bad_attr) == SevError::SchemaInvalid));
  BOOST_TEST(bad_attr.error().message.find("line 3") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_base64_is_refused) {
  auto bytes = sample("ds11-reply-to-information.xml");
  auto at = bytes.find("0uXx8u7i++kg5O7q8+zl7fI=");
  BOOST_REQUIRE(at != std::string::npos);
  bytes.replace(at, 4, "0u*x");
  auto r = parsePackage(bytes);
  BOOST_REQUIRE(!r.ok());
  // The schema's base64Binary type catches it first; either way it is refused with a clear code.
  BOOST_TEST(((codeOf(r) == SevError::SchemaInvalid) || (codeOf(r) == SevError::BadBase64)));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused) {
  std::string xml = kAck;
  xml.replace(xml.find("from_organization=\"A\""), 21, "from_organization=\"\xC3\x28\"");
  BOOST_TEST((codeOf(parsePackage(xml)) == SevError::BadEncoding));
}

BOOST_AUTO_TEST_CASE(not_well_formed_is_malformed) {
  BOOST_TEST((codeOf(parsePackage("<Header><Document></Header>")) == SevError::Malformed));
  BOOST_TEST((codeOf(parsePackage("")) == SevError::Malformed));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sev_errors)

BOOST_AUTO_TEST_CASE(every_code_is_documented_with_both_texts) {
  auto doc = testing::readFile(testing::sourceDir() + "/docs/sev-errors.md");
  std::set<int> seen;
  for (const auto& e : allSevErrors()) {
    int code = static_cast<int>(e.code);
    BOOST_TEST_INFO("code " << code);
    BOOST_TEST(seen.insert(code).second);  // unique
    BOOST_TEST(doc.find("| " + std::to_string(code) + " | `" + e.id + "` |") != std::string::npos);
    BOOST_TEST(std::string(e.errortext).size() > 0u);
    BOOST_TEST(std::string(e.message).size() > 0u);
  }
  auto err = sevError(SevError::SealInvalid, "detail");
  BOOST_TEST(err.code == "sev.111");
  BOOST_TEST((sevErrorOf(err) == SevError::SealInvalid));
  BOOST_TEST(sevErrorDetail(err) == "detail");
}

BOOST_AUTO_TEST_SUITE_END()
