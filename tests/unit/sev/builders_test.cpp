#include <boost/test/unit_test.hpp>

#include "gateway/sev/appeal_reader.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"

using namespace vkhid;
using namespace vkhid::sev;

namespace {

Envelope env() {
  return {{"99999901", "Урядовий контактний центр", "vkhid", "Вхід"},
          {"99999911", "Учасник 1", "edms-1", "СЕД"},
          "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e",
          "2026-11-28T10:00:00Z"};
}

// Written, parsed back through the schema (with Vkhid's expansion) and the zone check.
Header roundTrip(const Header& h) {
  auto parsed = parsePackage(writePackage(h));
  BOOST_REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  BOOST_TEST((*parsed == h));
  return std::move(parsed).value();
}

domain::Case appeal() {
  domain::Case c;
  c.id = "case-1";
  c.ucc_number = "УКЦ-2026-0000001";
  c.registered_on = "2026-11-28";
  c.kind = domain::CaseKind::InfoRequest;
  c.applicant = {false, false, "Коваль", "Іван", "", "", "ivan@example.org", ""};
  c.consent = {true, true};
  c.classification.topic = "010";
  c.text = "Запит";
  c.channel = "hotline";
  c.received_at = "2026-11-28T09:00:00Z";
  c.urgency = domain::Urgency::Urgent;
  c.priority = true;
  c.deadlines.push_back({"answer", "2026-11-30T09:00:00Z", "Закон 2939-VI, ст. 20 ч. 2"});
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(builders)

BOOST_AUTO_TEST_CASE(appeal_package_carries_the_structured_case) {
  auto h = roundTrip(buildAppealPackage(appeal(), env()));
  BOOST_TEST(h.msg_type == 1);
  BOOST_TEST(h.msg_acknow.value_or(-1) == 2);
  BOOST_TEST(*h.document->attrs.kind == "Запит на публічну інформацію");
  BOOST_TEST(h.document->attrs.purpose_type == 3);
  BOOST_TEST(*h.document->attrs.urgent == "1");
  BOOST_TEST(h.document->reg_number.value == "УКЦ-2026-0000001");
  BOOST_TEST(h.document->transfers.at(0).content == "Запит");
  const auto& a = *h.expansion->appeal;
  BOOST_TEST(a.kind == "info_request");
  BOOST_TEST(*a.urgency == "urgent");
  BOOST_TEST(*a.priority == "true");
  BOOST_TEST(*a.classification->topic == "010");
  BOOST_TEST(a.deadlines.at(0).rule == "Закон 2939-VI, ст. 20 ч. 2");
  BOOST_TEST(a.consent->disclose_identity);
}

BOOST_AUTO_TEST_CASE(anonymous_appeal_has_an_empty_author) {
  auto c = appeal();
  c.applicant.anonymous = true;
  auto h = roundTrip(buildAppealPackage(c, env()));
  BOOST_TEST(std::holds_alternative<std::monostate>(h.document->authors.at(0).party));
  BOOST_TEST(*h.expansion->appeal->anonymous == "true");
}

BOOST_AUTO_TEST_CASE(four_receipts) {
  auto delivered = roundTrip(buildReceipt(env(), "m-1", AckType::Delivered));
  BOOST_TEST(delivered.acknowledgement->ack_type == 1);
  BOOST_TEST(delivered.acknowledgement->results.at(0).errortext == "Повідомлення доставлено без помилок");
  auto accepted = roundTrip(buildReceipt(env(), "m-1", AckType::Accepted));
  BOOST_TEST(accepted.acknowledgement->ack_type == 2);
  auto registered = roundTrip(buildReceipt(env(), "m-1", AckType::Registered, RegNumber{"01-15/7", "2026-11-29", {}}));
  BOOST_TEST(registered.acknowledgement->reg_number->value == "01-15/7");
  auto rejected = roundTrip(buildReceipt(env(), "m-1", AckType::Rejected, std::nullopt,
                                         Rejection{132, sevErrorInfo(SevError::NotInCompetence).errortext}));
  BOOST_TEST(rejected.acknowledgement->results.at(0).errorcode == 132);
  BOOST_TEST(!rejected.acknowledgement->reg_number.has_value());
}

BOOST_AUTO_TEST_CASE(reply_refers_to_the_original_document) {
  ReplyContent reply{"r-9",    {"01-15/77", "2026-12-01", {}}, {"УКЦ-2026-0000001", "2026-11-28", {}},
                     "case-1", "Освітлення відновлено.",       {{"акт.pdf", "application/pdf", "%PDF-1.4"}}};
  auto h = roundTrip(buildReply(env(), reply));
  BOOST_TEST(h.msg_type == 3);
  const auto& ref = h.document->addressees.at(0).referred.at(0);
  BOOST_TEST(ref.retype == "д");
  BOOST_TEST(std::get<RegNumber>(ref.number).value == "УКЦ-2026-0000001");
  BOOST_TEST(h.document->transfers.size() == 2u);
  BOOST_TEST(h.document->transfers.at(1).type == "pdf");
}

BOOST_AUTO_TEST_CASE(additions_to_a_document_and_to_a_reply) {
  for (auto type : {MsgType::Additions, MsgType::ReplyAdditions}) {
    auto h = roundTrip(buildAdditions(env(), type, {"УКЦ-2026-0000001", "2026-11-28", {}},
                                      {{"додаток.docx", "application/octet-stream", "PK.."}}, "Додаткові матеріали"));
    BOOST_TEST(h.msg_type == static_cast<int>(type));
    const auto& folder = h.add_documents->folders.at(0);
    BOOST_TEST(folder.transfers.at(0).type == "docx");
    BOOST_TEST(folder.notes.at(0) == "Додаткові матеріали");
    BOOST_TEST(folder.documents.at(0).reg_number->value == "УКЦ-2026-0000001");
  }
}

BOOST_AUTO_TEST_CASE(extension_and_forwarding_notices) {
  NoticeExpansion ext{
      "extension", "case-1", "m-1", "2027-01-12T23:59:59+02:00", std::nullopt, "Потрібне додаткове вивчення",
      std::nullopt};
  auto e = roundTrip(buildNotice(env(), ext));
  BOOST_TEST(e.msg_type == 0);
  BOOST_TEST(*e.expansion->notice->new_due == "2027-01-12T23:59:59+02:00");
  NoticeExpansion fwd{"forwarding", "case-1", "m-1", std::nullopt, "99999912", "Не належить до компетенції",
                      std::nullopt};
  auto f = roundTrip(buildNotice(env(), fwd));
  BOOST_TEST(*f.expansion->notice->competent_org_id == "99999912");
  BOOST_TEST(*f.expansion->notice->reason == "Не належить до компетенції");
  NoticeExpansion ret{"return",
                      "case-1",
                      "m-1",
                      std::nullopt,
                      std::nullopt,
                      "Не зазначено місце проживання",
                      "ст. 5 Закону № 393/96-ВР"};
  auto r = roundTrip(buildNotice(env(), ret));
  BOOST_TEST(r.expansion->notice->kind == "return");
  BOOST_TEST(*r.expansion->notice->article == "ст. 5 Закону № 393/96-ВР");
  NoticeExpansion gone{"withdrawal", "case-1", std::nullopt, std::nullopt, std::nullopt, "Заявник відкликав звернення",
                       std::nullopt};
  BOOST_TEST(roundTrip(buildNotice(env(), gone)).expansion->notice->kind == "withdrawal");
}

BOOST_AUTO_TEST_CASE(a_notice_with_an_unknown_kind_fails_the_schema) {
  NoticeExpansion bad{"cancellation", "case-1", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  auto parsed = parsePackage(writePackage(buildNotice(env(), bad)));
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST((sevErrorOf(parsed.error()) == SevError::SchemaInvalid));
}

BOOST_AUTO_TEST_CASE(appeal_package_reads_back_into_the_same_case) {
  domain::Case c = appeal();
  c.applicant.patronymic = "Петрович";
  c.applicant.phone = "+380501234567";
  c.applicant.address = "м. Львів";
  c.attachments.push_back({"scan.pdf", "application/pdf", std::string("%PDF-1.4\0\x01", 10)});
  auto back = caseFromAppealPackage(roundTrip(buildAppealPackage(c, env())));
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(domain::caseKindName(back->kind) == std::string("info_request"));
  BOOST_TEST(back->applicant.surname == "Коваль");
  BOOST_TEST(back->applicant.first_name == "Іван");
  BOOST_TEST(back->applicant.patronymic == "Петрович");
  BOOST_TEST(back->applicant.email == "ivan@example.org");
  BOOST_TEST(back->applicant.phone == "+380501234567");
  BOOST_TEST(back->applicant.address == "м. Львів");
  BOOST_TEST(back->text == "Запит");
  BOOST_REQUIRE(back->attachments.size() == 1u);
  BOOST_TEST(back->attachments[0].file_name == "scan.pdf");
  BOOST_TEST(back->attachments[0].media_type == "application/pdf");
  BOOST_TEST(back->attachments[0].content == c.attachments[0].content);
  BOOST_TEST(*back->classification.topic == "010");
  BOOST_TEST((back->urgency == domain::Urgency::Urgent));
  BOOST_TEST(back->priority);
  BOOST_TEST(back->received_at == "2026-11-28T09:00:00Z");
}

BOOST_AUTO_TEST_CASE(appeal_from_another_edms_is_read_from_the_standard_zones) {
  // What a real EDMS sends: no Vkhid expansion; the kind from Document/@kind, the person from Author.
  domain::Case c = appeal();
  c.kind = domain::CaseKind::ViolenceReport;
  Header h = buildAppealPackage(c, env());
  h.expansion.reset();
  auto back = caseFromAppealPackage(roundTrip(h));
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(domain::caseKindName(back->kind) == std::string("violence_report"));
  BOOST_TEST(back->applicant.surname == "Коваль");
  BOOST_TEST(back->consent.disclose_identity);
  BOOST_TEST(back->received_at == "2026-11-28T10:00:00Z");  // the package's time

  // Nobody named: an anonymous appeal; no text and no title: refused with code 30.
  h.document->authors.clear();
  back = caseFromAppealPackage(h);
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(back->applicant.anonymous);
  h.document->transfers.clear();
  h.document->attrs.title.reset();
  auto refused = caseFromAppealPackage(h);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((sevErrorOf(refused.error()) == SevError::ElementMissing));
  BOOST_TEST(refused.error().message.find("DocTransfer") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
