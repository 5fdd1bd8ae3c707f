// Vkhid's packages against the stock tools participants and auditors have: xmlsec1, openssl cms,
// xmllint with the published schema; and the `vkhid package` command-line contract.
#define BOOST_TEST_MODULE interop_package
#include <sys/wait.h>
#include <boost/test/unit_test.hpp>

#include "gateway/crypto/package.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;
using namespace vkhid::testing;

namespace {

struct Run {
  int status;
  std::string output;
};

// Runs a shell command, capturing stdout and stderr together.
Run run(const std::string& command) {
  std::string out_file = varDir() + "/cmd.out";
  int rc = std::system((command + " >" + out_file + " 2>&1").c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, readFile(out_file)};
}

std::string sealedAppealFile() {
  auto signer = signerOf("ucc-seal");
  auto h = sev::buildAppealPackage(sampleCase(), envelopeFromUcc());
  BOOST_REQUIRE(crypto::signAttachments(h, signer).ok());
  auto bytes = crypto::sealedPackage(h, signer);
  BOOST_REQUIRE(bytes.ok());
  std::string path = varDir() + "/sealed-appeal.xml";
  writeFile(path, *bytes);
  return path;
}

const char* kTemplateSeal =
    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
    "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
    "<ds:Reference URI=\"\"><ds:Transforms>"
    "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
    "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms>"
    "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference>"
    "</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>"
    "</ds:Signature>";

}  // namespace

BOOST_AUTO_TEST_SUITE(interop)

