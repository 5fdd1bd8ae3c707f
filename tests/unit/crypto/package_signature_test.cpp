#define BOOST_TEST_MODULE unit_crypto
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <functional>
#include <set>

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gateway/crypto/cms.hpp"
#include "gateway/crypto/der.hpp"
#include "gateway/crypto/known_certificates.hpp"
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
  // Judged now (the Header's time is the sender's word): expired, and nothing proves it sealed before.
  auto report = crypto::verifyPackage(sealedAppeal("expired-seal"), devTrust());
  BOOST_TEST(has(report, SevError::CertificateExpiredNoProof), describeFindings(report));
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

BOOST_AUTO_TEST_CASE(real_dstu_package_whose_digest_does_not_match_is_refused) {
  // ds01's attachment signature is DSTU 4145: checked now, not let in unchecked — and its messageDigest
  // is not the document's GOST 34.311 digest.
  auto bytes = readFile(dataDir() + "/sev-ovv-1.5/samples/ds01-doc-for-execution.xml");
  auto report = crypto::verifyPackage(bytes, devTrust());
  BOOST_REQUIRE(report.header.has_value());
  BOOST_REQUIRE_EQUAL(report.attachments.size(), 1u);
  const auto& v = report.attachments[0].verdict;
  BOOST_TEST(crypto::signatureStateName(v.state) == std::string("invalid"));
  BOOST_TEST(v.detail.find("messageDigest") != std::string::npos, v.detail);
  BOOST_TEST(has(report, SevError::AttachmentSignatureInvalid));
  BOOST_TEST(!report.ok());
}

BOOST_AUTO_TEST_CASE(attachment_signature_has_the_signed_attributes_of_a_real_one) {
  // A real CAdES signature from a Ukrainian signing tool signs its content type, message digest,
  // signing time and signing certificate (v2) — and a content time-stamp, which ours leave to the
  // evidence log's time-stamps. Ours sign the same four and nothing else.
  auto attributes = [](const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size()));
    BOOST_REQUIRE(cms != nullptr);
    std::set<int> nids;
    auto* infos = CMS_get0_SignerInfos(cms);
    BOOST_REQUIRE_EQUAL(sk_CMS_SignerInfo_num(infos), 1);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
    for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
      nids.insert(OBJ_obj2nid(X509_ATTRIBUTE_get0_object(CMS_signed_get_attr(si, i))));
    }
    CMS_ContentInfo_free(cms);
    return nids;
  };
  auto ours = crypto::signDetached("Звернення громадянина", signerOf("ucc-seal"));
  BOOST_REQUIRE(ours.ok());
  auto real = attributes(readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx.p7s"));
  BOOST_REQUIRE(real.erase(NID_id_smime_aa_ets_contentTimestamp) == 1);
  const std::set<int> expected{NID_pkcs9_contentType, NID_pkcs9_messageDigest, NID_pkcs9_signingTime,
                               NID_id_smime_aa_signingCertificateV2};
  BOOST_TEST((real == expected));
  BOOST_TEST((attributes(ours->der) == expected));
}

// Every element of two DER encodings, depth first, as "tag:content" for a primitive one; `skip` the
// primitive elements whose values are allowed to differ (their tags still compared).
std::vector<std::string> derElements(std::string_view der, const std::set<std::size_t>& skip = {}) {
  std::vector<std::string> out;
  std::function<void(std::string_view)> walk = [&](std::string_view in) {
    while (!in.empty()) {
      auto n = crypto::der::read(in, &in);
      BOOST_REQUIRE(n.ok());
      if (n->constructed()) {
        out.push_back(std::to_string(n->tag) + "{");
        walk(n->content);
        out.push_back("}");
      } else {
        out.push_back(std::to_string(n->tag) + ":" + (skip.count(out.size()) ? "" : std::string(n->content)));
      }
    }
  };
  walk(der);
  return out;
}

