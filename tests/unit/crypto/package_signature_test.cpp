#define BOOST_TEST_MODULE unit_crypto
#include <boost/test/unit_test.hpp>

#include "gateway/crypto/cms.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/seal.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;
using namespace vkhid::testing;
using sev::SevError;

namespace {

// An appeal package from the UCC to p1, attachments signed and sealed by the UCC.
std::string sealedAppeal(const std::string& seal_with = "ucc-seal") {
  auto signer = signerOf(seal_with);
  auto h = sev::buildAppealPackage(sampleCase(), envelopeFromUcc());
  BOOST_REQUIRE(crypto::signAttachments(h, signer).ok());
  auto bytes = crypto::sealedPackage(h, signer);
  BOOST_REQUIRE_MESSAGE(bytes.ok(), (bytes.ok() ? "" : bytes.error().message));
  return *bytes;
}

std::vector<SevError> codes(const crypto::PackageReport& r) {
  std::vector<SevError> out;
  for (const auto& f : r.findings) out.push_back(sev::sevErrorOf(f).value_or(SevError::None));
  return out;
}

bool has(const crypto::PackageReport& r, SevError code) {
  auto c = codes(r);
  return std::find(c.begin(), c.end(), code) != c.end();
}

std::string replaceOnce(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "not found: " << from);
  return s.replace(at, from.size(), to);
}