BOOST_AUTO_TEST_CASE(vkhid_seal_verifies_with_stock_xmlsec1) {
  auto path = sealedAppealFile();
  auto r = run("xmlsec1 --verify --trusted-pem " + pkiDir() + "/ca.pem --enabled-reference-uris empty " + path);
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("OK") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(xmlsec1_seal_from_a_template_verifies_in_vkhid) {
  // An EDMS that seals with the stock tool: the UCC's own key here, so the sender matches.
  auto h = sev::buildAppealPackage(sampleCase(), envelopeFromUcc());
  auto bytes = sev::writePackage(h);
  auto at = bytes.find("</Expansion>");
  BOOST_REQUIRE(at != std::string::npos);
  bytes.insert(at, kTemplateSeal);
  std::string tmpl = varDir() + "/template.xml", signed_path = varDir() + "/xmlsec1-signed.xml";
  writeFile(tmpl, bytes);
  auto r = run("xmlsec1 --sign --privkey-pem " + pkiDir() + "/ucc-seal.key," + pkiDir() + "/ucc-seal.pem --output " +
               signed_path + " " + tmpl);
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  auto report = crypto::verifyPackage(readFile(signed_path), devTrust());
  BOOST_TEST(report.seal.valid(), report.seal.detail);
  BOOST_TEST(report.seal.signer_org_id == kUccOrg);
}

BOOST_AUTO_TEST_CASE(attachment_signatures_verify_with_openssl_cms) {
  auto signer = signerOf("ucc-seal");
  auto h = sev::buildAppealPackage(sampleCase(), envelopeFromUcc());
  BOOST_REQUIRE(crypto::signAttachments(h, signer).ok());
  // Through the wire format and back, as a participant would receive it.
  auto parsed = sev::parsePackage(*crypto::sealedPackage(h, signer));
  BOOST_REQUIRE(parsed.ok());
  for (const auto& info : parsed->expansion->sign_infos) {
    const sev::DocTransfer* transfer = nullptr;
    for (const auto* t : crypto::allTransfers(*parsed)) {
      if (t->idnumber == info.doc_transfer_idnumber) transfer = t;
    }
    BOOST_REQUIRE(transfer != nullptr);
    std::string content = varDir() + "/att-" + info.doc_transfer_idnumber;
    std::string sig = content + ".p7s";
    writeFile(content, transfer->content);
    writeFile(sig, info.sign_data);
    auto r = run("openssl cms -verify -binary -inform DER -in " + sig + " -content " + content + " -CAfile " +
                 pkiDir() + "/ca.pem -purpose any -out /dev/null");
    BOOST_TEST(r.status == 0, "attachment " << info.doc_transfer_idnumber << ": " << r.output);
    BOOST_TEST(r.output.find("Verification successful") != std::string::npos);
    // CAdES-BES: the signed attributes carry signing-certificate-v2.
    auto attrs = run("openssl cms -cmsout -print -inform DER -in " + sig);
    BOOST_TEST(attrs.output.find("signingCertificateV2") != std::string::npos);
    BOOST_TEST(attrs.output.find("signingTime") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(built_packages_validate_against_the_published_schema) {
  auto path = sealedAppealFile();
  auto r = run("xmllint --noout --schema " + dataDir() + "/sev-ovv-1.5/xsd/Header.xsd " + path);
  BOOST_TEST(r.status == 0, r.output);
  sev::Envelope env = envelopeFromUcc();
  for (auto type :
       {sev::AckType::Delivered, sev::AckType::Accepted, sev::AckType::Registered, sev::AckType::Rejected}) {
    auto receipt = sev::buildReceipt(env, "m-1", type, sev::RegNumber{"01-15/7", "2026-11-28", {}},
                                     sev::Rejection{132, "Не належить до компетенції"});
    writeFile(varDir() + "/receipt.xml", sev::writePackage(receipt));
    auto v = run("xmllint --noout --schema " + dataDir() + "/sev-ovv-1.5/xsd/Header.xsd " + varDir() + "/receipt.xml");
    BOOST_TEST(v.status == 0, "ack_type " << static_cast<int>(type) << ": " << v.output);
  }
}

BOOST_AUTO_TEST_CASE(cli_verify_exit_codes_and_findings) {
  std::string vkhid = binaryPath();
  auto path = sealedAppealFile();
  auto good = run(vkhid + " package verify " + path + " --trust " + pkiDir());
  BOOST_TEST(good.status == 0, good.output);

  auto tampered = readFile(path);
  auto at = tampered.find("channel=\"web\"");
  tampered.replace(at, 13, "channel=\"bot\"");
  writeFile(varDir() + "/tampered.xml", tampered);
  auto bad = run(vkhid + " package verify " + varDir() + "/tampered.xml --trust " + pkiDir());
  BOOST_TEST(bad.status == 1);
  BOOST_TEST(bad.output.find("error 111: ") == 0u, bad.output);

  auto unreadable = run(vkhid + " package verify /no/such/file --trust " + pkiDir());
  BOOST_TEST(unreadable.status == 2);
  auto no_trust = run(vkhid + " package verify " + path);
  BOOST_TEST(no_trust.status == 2);

  // A real 2015 package, its attachment DSTU-signed: untrusted under our CA (1); under the real providers'
  // certificates, indeterminate now (3: expired, nothing proves when it signed); valid at a time chosen.
  auto dstu = dataDir() + "/sev-ovv-1.5/samples/ds07-reply-to-execution.xml";
  auto real = dataDir() + "/ua-qualified/certs";
  auto untrusted = run(vkhid + " package verify " + dstu + " --trust " + pkiDir());
  BOOST_TEST(untrusted.status == 1, untrusted.output);
  BOOST_TEST(untrusted.output.find("error 114") != std::string::npos, untrusted.output);
  auto now = run(vkhid + " package verify " + dstu + " --trust " + real);
  BOOST_TEST(now.status == 3, now.output);
  BOOST_TEST(now.output.find("error 119") != std::string::npos, now.output);
  auto then = run(vkhid + " package verify " + dstu + " --trust " + real + " --at 2015-09-08T14:00:00Z");
  BOOST_TEST(then.status == 0, then.output);
  BOOST_TEST(then.output.find("judged at   2015-09-08T14:00:00Z (the time asked for)") != std::string::npos,
             then.output);
  // The switch that let them in unchecked is gone.
  BOOST_TEST(run(vkhid + " package verify " + dstu + " --trust " + pkiDir() + " --allow-unsupported").status != 0);
}

BOOST_AUTO_TEST_CASE(cli_build_seal_and_inspect) {
  std::string vkhid = binaryPath();
  std::string built = varDir() + "/built.xml";
  auto b = run(vkhid + " package build --case " + sourceDir() + "/config/examples/case-appeal.json --key " + pkiDir() +
               "/ucc-seal.key --cert " + pkiDir() + "/ucc-seal.pem --to 99999911 --to-name 'Учасник 1'");
  BOOST_REQUIRE_MESSAGE(b.status == 0, b.output);
  writeFile(built, b.output);
  BOOST_TEST(run(vkhid + " package verify " + built + " --trust " + pkiDir()).status == 0);

  // Re-sealing with a participant's key makes the seal speak for another organisation than the sender.
  auto s =
      run(vkhid + " package seal " + built + " --key " + pkiDir() + "/p1-seal.key --cert " + pkiDir() + "/p1-seal.pem");
  BOOST_REQUIRE(s.status == 0);
  writeFile(varDir() + "/resealed.xml", s.output);
  auto v = run(vkhid + " package verify " + varDir() + "/resealed.xml --trust " + pkiDir());
  BOOST_TEST(v.status == 1);
  BOOST_TEST(v.output.find("error 115: ") != std::string::npos, v.output);

  auto j = run(vkhid + " package inspect " + built + " --trust " + pkiDir() + " --json");
  BOOST_TEST(j.status == 0);
  BOOST_TEST(j.output.find("\"msg_type\":1") != std::string::npos, j.output);
  BOOST_TEST(j.output.find("\"seal\":{\"state\":\"valid\"") != std::string::npos, j.output);
}

BOOST_AUTO_TEST_SUITE_END()

// The qualified-signature commands as an operator and an auditor run them.
BOOST_AUTO_TEST_SUITE(interop_qualified)

BOOST_AUTO_TEST_CASE(qualified_signature_verify_cli_gives_each_reason_and_its_exit_code) {
  const std::string vkhid = binaryPath(), sigs = dataDir() + "/ua-qualified/signatures/";
  const std::string trust =
      " --trust " + dataDir() + "/ua-qualified/certs/CACertificates.p7b," + dataDir() + "/ua-qualified/certs";
  // ds05 (2015): the mathematics hold, the certificate has expired and nothing proves when: 3.
  auto now = run(vkhid + " signature verify " + sigs + "ds05.p7s --content " + sigs + "ds05.doc197.bin" + trust);
  BOOST_TEST(now.status == 3, now.output);
  for (const char* line : {"verdict:    expired-no-proof-of-time", "digest:     match",
                           "signature:  DSTU 4145 with GOST 34.311, valid", "(now)", "Шурек"}) {
    BOOST_TEST(now.output.find(line) != std::string::npos, line << " in " << now.output);
  }
  // The same, judged at a time the auditor chooses: valid, 0, and it says so.
  auto then = run(vkhid + " signature verify " + sigs + "ds05.p7s --content " + sigs + "ds05.doc197.bin" + trust +
                  " --at 2015-09-08T14:00:00Z");
  BOOST_TEST(then.status == 0, then.output);
  BOOST_TEST(then.output.find("judged at:  2015-09-08T14:00:00Z (the time asked for)") != std::string::npos,
             then.output);
  BOOST_TEST(then.output.find("chain:      trusted") != std::string::npos, then.output);
  // ds01: a digest mismatch, 1.
  auto ds01 = run(vkhid + " signature verify " + sigs + "ds01.p7s --content " + sigs + "ds01.doc190.bin" + trust);
  BOOST_TEST(ds01.status == 1, ds01.output);
  BOOST_TEST(ds01.output.find("digest:     mismatch") != std::string::npos, ds01.output);
  // blanche: no signer certificate anywhere — not checkable (3); its content time-stamp valid.
  auto blanche = run(vkhid + " signature verify " + dataDir() + "/sev-ovv-1.5/signed/blanche.docx.p7s --content " +
                     dataDir() + "/sev-ovv-1.5/signed/blanche.docx" + trust);
  BOOST_TEST(blanche.status == 3, blanche.output);
  BOOST_TEST(blanche.output.find("verdict:    not-checkable") != std::string::npos, blanche.output);
  BOOST_TEST(blanche.output.find("time-stamp: content, valid at 2020-02-12T15:10:33Z") != std::string::npos,
             blanche.output);
  // JSON for tools, and bad use is 2.
  auto json =
      run(vkhid + " signature verify " + sigs + "ds05.p7s --content " + sigs + "ds05.doc197.bin" + trust + " --json");
  BOOST_TEST(json.output.find("\"state\":\"expired-no-proof-of-time\"") != std::string::npos, json.output);
  BOOST_TEST(run(vkhid + " signature verify " + sigs + "ds05.p7s --content /no/such" + trust).status == 2);
  BOOST_TEST(run(vkhid + " signature verify " + sigs + "ds05.p7s --content " + sigs + "ds05.doc197.bin" + trust +
                 " --at yesterday")
                 .status == 2);
}

BOOST_AUTO_TEST_CASE(qualified_crypto_selftest_cli_agrees_and_counts_a_disagreement) {
  const std::string vkhid = binaryPath();
  auto builtin = run(vkhid + " crypto selftest");
  BOOST_TEST(builtin.status == 0, builtin.output);
  BOOST_TEST(builtin.output.find(" agree") != std::string::npos);
  const std::string vectors = dataDir() + "/ua-qualified/vectors/dstu4145-le-jkurwa.txt";
  auto all = run(vkhid + " crypto selftest --vectors " + vectors);
  BOOST_TEST(all.status == 0, all.output);
  BOOST_TEST(all.output.find("selftest: 220 of 220 agree") != std::string::npos, all.output);
  // One expectation turned round: the tool disagrees there, says where, and fails.
  std::string text = readFile(vectors);
  text[text.find(" 1\n") + 1] = '0';
  writeFile(varDir() + "/vectors.txt", text);
  auto one_off = run(vkhid + " crypto selftest --vectors " + varDir() + "/vectors.txt");
  BOOST_TEST(one_off.status == 1, one_off.output);
  BOOST_TEST(one_off.output.find("selftest: 219 of 220 agree") != std::string::npos, one_off.output);
  BOOST_TEST(one_off.output.find("disagrees: line 1: expected 0, got 1") != std::string::npos, one_off.output);
}

BOOST_AUTO_TEST_CASE(qualified_trust_show_cli_lists_the_bundle_by_provider_key_and_validity) {
  auto shown = run(binaryPath() + " trust show " + dataDir() + "/ua-qualified/certs/CACertificates.p7b");
  BOOST_TEST(shown.status == 0, shown.output.substr(0, 400));
  BOOST_TEST(shown.output.find("771 certificates (480 DSTU 4145, 143 ECDSA, 148 RSA;") != std::string::npos,
             shown.output.substr(0, 400));
  BOOST_TEST(shown.output.find("ДП \"ДІЯ\"") != std::string::npos);
  BOOST_TEST(shown.output.find("(not valid now)") != std::string::npos);
  auto json = run(binaryPath() + " trust show --json " + dataDir() + "/ua-qualified/certs/CACertificates.p7b");
  BOOST_TEST(json.output.find("\"certificates\":771") != std::string::npos);
  BOOST_TEST(run(binaryPath() + " trust show " + varDir() + "/cmd.out").status == 2);
}

BOOST_AUTO_TEST_SUITE_END()