BOOST_AUTO_TEST_CASE(an_attachments_signature_is_the_one_openssls_cms_makes_but_for_its_time_and_signature) {
  // A file signer encodes its signatures' fixed parts once and builds each signature itself; what it
  // makes must be, element by element, what OpenSSL's CMS_sign makes of the same key and file — but for
  // the signing time (a second may pass between the two) and the signature value (ECDSA's is random) —
  // and both must verify. For EC and RSA keys, and for a signer that sends another certificate along.
  const std::string two = varDir() + "/ucc-seal-and-p1.pem";
  {
    std::ofstream f(two);
    f << readFile(pkiDir() + "/ucc-seal.pem") << readFile(pkiDir() + "/p1-seal.pem");
  }
  struct Case {
    std::string key, cert, org;
  };
  for (const Case& c :
       {Case{"ucc-seal", "ucc-seal", kUccOrg}, Case{"rsa-seal", "rsa-seal", kP1Org}, Case{"ucc-seal", two, kUccOrg}}) {
    BOOST_TEST_CONTEXT(c.key << " with " << c.cert) {
      auto signer =
          crypto::FileSigner::load(pkiDir() + "/" + c.key + ".key",
                                   c.cert.find('/') == std::string::npos ? pkiDir() + "/" + c.cert + ".pem" : c.cert);
      BOOST_REQUIRE(signer.ok());
      const std::string file = "Звернення громадянина: додаток";
      auto ours = signer->signCms(file);
      auto openssl = crypto::signDetached(file, *signer);
      BOOST_REQUIRE(ours.ok());
      BOOST_REQUIRE(openssl.ok());
      auto theirs = derElements(openssl->der);
      // The signing time's value and the signature's: the only primitives allowed to differ.
      std::set<std::size_t> skip;
      const std::string signing_time =
          std::to_string(crypto::der::kOid) + ":" + crypto::der::encodeOid("1.2.840.113549.1.9.5").substr(2);
      for (std::size_t i = 0, after = 0; i < theirs.size(); ++i) {
        if (theirs[i] == signing_time) after = i;
        if (after > 0 && theirs[i].starts_with(std::to_string(crypto::der::kUtcTime) + ":")) {
          skip.insert(i);
          break;
        }
      }
      for (std::size_t i = theirs.size(); i-- > 0;) {
        if (theirs[i].starts_with(std::to_string(crypto::der::kOctetString) + ":")) {
          skip.insert(i);
          break;
        }
      }
      BOOST_REQUIRE_EQUAL(skip.size(), 2u);
      auto a = derElements(ours->der, skip), b = derElements(openssl->der, skip);
      BOOST_TEST(a == b, boost::test_tools::per_element());
      BOOST_TEST(ours->certificate == openssl->certificate);
      BOOST_TEST(ours->signing_time.size() == openssl->signing_time.size());
      for (const auto* sig : {&*ours, &*openssl}) {
        auto v = crypto::verifyDetached(file, sig->der, devTrust(), c.org);
        BOOST_TEST(v.valid(), v.detail);
        BOOST_TEST(!crypto::verifyDetached(file + ".", sig->der, devTrust(), c.org).valid());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(real_dstu_p7s_shows_its_signer) {
  auto content = readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx");
  auto p7s = readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx.p7s");
  auto v = crypto::verifyDetached(content, p7s, devTrust(), "");
  BOOST_TEST(crypto::signatureStateName(v.state) == std::string("not-checkable"));
  BOOST_TEST(v.signer_subject.find("issuer") != std::string::npos);
  BOOST_TEST(v.signer_subject.find("NTRUA-00015622") != std::string::npos);
  BOOST_TEST_MESSAGE("DSTU signer: " << v.signer_subject);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

crypto::X509Ptr certificateOf(const std::string& name) {
  auto certs = crypto::certificatesFromPem(readFile(pkiDir() + "/" + name + ".pem"));
  BOOST_REQUIRE(certs.ok());
  return std::move(certs->front());
}

std::time_t timeOf(const ASN1_TIME* t) {
  std::tm tm{};
  BOOST_REQUIRE(ASN1_TIME_to_tm(t, &tm) == 1);
  return timegm(&tm);
}

// A CRL of the development CA revoking `cert`, as the CA's operator would publish it.
std::string crlRevoking(X509* cert) {
  auto ca = certificateOf("ca");
  auto key = crypto::privateKeyFromPem(readFile(pkiDir() + "/ca.key"));
  BOOST_REQUIRE(key.ok());
  std::unique_ptr<X509_CRL, crypto::OsslDeleter<X509_CRL, X509_CRL_free>> crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get()));
  std::unique_ptr<ASN1_TIME, crypto::OsslDeleter<ASN1_TIME, ASN1_TIME_free>> now(
      ASN1_TIME_set(nullptr, std::time(nullptr)));
  std::unique_ptr<ASN1_TIME, crypto::OsslDeleter<ASN1_TIME, ASN1_TIME_free>> next(
      ASN1_TIME_set(nullptr, std::time(nullptr) + 30 * 86400));
  X509_CRL_set1_lastUpdate(crl.get(), now.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  X509_REVOKED* revoked = X509_REVOKED_new();
  X509_REVOKED_set_serialNumber(revoked, X509_get_serialNumber(cert));
  X509_REVOKED_set_revocationDate(revoked, now.get());
  X509_CRL_add0_revoked(crl.get(), revoked);
  X509_CRL_sort(crl.get());
  BOOST_REQUIRE(X509_CRL_sign(crl.get(), key->get(), EVP_sha256()) > 0);
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// A self-signed certificate carrying `comment` (nsComment): as large as its sender wants.
std::string certificateWithComment(const std::string& comment) {
  crypto::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("comment"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_netscape_comment, comment.c_str());
  BOOST_REQUIRE(ext != nullptr);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  BOOST_REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return crypto::certificateToDer(cert.get());
}

}  // namespace

// Under load the same few certificates sign every package: their chains are built once and
// remembered, but never beyond what a fresh check would accept.
BOOST_AUTO_TEST_SUITE(chain_memory)

BOOST_AUTO_TEST_CASE(a_signer_verified_again_reuses_its_chain_and_another_signer_gets_its_own) {
  auto trust = devTrust();
  auto first = crypto::verifyPackage(sealedAppeal(), trust);
  BOOST_TEST(first.ok(), describeFindings(first));
  BOOST_TEST(trust.chainsBuilt() == 1u);  // the seal and both attachment signatures: one signer
  for (int i = 0; i < 3; ++i) BOOST_TEST(crypto::verifyPackage(sealedAppeal(), trust).ok());
  BOOST_TEST(trust.chainsBuilt() == 1u);

  BOOST_TEST(crypto::verifyPackage(sealedAppeal("p1-seal"), trust).seal.signer_org_id == kP1Org);
  BOOST_TEST(trust.chainsBuilt() == 2u);

  // A refusal is not remembered: each of an untrusted signer's three signatures is checked afresh
  // every time, and refused every time.
  for (std::size_t round = 1; round <= 2; ++round) {
    auto other = crypto::verifyPackage(sealedAppeal("rogue-seal"), trust);
    BOOST_TEST(has(other, SevError::SignerUntrusted), describeFindings(other));
    BOOST_TEST(trust.chainsBuilt() == 2u + 3u * round);
  }
}

BOOST_AUTO_TEST_CASE(a_remembered_chain_does_not_cover_a_time_outside_its_certificates) {
  auto trust = devTrust();
  auto cert = certificateOf("ucc-seal");
  const std::time_t not_after = timeOf(X509_get0_notAfter(cert.get()));
  const std::time_t not_before = timeOf(X509_get0_notBefore(cert.get()));
  BOOST_REQUIRE(trust.verifyChain(cert.get(), {}, std::time(nullptr)).ok());
  BOOST_REQUIRE(trust.verifyChain(cert.get(), {}, not_after).ok());  // the last second still counts
  BOOST_TEST(trust.chainsBuilt() == 1u);

  for (std::time_t at : {not_after + 1, not_before - 1}) {
    auto s = trust.verifyChain(cert.get(), {}, at);
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST((sev::sevErrorOf(s.error()).value_or(SevError::None) == SevError::CertificateNotValidAtSigning),
               s.error().message);
  }
  BOOST_TEST(trust.chainsBuilt() == 3u);
}

BOOST_AUTO_TEST_CASE(a_remembered_chain_is_still_checked_against_a_crl_loaded_later) {
  auto trust = devTrust();
  auto cert = certificateOf("ucc-seal");
  BOOST_REQUIRE(trust.verifyChain(cert.get(), {}, std::time(nullptr)).ok());
  BOOST_REQUIRE(trust.addCrl(crlRevoking(cert.get())).ok());
  auto s = trust.verifyChain(cert.get(), {}, std::time(nullptr));
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message.find("revoked") != std::string::npos, s.error().message);
  BOOST_TEST(trust.chainsBuilt() == 1u);  // refused from the remembered chain
  BOOST_TEST(trust.verifyChain(certificateOf("p1-seal").get(), {}, std::time(nullptr)).ok());  // not revoked
}

BOOST_AUTO_TEST_CASE(a_certificate_decoded_again_is_the_same_and_garbage_after_it_changes_nothing) {
  auto der = crypto::certificateToDer(certificateOf("p1-seal").get());
  auto a = crypto::knownCertificate(der);
  auto b = crypto::knownCertificate(der);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST(a->get() == b->get());  // decoded and described once, shared
  BOOST_TEST(X509_cmp((*a)->cert.get(), certificateOf("p1-seal").get()) == 0);
  BOOST_TEST((*b)->info.org_id == kP1Org);
  BOOST_TEST((*b)->info.sha256 == crypto::describe(certificateOf("p1-seal").get()).sha256);
  auto trailing = crypto::knownCertificate(der + "xyz");
  BOOST_REQUIRE(trailing.ok());
  BOOST_TEST(X509_cmp((*trailing)->cert.get(), (*a)->cert.get()) == 0);
  BOOST_TEST(trailing->get() != a->get());  // decoded, not kept: those bytes are not a certificate's
  BOOST_TEST(crypto::knownCertificate(der + "xyz")->get() != trailing->get());
  BOOST_TEST(!crypto::knownCertificate(der.substr(0, der.size() / 2)).ok());
  BOOST_TEST(!crypto::knownCertificate("").ok());
  BOOST_TEST(!crypto::certificateFromDer(der.substr(0, der.size() / 2)).ok());
}

BOOST_AUTO_TEST_CASE(a_certificate_larger_than_any_real_one_is_described_but_never_kept) {
  // A sender chooses what its KeyInfo or CMS carries, up to a package's 50 MiB: a memory that kept
  // whatever came would hold 1,024 of those. One over the bound is read at every sight, never kept.
  const auto big = certificateWithComment(std::string(40 * 1024, 'x'));
  BOOST_REQUIRE_GT(big.size(), crypto::kKnownCertificateBytes);
  const auto before = crypto::certificatesDecoded();
  auto a = crypto::knownCertificate(big);
  auto b = crypto::knownCertificate(big);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  BOOST_TEST((*a)->info.subject == "CN=comment");
  BOOST_TEST(a->get() != b->get());
  BOOST_TEST(crypto::certificatesDecoded() == before + 2);
  // One of a real certificate's size is kept.
  const auto small = certificateWithComment("x");
  BOOST_REQUIRE_LE(small.size(), crypto::kKnownCertificateBytes);
  BOOST_TEST(crypto::knownCertificate(small)->get() == crypto::knownCertificate(small)->get());
  BOOST_TEST(crypto::certificatesDecoded() == before + 3);
}

BOOST_AUTO_TEST_CASE(a_signers_certificate_is_read_once_and_its_trust_judged_every_time) {
  // Issue 25: a sender's packages all carry its certificate; describing it at every package was 3 % of
  // the gateway's CPU under load. It is read at its first package only — and whether it is trusted is not
  // remembered with it: a store that does not trust its CA refuses the next package all the same.
  auto bytes = sealedAppeal("p2-seal");
  auto trust = devTrust();
  trust.mapOrganization(crypto::describe(signerOf("p2-seal").certificate()).sha256, kUccOrg);
  auto first = crypto::verifyPackage(bytes, trust);
  BOOST_TEST(first.ok(), describeFindings(first));
  const auto decoded = crypto::certificatesDecoded();
  for (int i = 0; i < 5; ++i) {
    auto again = crypto::verifyPackage(sealedAppeal("p2-seal"), trust);
    BOOST_TEST(again.ok(), describeFindings(again));
    BOOST_TEST(again.seal.signer_subject == first.seal.signer_subject);
    BOOST_TEST(again.seal.signer_org_id == kUccOrg);
    BOOST_TEST(again.seal.qualified == first.seal.qualified);
    for (const auto& a : again.attachments) BOOST_TEST(a.verdict.signer_sha256 == first.seal.signer_sha256);
  }
  BOOST_TEST(crypto::certificatesDecoded() == decoded);  // the seal's and the attachments' certificate
  auto refused = crypto::verifyPackage(bytes, crypto::TrustStore());
  BOOST_TEST(has(refused, SevError::SignerUntrusted), describeFindings(refused));
  BOOST_TEST(!refused.seal.valid());
  BOOST_TEST(crypto::certificatesDecoded() == decoded);
}

BOOST_AUTO_TEST_SUITE_END()