std::string describeFindings(const crypto::PackageReport& r) {
  std::string s;
  for (const auto& f : r.findings) s += f.code + " " + f.message + "\n";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(package_signatures)

BOOST_AUTO_TEST_CASE(sealed_appeal_package_verifies_completely) {
  auto bytes = sealedAppeal();
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(report.ok(), describeFindings(report));
  BOOST_TEST(report.seal.valid());
  BOOST_TEST(report.seal.signer_org_id == kUccOrg);
  BOOST_REQUIRE_EQUAL(report.attachments.size(), 2u);  // the text and the photo
  for (const auto& a : report.attachments) BOOST_TEST(a.verdict.valid());
  BOOST_TEST(bytes.find("<va:Appeal") != std::string::npos);
  BOOST_TEST(bytes.find("Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rsa_keys_are_accepted_too) {
  // rsa-seal is p1's: a reply from p1 sealed with RSA.
  auto signer = signerOf("rsa-seal");
  sev::Envelope env{participantParty(kP1Org), uccParty(), "5e0f7c1a-1b2c-4d3e-8f90-a1b2c3d4e5f6",
                    formatIsoUtc(std::time(nullptr))};
  sev::ReplyContent reply{
      "r-1", {"01-15/77", "2026-11-29", {}}, {"УКЦ-2026-0000123", "2026-11-28", {}}, "7b2f", "Відповідь", {}};
  auto h = sev::buildReply(env, reply);
  BOOST_REQUIRE(crypto::signAttachments(h, signer).ok());
  auto bytes = crypto::sealedPackage(h, signer);
  BOOST_REQUIRE(bytes.ok());
  auto report = crypto::verifyPackage(*bytes, devTrust());
  BOOST_TEST(report.ok(), describeFindings(report));
  BOOST_TEST(report.seal.algorithm.find("rsa-sha256") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_byte_in_a_header_attribute_breaks_the_seal) {
  auto bytes = replaceOnce(sealedAppeal(), "to_org_id=\"99999911\"", "to_org_id=\"99999912\"");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::SealInvalid), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(one_byte_in_an_attachment_breaks_its_signature_and_the_seal) {
  auto bytes = sealedAppeal();
  // The photo's base64 ("/9j/4…" is FF D8 FF E0): change its first character.
  bytes = replaceOnce(bytes, ">/9j/", ">/9k/");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::AttachmentSignatureInvalid), describeFindings(report));
  BOOST_TEST(has(report, SevError::SealInvalid));
  BOOST_TEST(report.findings.size() == 2u);
  BOOST_TEST(report.findings.at(1).message.find("idnumber=2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_byte_in_the_appeal_expansion_breaks_the_seal) {
  auto bytes = replaceOnce(sealedAppeal(), "topic=\"004\"", "topic=\"005\"");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::SealInvalid), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(one_byte_in_the_signature_value_breaks_the_seal) {
  auto bytes = sealedAppeal();
  auto at = bytes.find("<ds:SignatureValue>");
  BOOST_REQUIRE(at != std::string::npos);
  at += std::strlen("<ds:SignatureValue>") + 5;
  bytes[at] = bytes[at] == 'A' ? 'B' : 'A';
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::SealInvalid), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(seal_by_another_organisation_is_refused) {
  // p2's genuine seal on a package that says it comes from the UCC.
  auto report = crypto::verifyPackage(sealedAppeal("p2-seal"), devTrust());
  BOOST_TEST(has(report, SevError::SignerNotSender), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(configured_mapping_names_the_organisation) {
  // A participant whose certificate names no (or another) EDRPOU code: the mapping by fingerprint decides.
  auto trust = devTrust();
  auto p2 = signerOf("p2-seal");
  trust.mapOrganization(crypto::describe(p2.certificate()).sha256, kUccOrg);
  auto report = crypto::verifyPackage(sealedAppeal("p2-seal"), trust);
  BOOST_TEST(report.ok(), describeFindings(report));
  BOOST_TEST(report.seal.signer_org_id == kUccOrg);
}

BOOST_AUTO_TEST_CASE(seal_from_an_untrusted_ca_is_refused) {
  auto report = crypto::verifyPackage(sealedAppeal("rogue-seal"), devTrust());
  BOOST_TEST(has(report, SevError::SignerUntrusted), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(seal_by_an_expired_certificate_is_refused) {
  auto report = crypto::verifyPackage(sealedAppeal("expired-seal"), devTrust());
  BOOST_TEST(has(report, SevError::CertificateNotValidAtSigning), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(two_seals_are_refused) {
  auto bytes = sealedAppeal();
  auto begin = bytes.find("<ds:Signature");
  auto end = bytes.find("</ds:Signature>") + std::strlen("</ds:Signature>");
  std::string seal = bytes.substr(begin, end - begin);
  bytes.insert(end, seal);
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::SealDuplicated), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(seal_over_a_moved_copy_is_refused) {
  // Signature wrapping: the Reference points at a copy of the signed content, not the document.
  auto bytes = replaceOnce(sealedAppeal(), "<ds:Reference URI=\"\">", "<ds:Reference URI=\"#signed-copy\">");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_TEST(has(report, SevError::SealReferenceNotWhole), describeFindings(report));
  BOOST_TEST(!report.seal.valid());
}

BOOST_AUTO_TEST_CASE(reseal_replaces_the_old_seal) {
  auto once = sealedAppeal();
  auto again = crypto::resealPackage(once, signerOf("ucc-seal"));
  BOOST_REQUIRE(again.ok());
  std::size_t seals = 0;
  for (auto at = again->find("<ds:Signature "); at != std::string::npos; at = again->find("<ds:Signature ", at + 1)) {
    ++seals;
  }
  BOOST_TEST(seals == 1u);  // the old seal replaced, not added to
  auto report = crypto::verifyPackage(*again, devTrust());
  BOOST_TEST(report.ok(), describeFindings(report));
}

BOOST_AUTO_TEST_CASE(restricted_case_without_consent_carries_no_identity) {
  auto c = sampleCase();
  c.kind = domain::CaseKind::ViolenceReport;
  c.consent.disclose_identity = false;
  auto bytes = sev::writePackage(sev::buildAppealPackage(c, envelopeFromUcc()));
  BOOST_TEST(bytes.find("Шевченко") == std::string::npos);
  BOOST_TEST(bytes.find("olena@example.org") == std::string::npos);
  BOOST_TEST(bytes.find("<Confident flag=\"1\"") != std::string::npos);
  BOOST_TEST(bytes.find("restricted=\"true\"") != std::string::npos);
  // With consent, a restricted case names the applicant but still carries no contacts.
  c.consent.disclose_identity = true;
  auto named = sev::writePackage(sev::buildAppealPackage(c, envelopeFromUcc()));
  BOOST_TEST(named.find("Шевченко") != std::string::npos);
  BOOST_TEST(named.find("olena@example.org") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(real_dstu_signatures_are_unsupported_never_valid) {
  auto bytes = readFile(sharedDir() + "/interop/sev-ovv-1.5/samples/ds01-doc-for-execution.xml");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_REQUIRE(report.header.has_value());
  BOOST_REQUIRE_EQUAL(report.attachments.size(), 1u);
  const auto& v = report.attachments[0].verdict;
  BOOST_TEST(crypto::signatureStateName(v.state) == std::string("unsupported-algorithm"));
  BOOST_TEST(v.detail.find("1.2.804.2.1.1.1") != std::string::npos);
  BOOST_TEST(has(report, SevError::AttachmentSignatureUnsupported));

  crypto::VerifyOptions lenient;
  lenient.allow_unsupported = true;
  BOOST_TEST(crypto::verifyPackage(bytes, devTrust(), lenient).ok());
}

BOOST_AUTO_TEST_CASE(real_dstu_p7s_shows_its_signer) {
  auto content = readFile(sharedDir() + "/interop/sev-ovv-1.5/signed/blanche.docx");
  auto p7s = readFile(sharedDir() + "/interop/sev-ovv-1.5/signed/blanche.docx.p7s");
  auto v = crypto::verifyDetached(content, p7s, devTrust(), "");
  BOOST_TEST(crypto::signatureStateName(v.state) == std::string("unsupported-algorithm"));
  BOOST_TEST(v.signer_subject.find("issuer") != std::string::npos);
  BOOST_TEST(v.signer_subject.find("NTRUA-00015622") != std::string::npos);
  BOOST_TEST_MESSAGE("DSTU signer: " << v.signer_subject);
}

BOOST_AUTO_TEST_SUITE_END()
