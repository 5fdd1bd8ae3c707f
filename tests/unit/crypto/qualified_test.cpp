// Real Ukrainian qualified signatures, as a participant's EDMS and an auditor would meet them: the
// GOST 34.311 and DSTU 4145 known answers, the real 2015 and 2020 signatures of the SEV OVV samples with
// the verdict each must get, real certificate chains, the published trust list, the time a signature is
// judged at, and every malformed structure an attacker could send.
#include <boost/test/unit_test.hpp>

#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <filesystem>

#include "gateway/crypto/cades.hpp"
#include "gateway/crypto/der.hpp"
#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/dstu_signer.hpp"
#include "gateway/crypto/gost34311.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/pkcs11_signer.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/crypto/selftest.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;
using namespace vkhid::testing;
using crypto::SignatureState;

namespace {

std::string qualifiedDir() { return dataDir() + "/ua-qualified"; }

// The real certificates, the IIT bundle of 771 among them: what a deployment configures as
// trust.qualified_lists.
const crypto::TrustStore& realTrust() {
  static const crypto::TrustStore trust = [] {
    auto t = crypto::TrustStore::fromPath(qualifiedDir() + "/certs");
    BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    return std::move(t).value();
  }();
  return trust;
}

crypto::X509Ptr certificate(const std::string& path) {
  auto c = crypto::certificateFromDer(readFile(path));
  BOOST_REQUIRE_MESSAGE(c.ok(), path);
  return std::move(c).value();
}

std::time_t at(const char* iso) {
  auto t = parseIsoDateTime(iso);
  BOOST_REQUIRE(t.has_value());
  return *t;
}

crypto::CadesVerdict verifyReal(const std::string& name, const std::string& content_file,
                                std::optional<std::time_t> when = std::nullopt) {
  crypto::CadesOptions options;
  options.at = when;
  return crypto::verifyCades(readFile(qualifiedDir() + "/signatures/" + content_file),
                             readFile(qualifiedDir() + "/signatures/" + name), realTrust(), options);
}

// The DSTU4145Params of a certificate's key (its SubjectPublicKeyInfo's algorithm parameters).
std::string keyParameters(const std::string& cert_der) {
  auto cert = crypto::der::readAll(cert_der);
  auto tbs = crypto::der::children(crypto::der::children(*cert)->at(0));
  auto spki = crypto::der::children(tbs->at(6));
  auto alg = crypto::der::children(spki->at(0));
  return std::string(alg->at(1).whole);
}

std::string littleEndian(const BIGNUM* v, int size) {
  std::string out(static_cast<std::size_t>(size), '\0');
  BN_bn2lebinpad(v, reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(qualified)

BOOST_AUTO_TEST_CASE(qualified_gost34311_known_answers) {
  // tests/data/reference/dstu4145.md, from the independent gost89 library.
  std::string bytes;
  for (int r = 0; r < 4; ++r) {
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  }
  const std::pair<std::string, std::string> answers[] = {
      {"abc", "a34a53504d8ba070cb73a583146167a0a3c226d793440d9cea24465fe02251f2"},
      {"message digest", "ab68a193346fd3e8d00865701ac06d591d18d57052470c51df7d71e0aaeb352a"},
      {std::string(32, 'U'), "1e121c48ee999ae0511688de86aac6c96724ee72b5e33f32e456c34c9901e787"},
      {"Suppose the original message has length = 50 bytes",
       "3087537a2bb2b9e986fddcc5ed136fd94ac29b9b5ad13f204a66fc631704f3ab"},
      {std::string(1000, 'a'), "cbcf156abfc976c81057b8ee424f3a7386d231eb4355ee56114b44444e4bb2bc"},
      {bytes, "79a790f892c1705839f4a1ba7861a6aecc81d5c70f54fe91bbb013ceba2a9756"},
      {readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx"),
       "1714b82bd99fcecba7fd3cfcbaf0357cd3cfccf2a473e320787efe1b69a63603"},
  };
  for (const auto& [input, digest] : answers) {
    BOOST_TEST(hexEncode(crypto::Gost34311::digest(input)) == digest, input.size() << " bytes");
  }
  // Fed in pieces of every size, the same digest as in one call.
  const std::string whole = readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx");
  for (std::size_t piece : {1u, 7u, 31u, 32u, 33u, 4096u}) {
    crypto::Gost34311 h;
    for (std::size_t i = 0; i < whole.size(); i += piece) h.update(std::string_view(whole).substr(i, piece));
    BOOST_TEST(hexEncode(h.final()) == "1714b82bd99fcecba7fd3cfcbaf0357cd3cfccf2a473e320787efe1b69a63603");
  }
}

BOOST_AUTO_TEST_CASE(qualified_dstu4145_agrees_with_all_220_independent_vectors) {
  auto result = crypto::selftestVectors(readFile(qualifiedDir() + "/vectors/dstu4145-le-jkurwa.txt"));
  BOOST_REQUIRE(result.ok());
  BOOST_TEST(result->total == 220);
  BOOST_TEST(result->agree == 220);
  for (const auto& d : result->disagreements) BOOST_TEST_MESSAGE(d);
  // The built-in known answers, as `vkhid crypto selftest` runs them.
  auto builtin = crypto::selftestBuiltin();
  BOOST_TEST(builtin.ok());
  BOOST_TEST(builtin.total >= 20);
}

BOOST_AUTO_TEST_CASE(qualified_real_2015_signatures_are_expired_without_proof_by_default) {
  // The certificate was valid 2014-11-09 – 2015-11-09 and nothing proves when these were made: the
  // mathematics hold, the verdict is indeterminate — never "valid", never "invalid".
  for (auto [sig, doc] : {std::pair{"ds05.p7s", "ds05.doc197.bin"},
                          {"ds06.p7s", "ds06.doc199.bin"},
                          {"ds07.p7s", "ds07.doc207.bin"},
                          {"ds12.p7s", "ds12.doc205.bin"}}) {
    auto v = verifyReal(sig, doc);
    BOOST_TEST(v.digest == "match", sig);
    BOOST_TEST(crypto::signatureStateName(v.signature.state) == std::string("expired-no-proof-of-time"), sig);
    BOOST_TEST((v.signature.code == sev::SevError::CertificateExpiredNoProof), sig);
    BOOST_TEST(v.signature.detail.find("signature and digest valid") != std::string::npos, v.signature.detail);
    BOOST_TEST(v.signature.detail.find("no proof the signature existed before") != std::string::npos);
    BOOST_TEST(v.exitCode() == 3);
    BOOST_TEST(v.signature.judged_by == "now");
    BOOST_TEST(v.signature.signer_subject.find("Шурек") != std::string::npos, v.signature.signer_subject);
    BOOST_TEST(v.signature.key.find("m = 257") != std::string::npos, v.signature.key);
    // The signing time the signer states is shown, and not relied on.
    BOOST_TEST(v.signature.signing_time.starts_with("2015-"), v.signature.signing_time);
  }
}

BOOST_AUTO_TEST_CASE(qualified_real_2015_signatures_are_valid_at_the_time_asked) {
  for (auto [sig, doc] : {std::pair{"ds05.p7s", "ds05.doc197.bin"},
                          {"ds06.p7s", "ds06.doc199.bin"},
                          {"ds07.p7s", "ds07.doc207.bin"},
                          {"ds12.p7s", "ds12.doc205.bin"}}) {
    auto v = verifyReal(sig, doc, at("2015-09-08T14:00:00Z"));
    BOOST_TEST(v.signature.valid(), sig << ": " << v.signature.detail);
    BOOST_TEST(v.exitCode() == 0);
    BOOST_TEST(v.chain == "trusted");
    BOOST_TEST(v.signature.judged_at == "2015-09-08T14:00:00Z");
    BOOST_TEST(v.signature.judged_by == "the time asked for");
    BOOST_TEST(v.text().find("judged at:  2015-09-08T14:00:00Z (the time asked for)") != std::string::npos);
  }
  // Before the certificate existed, the same signature is not valid then.
  auto early = verifyReal("ds05.p7s", "ds05.doc197.bin", at("2014-01-01T00:00:00Z"));
  BOOST_TEST(crypto::signatureStateName(early.signature.state) == std::string("not-valid-at-signing"));
  BOOST_TEST(early.exitCode() == 1);
}

BOOST_AUTO_TEST_CASE(qualified_real_ds01_reports_a_digest_mismatch) {
  auto v = verifyReal("ds01.p7s", "ds01.doc190.bin");
  BOOST_TEST(v.digest == "mismatch");
  BOOST_TEST(crypto::signatureStateName(v.signature.state) == std::string("invalid"));
  BOOST_TEST((v.signature.code == sev::SevError::AttachmentSignatureInvalid));
  BOOST_TEST(v.exitCode() == 1);
  BOOST_TEST(hexEncode(crypto::Gost34311::digest(readFile(qualifiedDir() + "/signatures/ds01.doc190.bin")))
                 .starts_with("32f06895"));
}

BOOST_AUTO_TEST_CASE(qualified_real_blanche_is_not_checkable_and_its_time_stamp_is_valid) {
  auto v = crypto::verifyCades(readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx"),
                               readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx.p7s"), realTrust());
  BOOST_TEST(v.digest == "match");
  BOOST_TEST(crypto::signatureStateName(v.signature.state) == std::string("not-checkable"));
  BOOST_TEST((v.signature.code == sev::SevError::AttachmentSignatureNotCheckable));
  BOOST_TEST(v.exitCode() == 3);
  BOOST_TEST(v.signature.signer_subject.find("4787CE519EA52903040000009800000085010000") != std::string::npos,
             v.signature.signer_subject);
  BOOST_REQUIRE_EQUAL(v.timestamps.size(), 1u);
  BOOST_TEST(v.timestamps[0].kind == "content");
  BOOST_TEST(v.timestamps[0].valid, v.timestamps[0].detail);
  BOOST_TEST(v.timestamps[0].gen_time == "2020-02-12T15:10:33Z");
  // The token on its own, as the README has it.
  auto t =
      crypto::verifyTimestampToken(readFile(qualifiedDir() + "/signatures/blanche-content-timestamp.der"),
                                   readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx"), realTrust(), "content");
  BOOST_TEST(t.valid, t.detail);
  BOOST_TEST(t.tsa.find("TSP") != std::string::npos, t.tsa);
}

BOOST_AUTO_TEST_CASE(qualified_real_certificate_chains) {
  const std::string certs = qualifiedDir() + "/certs/";
  auto diia = certificate(certs + "diia-ca.cer"), czo = certificate(certs + "czo-root-2020.cer");
  auto ds05 = certificate(qualifiedDir() + "/signatures/ds05-signer.der");
  auto iit = certificate(certs + "iit-test-root-dstu.der");
  auto tsp = certificate(certs + "mvs-test-tsp.der"), mvs = certificate(certs + "mvs-test-root.der");
  BOOST_TEST(*crypto::certificateSignedBy(diia.get(), czo.get()));
  BOOST_TEST(*crypto::certificateSignedBy(czo.get(), czo.get()));
  BOOST_TEST(*crypto::certificateSignedBy(ds05.get(), iit.get()));
  BOOST_TEST(*crypto::certificateSignedBy(tsp.get(), mvs.get()));
  auto wrong = crypto::certificateSignedBy(diia.get(), iit.get());
  BOOST_TEST((!wrong.ok() || !*wrong));
  BOOST_TEST(crypto::publicKeyOf(czo.get())->name().find("m = 431") != std::string::npos);

  // Diia's end-entity test certificate, under Diia's CA, under the ЦЗО root: a chain of three, at a time
  // all three were valid (the CA's validity ended in 2025).
  auto sign = certificate(certs + "diia-test-sign.cer");
  const std::time_t in_2023 = at("2023-06-01T00:00:00Z");
  auto three = crypto::verifyChainAnyKey(sign.get(), {diia.get()}, {czo.get()}, {}, in_2023);
  BOOST_TEST(three.ok(), (three.ok() ? "" : three.error().message));
  auto expired = crypto::verifyChainAnyKey(sign.get(), {diia.get()}, {czo.get()}, {}, std::time(nullptr));
  BOOST_TEST(!expired.ok());
  BOOST_TEST(crypto::verifyChainAnyKey(ds05.get(), {}, {iit.get()}, {}, at("2015-09-08T14:00:00Z")).ok());
  auto now = crypto::verifyChainAnyKey(ds05.get(), {}, {iit.get()}, {}, std::time(nullptr));
  BOOST_REQUIRE(!now.ok());
  BOOST_TEST((sev::sevErrorOf(now.error()) == sev::SevError::CertificateNotValidAtSigning));
  BOOST_TEST(now.error().message.find("2015-11-09") != std::string::npos, now.error().message);
  // Under another root: no path.
  auto elsewhere = crypto::verifyChainAnyKey(sign.get(), {diia.get()}, {iit.get()}, {}, in_2023);
  BOOST_REQUIRE(!elsewhere.ok());
  BOOST_TEST((sev::sevErrorOf(elsewhere.error()) == sev::SevError::SignerUntrusted));
  // Through the trust store, as a participant's signature is judged: the bundle's roots.
  BOOST_TEST(realTrust().verifyChain(sign.get(), {}, in_2023).ok());
  BOOST_TEST(realTrust().verifyChain(tsp.get(), {}, at("2020-02-12T15:10:33Z")).ok());
}

BOOST_AUTO_TEST_CASE(qualified_mixed_chain_ecdsa_signer_under_a_dstu_root) {
  // An ECDSA certificate issued by a DSTU 4145 CA: OpenSSL cannot read the issuer's key, so the chain is
  // built here — and a CMS signed with the ECDSA key verifies through it.
  const std::string dir = varDir() + "/mixed";
  BOOST_REQUIRE(crypto::dstu::makeTestPki(dir, {}).ok());
  auto root_key = crypto::dstu::privateKeyFromText(readFile(dir + "/dstu-ca.key"));
  BOOST_REQUIRE(root_key.ok());
  const std::string root_der = readFile(dir + "/dstu-ca.cer");
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  BOOST_REQUIRE(ec != nullptr);
  unsigned char* spki = nullptr;
  int spki_len = i2d_PUBKEY(ec, &spki);
  const std::time_t now = std::time(nullptr);
  crypto::dstu::CertificateRequest r{"Печатка ECDSA під коренем ДСТУ",
                                     "Учасник 99999911 (розробка)",
                                     kP1Org,
                                     false,
                                     false,
                                     now - 3600,
                                     now + 86400 * 30,
                                     77};
  auto cert =
      crypto::dstu::issueCertificateFor(std::string(reinterpret_cast<char*>(spki), spki_len), r, *root_key, root_der);
  OPENSSL_free(spki);
  BOOST_REQUIRE(cert.ok());
  auto leaf = crypto::certificateFromDer(*cert);
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(!crypto::hasDstuKey(leaf->get()));
  BOOST_TEST(crypto::publicKeyOf(leaf->get())->name() == "ECDSA P-256");
  auto root = certificate(dir + "/dstu-ca.cer");
  BOOST_TEST(crypto::verifyChainAnyKey(leaf->get(), {}, {root.get()}, {}, now).ok());
  crypto::TrustStore trust;
  trust.add(root.get());
  auto chain = trust.verifyChain(leaf->get(), {}, now);
  BOOST_TEST(chain.ok(), (chain.ok() ? "" : chain.error().message));

  // A signature by the ECDSA key (OpenSSL's CMS), its certificate under the DSTU root.
  BIO* key_out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_out, ec, nullptr, nullptr, 0, nullptr, nullptr);
  char* key_pem = nullptr;
  long key_len = BIO_get_mem_data(key_out, &key_pem);
  writeFile(dir + "/mixed.key", std::string(key_pem, static_cast<std::size_t>(key_len)));
  BIO_free(key_out);
  BIO* cert_out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_out, leaf->get());
  char* cert_pem = nullptr;
  long cert_len = BIO_get_mem_data(cert_out, &cert_pem);
  writeFile(dir + "/mixed.pem", std::string(cert_pem, static_cast<std::size_t>(cert_len)));
  BIO_free(cert_out);
  EVP_PKEY_free(ec);
  auto signer = crypto::FileSigner::load(dir + "/mixed.key", dir + "/mixed.pem");
  BOOST_REQUIRE(signer.ok());
  auto cms = signer->signCms("документ");
  BOOST_REQUIRE(cms.ok());
  auto v = crypto::verifyCades("документ", cms->der, trust);
  BOOST_TEST(v.signature.valid(), v.signature.detail);
  BOOST_TEST(v.signature.key == "ECDSA P-256");
  BOOST_TEST(v.signature.signer_org_id == kP1Org);
  // The same root's key did not sign another certificate: a chain that claims it fails.
  auto other_root = crypto::dstu::generate(crypto::dstu::standardCurve(6));
  crypto::dstu::CertificateRequest fake = r;
  auto forged = crypto::dstu::issueCertificateFor(
      crypto::certificateToDer(leaf->get()).substr(0, 0) +
          [&] {
            unsigned char* p = nullptr;
            EVP_PKEY* k = EVP_EC_gen("P-256");
            int n = i2d_PUBKEY(k, &p);
            std::string out(reinterpret_cast<char*>(p), static_cast<std::size_t>(n));
            OPENSSL_free(p);
            EVP_PKEY_free(k);
            return out;
          }(),
      fake, *other_root, root_der);
  BOOST_REQUIRE(forged.ok());
  auto forged_leaf = crypto::certificateFromDer(*forged);
  auto refused = trust.verifyChain(forged_leaf->get(), {}, now);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((sev::sevErrorOf(refused.error()) == sev::SevError::SignerUntrusted));
}

BOOST_AUTO_TEST_CASE(qualified_dstu_signed_crl_revokes_from_its_date) {
  // A DSTU CA's own CRL revokes its signer from the revocation date on; a CRL its key did not sign says
  // nothing; a signature judged before the revocation stands.
  const std::string dir = varDir() + "/crl";
  BOOST_REQUIRE(crypto::dstu::makeTestPki(dir, {kP1Org}).ok());
  auto ca_key = crypto::dstu::privateKeyFromText(readFile(dir + "/dstu-ca.key"));
  const std::string ca_der = readFile(dir + "/dstu-ca.cer");
  auto leaf = certificate(dir + "/dstu-" + std::string(kP1Org) + ".cer");
  auto root = certificate(dir + "/dstu-ca.cer");
  const long long serial = std::stoll(kP1Org);
  const std::time_t now = std::time(nullptr), revoked_at = now - 60;
  auto crl_der = crypto::dstu::issueCrl(*ca_key, ca_der, {{serial, revoked_at}}, now - 30);
  BOOST_REQUIRE(crl_der.ok());
  const auto* p = reinterpret_cast<const unsigned char*>(crl_der->data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_der->size()));
  BOOST_REQUIRE(crl != nullptr);
  BOOST_TEST(crypto::verifyChainAnyKey(leaf.get(), {}, {root.get()}, {}, now).ok());
  auto revoked = crypto::verifyChainAnyKey(leaf.get(), {}, {root.get()}, {crl}, now);
  BOOST_REQUIRE(!revoked.ok());
  BOOST_TEST(revoked.error().message.find("revoked") != std::string::npos, revoked.error().message);
  BOOST_TEST((sev::sevErrorOf(revoked.error()) == sev::SevError::SignerUntrusted));
  // Judged at a time before the revocation (a time-stamp proved it): it stands.
  BOOST_TEST(crypto::verifyChainAnyKey(leaf.get(), {}, {root.get()}, {crl}, revoked_at - 600).ok());
  // Through the trust store, with the CRL loaded as DER.
  crypto::TrustStore trust;
  trust.add(root.get());
  BOOST_REQUIRE(trust.addCrlDer(*crl_der).ok());
  BOOST_TEST(!trust.verifyChain(leaf.get(), {}, now).ok());
  // A CRL "of" the same CA signed by another key: ignored.
  auto other = crypto::dstu::generate(crypto::dstu::standardCurve(6));
  auto forged = crypto::dstu::issueCrl(*other, ca_der, {{serial, revoked_at}}, now - 30);
  const auto* q = reinterpret_cast<const unsigned char*>(forged->data());
  X509_CRL* forged_crl = d2i_X509_CRL(nullptr, &q, static_cast<long>(forged->size()));
  BOOST_REQUIRE(forged_crl != nullptr);
  BOOST_TEST(crypto::verifyChainAnyKey(leaf.get(), {}, {root.get()}, {forged_crl}, now).ok());
  X509_CRL_free(crl);
  X509_CRL_free(forged_crl);
}

BOOST_AUTO_TEST_CASE(qualified_trust_bundle_is_loaded_as_published) {
  crypto::TrustStore bundle;
  BOOST_REQUIRE(bundle.addAny(readFile(qualifiedDir() + "/certs/CACertificates.p7b")).ok());
  BOOST_TEST(bundle.size() == 771u);
  int dstu = 0, ecdsa = 0, rsa = 0, big_endian = 0;
  for (const auto& c : bundle.certificates()) {
    const std::string name = crypto::factsOf(c.get()).key;
    dstu += name.starts_with("DSTU") ? 1 : 0;
    ecdsa += name.starts_with("ECDSA") ? 1 : 0;
    rsa += name.starts_with("RSA") ? 1 : 0;
    // A DSTU key in the big-endian encoding is named as such and not used (the reference refuses it).
    if (name.find("big-endian") != std::string::npos) {
      ++big_endian;
      BOOST_TEST(!crypto::publicKeyOf(c.get()).ok());
    } else {
      BOOST_TEST(crypto::publicKeyOf(c.get()).ok(), crypto::describe(c.get()).subject);
    }
  }
  BOOST_TEST_MESSAGE(big_endian << " DSTU keys in the big-endian encoding");
  BOOST_TEST(dstu == 480);
  BOOST_TEST(ecdsa == 143);
  BOOST_TEST(rsa == 148);
  // Neither a certificate nor a bundle: refused, naming what it expected.
  crypto::TrustStore other;
  auto bad = other.addAny("not a trust list");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("PKCS#7") != std::string::npos);
  BOOST_TEST(!crypto::TrustStore::fromPath(varDir() + "/no-such-list.p7b").ok());
}

BOOST_AUTO_TEST_CASE(qualified_expired_and_backdated_package_is_refused_as_undecided) {
  // A seal certificate valid 2023-01-01 – 2024-12-31 under a CA valid since 2019. A package sealed with it
  // today, its Header dated 2024-06-01: the Header's time is the sender's own word. Refused with 119, as
  // indeterminate — not as "invalid", and never "ok".
  const std::string dir = varDir() + "/expired-2024";
  auto ca_key = crypto::dstu::generate(crypto::dstu::standardCurve(6));
  BOOST_REQUIRE(ca_key.ok());
  crypto::dstu::CertificateRequest ca{"Тестовий ЦСК з 2019 року", "Вхід — тестовий надавач (розробка)", "", true, false,
                                      at("2019-01-01T00:00:00Z"), at("2035-01-01T00:00:00Z"),           1};
  auto ca_der = crypto::dstu::issueCertificate(*ca_key, ca, *ca_key);
  BOOST_REQUIRE(ca_der.ok());
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  unsigned char* spki = nullptr;
  int spki_len = i2d_PUBKEY(ec, &spki);
  crypto::dstu::CertificateRequest leaf{
      "Печатка, що спливла 2024 року", "Учасник (розробка)",       kP1Org, false, false,
      at("2023-01-01T00:00:00Z"),      at("2024-12-31T23:59:59Z"), 2};
  auto leaf_der =
      crypto::dstu::issueCertificateFor(std::string(reinterpret_cast<char*>(spki), spki_len), leaf, *ca_key, *ca_der);
  OPENSSL_free(spki);
  BOOST_REQUIRE(leaf_der.ok());
  auto leaf_cert = crypto::certificateFromDer(*leaf_der);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(out, ec, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(out, leaf_cert->get());
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(out, &pem);
  writeFile(varDir() + "/expired-2024.pem", std::string(pem, static_cast<std::size_t>(pem_len)));
  BIO_free(out);
  EVP_PKEY_free(ec);
  auto signer = crypto::FileSigner::load(varDir() + "/expired-2024.pem", varDir() + "/expired-2024.pem");
  BOOST_REQUIRE_MESSAGE(signer.ok(), (signer.ok() ? "" : signer.error().message));
  crypto::TrustStore trust;
  BOOST_REQUIRE(trust.addAny(*ca_der).ok());

  auto env = envelopeFromUcc();
  env.from = participantParty(kP1Org);
  env.to = uccParty();
  env.time = "2024-06-01T10:00:00Z";
  auto h = sev::buildAppealPackage(sampleCase(), env);
  BOOST_REQUIRE(crypto::signAttachments(h, *signer).ok());
  auto bytes = crypto::sealedPackage(h, *signer);
  BOOST_REQUIRE(bytes.ok());
  auto report = crypto::verifyPackage(*bytes, trust);
  BOOST_TEST(!report.ok());
  BOOST_TEST(crypto::signatureStateName(report.seal.state) == std::string("expired-no-proof-of-time"));
  BOOST_TEST((report.seal.code == sev::SevError::CertificateExpiredNoProof));
  BOOST_TEST(report.seal.detail.find("signer's certificate expired; no proof the signature existed before") !=
                 std::string::npos,
             report.seal.detail);
  BOOST_TEST(report.seal.signing_time == "2024-06-01T10:00:00Z");  // shown as stated, not relied on
  BOOST_TEST(report.seal.judged_by == "now");
  BOOST_REQUIRE(!report.findings.empty());
  BOOST_TEST((sev::sevErrorOf(report.findings.front()) == sev::SevError::CertificateExpiredNoProof));
  // The attachments' signatures by the same certificate, no time-stamp on them: the same verdict.
  for (const auto& a : report.attachments) {
    BOOST_TEST((a.verdict.code == sev::SevError::CertificateExpiredNoProof), a.verdict.detail);
  }

  // An auditor judging history at a time of their choosing: valid then, and the verdict says so.
  crypto::VerifyOptions then;
  then.at = at("2024-06-01T10:00:00Z");
  auto historical = crypto::verifyPackage(*bytes, trust, then);
  BOOST_TEST(historical.ok(), (historical.findings.empty() ? "" : historical.findings.front().message));
  BOOST_TEST(historical.seal.judged_by == "the time asked for");
  BOOST_TEST(historical.seal.judged_at == "2024-06-01T10:00:00Z");
  // After it expired, not valid at that time (116, invalid: the time is the auditor's, not a guess).
  then.at = at("2025-06-01T00:00:00Z");
  auto later = crypto::verifyPackage(*bytes, trust, then);
  BOOST_TEST((later.seal.code == sev::SevError::CertificateNotValidAtSigning));
}

BOOST_AUTO_TEST_CASE(qualified_dstu_signed_package_of_a_test_participant_verifies) {
  // Keys from a test CA made with our own DSTU code, as the simulator signs: a package whose attachment
  // is DSTU-signed verifies against that CA, with the signer, provider and key named.
  const std::string dir = varDir() + "/dstu-pki";
  BOOST_REQUIRE(crypto::dstu::makeTestPki(dir, {kP1Org}).ok());
  auto signer = crypto::dstu::DstuSigner::load(dir + "/dstu-" + kP1Org + ".key", dir + "/dstu-" + kP1Org + ".cer");
  BOOST_REQUIRE_MESSAGE(signer.ok(), (signer.ok() ? "" : signer.error().message));
  crypto::TrustStore trust;
  BOOST_REQUIRE(trust.addAny(readFile(dir + "/dstu-ca.cer")).ok());
  auto env = envelopeFromUcc();
  env.from = participantParty(kP1Org);
  env.to = uccParty();
  auto h = sev::buildAppealPackage(sampleCase(), env);
  h.expansion.reset();
  BOOST_REQUIRE(crypto::signAttachments(h, *signer).ok());
  auto doc = sev::buildDocument(h);
  const std::string bytes = sev::serialize(doc.get());
  auto report = crypto::verifyPackage(bytes, trust);
  BOOST_REQUIRE_EQUAL(report.attachments.size(), 2u);  // the appeal card and the citizen's file
  for (const auto& a : report.attachments) BOOST_TEST(a.verdict.valid(), a.verdict.detail);
  const auto& v = report.attachments[0].verdict;
  BOOST_TEST(report.ok());
  BOOST_TEST(v.algorithm == "DSTU 4145 with GOST 34.311");
  BOOST_TEST(v.key.find("m = 431") != std::string::npos, v.key);
  BOOST_TEST(v.provider.find("тестовий надавач") != std::string::npos, v.provider);
  BOOST_TEST(v.qualified);
  BOOST_TEST(v.signer_org_id == kP1Org);

  // OpenSSL reads what we wrote: a well-formed CMS with the four signed attributes of a real one.
  auto cms = signer->signCms("Відповідь");
  BOOST_REQUIRE(cms.ok());
  const auto* p = reinterpret_cast<const unsigned char*>(cms->der.data());
  CMS_ContentInfo* parsed = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms->der.size()));
  BOOST_REQUIRE(parsed != nullptr);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(parsed), 0);
  BOOST_TEST(CMS_signed_get_attr_count(si) == 4);
  CMS_ContentInfo_free(parsed);

  // One byte of the attachment changed after signing: the digest no longer matches.
  h.document->transfers.front().content += "!";
  auto changed_doc = sev::buildDocument(h);
  auto changed = crypto::verifyPackage(sev::serialize(changed_doc.get()), trust);
  BOOST_TEST(!changed.ok());
  BOOST_TEST(crypto::signatureStateName(changed.attachments[0].verdict.state) == std::string("invalid"));
  // Another provider's list: untrusted.
  auto other = crypto::verifyPackage(bytes, realTrust());
  BOOST_TEST(crypto::signatureStateName(other.attachments[0].verdict.state) == std::string("untrusted"));
  // A DSTU key makes no XML-DSig seal: a clear error, not a broken package.
  auto sealed = crypto::sealedPackage(h, *signer);
  BOOST_REQUIRE(!sealed.ok());
  BOOST_TEST(sealed.error().message.find("DSTU") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(qualified_malformed_dstu_structures_are_errors_never_valid) {
  auto curve = crypto::dstu::standardCurve(6);  // m = 257
  auto key = crypto::dstu::generate(curve);
  BOOST_REQUIRE(key.ok());
  auto pub = crypto::dstu::publicKey(crypto::dstu::namedParameters(6), crypto::dstu::publicKeyBits(*key));
  BOOST_REQUIRE(pub.ok());
  const std::string hash = crypto::Gost34311::digest("документ");
  auto sig = crypto::dstu::sign(*key, hash);
  BOOST_REQUIRE(sig.ok());
  BOOST_TEST(*crypto::dstu::verify(*pub, hash, *sig));

  auto refused = [](const auto& r, const std::string& names) {
    BOOST_REQUIRE_MESSAGE(!r.ok(), "expected an error naming " << names);
    BOOST_TEST(r.error().message.find(names) != std::string::npos, r.error().message);
  };
  // Wrong lengths.
  refused(crypto::dstu::verify(*pub, hash, sig->substr(1)), "length");
  refused(crypto::dstu::verify(*pub, hash, ""), "length");
  // r or s out of range: 0, and n itself.
  const int half = static_cast<int>(sig->size() / 2);
  const std::string zero(static_cast<std::size_t>(half), '\0');
  const std::string n = littleEndian(curve->n.get(), half);
  refused(crypto::dstu::verify(*pub, hash, zero + sig->substr(static_cast<std::size_t>(half))), "r");
  refused(crypto::dstu::verify(*pub, hash, n + sig->substr(static_cast<std::size_t>(half))), "r");
  refused(crypto::dstu::verify(*pub, hash, sig->substr(0, static_cast<std::size_t>(half)) + n), "s");
  // The public key: x = 0, a point not on the curve, a truncated key.
  const std::string params = crypto::dstu::namedParameters(6);
  refused(crypto::dstu::publicKey(params, crypto::der::encodeOctets(std::string(33, '\0'))), "x = 0");
  std::string off_curve;
  for (int x = 2; x < 64 && off_curve.empty(); ++x) {
    std::string bits = crypto::der::encodeOctets(std::string(1, static_cast<char>(x)) + std::string(32, '\0'));
    if (!crypto::dstu::publicKey(params, bits).ok()) off_curve = bits;
  }
  BOOST_REQUIRE_MESSAGE(!off_curve.empty(), "half of all x have no point on the curve");
  refused(crypto::dstu::publicKey(params, off_curve), "not on the curve");
  refused(crypto::dstu::publicKey(params, crypto::der::encodeOctets(std::string(5, '\1'))), "length");
  // An unknown named curve; explicit parameters that contradict the standard curve they claim.
  std::string unknown = params;
  unknown[unknown.size() - 1] = 42;
  refused(crypto::dstu::curveFromParameters(unknown), "curve");
  std::string czo = keyParameters(readFile(qualifiedDir() + "/certs/czo-root-2020.cer"));
  BOOST_REQUIRE(crypto::dstu::curveFromParameters(czo).ok());
  auto parsed = crypto::der::readAll(czo);
  auto definition = crypto::der::children(crypto::der::children(*parsed)->at(0));
  std::string b(definition->at(definition->size() - 3).content);  // ECBinary's b
  std::string contradicting = czo;
  auto where = contradicting.find(b);
  BOOST_REQUIRE(where != std::string::npos);
  contradicting[where + 3] = static_cast<char>(contradicting[where + 3] ^ 0x10);
  refused(crypto::dstu::curveFromParameters(contradicting), "contradict");
  refused(crypto::dstu::curveFromParameters(czo.substr(0, czo.size() - 3)), "");
  // The normal basis and the big-endian encoding: refused with their reason.
  refused(crypto::dstu::curveFromParameters(crypto::der::sequence(
              {crypto::der::encodeOid(std::string(crypto::dstu::kNormalBasisOidPrefix) + ".2.6")})),
          "");
  auto be =
      crypto::verifySignature(*crypto::publicKeyOf(certificate(qualifiedDir() + "/certs/czo-root-2020.cer").get()),
                              crypto::dstu::kSignatureOidBe, "", "data", *sig, false);
  refused(be, "big-endian");
}

BOOST_AUTO_TEST_CASE(qualified_malformed_signatures_and_time_stamps_are_errors_never_valid) {
  const std::string content = readFile(qualifiedDir() + "/signatures/ds05.doc197.bin");
  const std::string p7s = readFile(qualifiedDir() + "/signatures/ds05.p7s");
  // Every truncation of a real CMS: malformed, never valid, never a crash.
  for (std::size_t cut = 0; cut < p7s.size(); cut += 37) {
    auto v = crypto::verifyCades(content, p7s.substr(0, cut), realTrust());
    BOOST_TEST(!v.signature.valid());
    BOOST_TEST((v.signature.state == SignatureState::Malformed), cut);
  }
  // A byte of the signature value changed: the mathematics fail.
  std::string broken = p7s;
  broken[broken.size() - 10] = static_cast<char>(broken[broken.size() - 10] ^ 1);
  auto v = crypto::verifyCades(content, broken, realTrust(), {at("2015-09-08T14:00:00Z"), {}, {}});
  BOOST_TEST(!v.signature.valid());
  BOOST_TEST(v.exitCode() == 1);
  // A time-stamp for another imprint.
  auto t = crypto::verifyTimestampToken(readFile(qualifiedDir() + "/signatures/blanche-content-timestamp.der"),
                                        "другий документ", realTrust(), "content");
  BOOST_TEST(!t.valid);
  BOOST_TEST(t.detail.find("another imprint") != std::string::npos, t.detail);
  // A time-stamp of a TSA nobody trusts.
  auto untrusted =
      crypto::verifyTimestampToken(readFile(qualifiedDir() + "/signatures/blanche-content-timestamp.der"),
                                   readFile(dataDir() + "/sev-ovv-1.5/signed/blanche.docx"), devTrust(), "content");
  BOOST_TEST(!untrusted.valid);
  BOOST_TEST(untrusted.detail.find("time-stamp's own signature") != std::string::npos, untrusted.detail);
  // A vector file that is not one: the line named.
  auto bad = crypto::selftestVectors("DSTU_PB_257 00 00\n");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("line 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(qualified_pkcs11_signer_seals_with_a_key_that_never_leaves_the_token) {
  // A SoftHSM2 token of this test's own, its key generated on it (as an operator does with pkcs11-tool),
  // its certificate issued by the development CA from a request the token signed (`vkhid crypto csr`):
  // packages sealed through PKCS#11 verify as any other, and no file ever holds the key.
  const std::string dir = varDir() + "/hsm", module = "/usr/lib/softhsm/libsofthsm2.so";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/tokens");
  writeFile(dir + "/softhsm2.conf", "directories.tokendir = " + dir + "/tokens\nobjectstore.backend = file\n");
  ::setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  auto sh = [&](const std::string& command) {
    int rc = std::system(("(" + command + ") 2>>" + dir + "/commands.log").c_str());
    BOOST_REQUIRE_MESSAGE(rc == 0, command << "\n" << readFile(dir + "/commands.log"));
  };
  sh("softhsm2-util --init-token --free --label vkhid-test --pin 1234 --so-pin 123456");
  sh("pkcs11-tool --module " + module +
     " --token-label vkhid-test --login --pin 1234 --keypairgen --key-type EC:prime256v1 --label ucc-seal --id 01");
  writeFile(dir + "/pin", "1234\n");
  const std::string uri = "pkcs11:token=vkhid-test;object=ucc-seal";
  sh(binaryPath() + " crypto csr --key '" + uri + "' --module " + module + " --pin-file " + dir +
     "/pin --subject '/organizationIdentifier=NTRUA-" + kUccOrg +
     "/O=Урядовий контактний центр/CN=УКЦ: печатка в модулі' >" + dir + "/seal.csr");
  writeFile(dir + "/seal.ext",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  sh("openssl x509 -req -in " + dir + "/seal.csr -CA " + pkiDir() + "/ca.pem -CAkey " + pkiDir() +
     "/ca.key -CAcreateserial -days 30 -extfile " + dir + "/seal.ext -out " + dir + "/seal.pem");

  // Configured as the gateway is: the URI chooses the token.
  auto signer = crypto::openSealSigner(uri, dir + "/seal.pem", module, dir + "/pin");
  BOOST_REQUIRE_MESSAGE(signer.ok(), (signer.ok() ? "" : signer.error().message));
  auto h = sev::buildAppealPackage(sampleCase(), envelopeFromUcc());
  BOOST_REQUIRE(crypto::signAttachments(h, **signer).ok());
  auto bytes = crypto::sealedPackage(h, **signer);
  BOOST_REQUIRE_MESSAGE(bytes.ok(), (bytes.ok() ? "" : bytes.error().message));
  auto report = crypto::verifyPackage(*bytes, devTrust());
  BOOST_TEST(report.ok(), (report.findings.empty() ? "" : report.findings.front().message));
  BOOST_TEST(report.seal.signer_org_id == kUccOrg);
  BOOST_TEST(report.seal.signer_subject.find("печатка в модулі") != std::string::npos);
  // And as a participant's stock tool checks it.
  writeFile(dir + "/sealed.xml", *bytes);
  sh("xmlsec1 --verify --trusted-pem " + pkiDir() + "/ca.pem --enabled-reference-uris empty " + dir +
     "/sealed.xml >/dev/null");

  // The key is the token's: sensitive and never extractable, and no file under the test's folder holds a
  // private key.
  sh("pkcs11-tool --module " + module + " --token-label vkhid-test --login --pin 1234 --list-objects --type privkey >" +
     dir + "/objects.txt");
  BOOST_TEST(readFile(dir + "/objects.txt").find("never extractable") != std::string::npos);
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) BOOST_TEST(readFile(f.path().string()).find("PRIVATE KEY") == std::string::npos, f.path());
  }
  // A file key still works the same way; a wrong PIN, an unknown key or a missing PIN file are named.
  BOOST_TEST(crypto::openSealSigner(pkiDir() + "/ucc-seal.key", pkiDir() + "/ucc-seal.pem", "", "").ok());
  writeFile(dir + "/wrong-pin", "0000");
  auto wrong = crypto::openSealSigner(uri, dir + "/seal.pem", module, dir + "/wrong-pin");
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().message.find("PIN") != std::string::npos, wrong.error().message);
  auto unknown =
      crypto::openSealSigner("pkcs11:token=vkhid-test;object=nothing", dir + "/seal.pem", module, dir + "/pin");
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().message.find("nothing") != std::string::npos, unknown.error().message);
  auto no_pin = crypto::openSealSigner(uri, dir + "/seal.pem", module, "");
  BOOST_REQUIRE(!no_pin.ok());
  BOOST_TEST(no_pin.error().message.find("seal_pin_file") != std::string::npos);
  auto pin_in_uri = crypto::openSealSigner(uri + "?pin-value=1234", dir + "/seal.pem", module, dir + "/pin");
  BOOST_REQUIRE(!pin_in_uri.ok());
  BOOST_TEST(pin_in_uri.error().message.find("never from the URI") != std::string::npos);
  // Another certificate than the token key's: refused.
  auto mismatch = crypto::openSealSigner(uri, pkiDir() + "/ucc-seal.pem", module, dir + "/pin");
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(mismatch.error().message.find("is not the key of") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
