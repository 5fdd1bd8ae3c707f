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
