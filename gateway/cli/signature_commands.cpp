#include "gateway/cli/signature_commands.hpp"

#include <openssl/x509v3.h>

#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <map>

#include "gateway/crypto/cades.hpp"
#include "gateway/crypto/dstu_signer.hpp"
#include "gateway/crypto/pkcs11_signer.hpp"
#include "gateway/crypto/qualified.hpp"
#include "gateway/crypto/selftest.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/signature_json.hpp"

namespace vkhid::cli {
namespace {

namespace json = boost::json;

struct Options {
  std::string signature, content, trust, at, vectors, file, hint, dir;
  std::string key, cert, module, pin_file, subject;
  std::vector<std::string> orgs;
  bool json_output = false;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "vkhid: %s\n", what.c_str());
  return 2;
}

int verifySignature(const Options& o) {
  auto der = crypto::readFile(o.signature);
  if (!der) return fail(der.error().message);
  auto content = crypto::readFile(o.content);
  if (!content) return fail(content.error().message);
  auto trust = crypto::TrustStore::fromPaths(o.trust);
  if (!trust) return fail("--trust: " + trust.error().message);
  crypto::CadesOptions options;
  std::string hint;
  if (!o.hint.empty()) {
    auto bytes = crypto::readFile(o.hint);
    if (!bytes) return fail(bytes.error().message);
    hint = *bytes;
    options.hint_certificate = hint;
  }
  if (!o.at.empty()) {
    auto at = parseIsoDateTime(o.at);
    if (!at) return fail("--at: expected an ISO 8601 time such as 2015-09-08T14:00:00Z, got '" + o.at + "'");
    options.at = *at;
  }
  auto v = crypto::verifyCades(*content, *der, *trust, options);
  if (o.json_output) {
    json::object out = flows::signatureJson("", v.signature);
    out["digest"] = v.digest;
    out["chain"] = v.chain;
    json::array stamps;
    for (const auto& t : v.timestamps) {
      json::object s{{"kind", t.kind}, {"valid", t.valid}};
      if (!t.gen_time.empty()) s["gen_time"] = t.gen_time;
      if (!t.tsa.empty()) s["tsa"] = t.tsa;
      if (!t.detail.empty()) s["detail"] = t.detail;
      stamps.push_back(std::move(s));
    }
    out["timestamps"] = std::move(stamps);
    out["exit"] = v.exitCode();
    std::cout << json::serialize(out) << "\n";
  } else {
    std::cout << v.text();
  }
  return v.exitCode();
}

int selftest(const Options& o) {
  crypto::SelftestResult result;
  if (o.vectors.empty()) {
    result = crypto::selftestBuiltin();
  } else {
    auto text = crypto::readFile(o.vectors);
    if (!text) return fail(text.error().message);
    auto r = crypto::selftestVectors(*text);
    if (!r) return fail(o.vectors + ": " + r.error().message);
    result = std::move(r).value();
  }
  for (const auto& d : result.disagreements) std::printf("disagrees: %s\n", d.c_str());
  std::printf("selftest: %d of %d agree\n", result.agree, result.total);
  return result.ok() ? 0 : 1;
}

// What a certificate of a trust list is for: a CA, a time-stamp authority, an OCSP responder, or other.
std::string roleOf(X509* c) {
  if (X509_check_ca(c) >= 1) return "CA";
  const std::uint32_t xku = X509_get_extended_key_usage(c);
  if (xku & XKU_TIMESTAMP) return "TSA";
  if (xku & XKU_OCSP_SIGN) return "OCSP";
  return "other";
}

std::string familyOf(const std::string& key) {
  if (key.starts_with("DSTU")) return "DSTU 4145";
  if (key.starts_with("ECDSA")) return "ECDSA";
  if (key.starts_with("RSA")) return "RSA";
  return "other";
}

std::string organisationOf(X509* c) {
  char org[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_organizationName, org, sizeof org);
  if (org[0] != '\0') return org;
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof cn);
  return cn[0] != '\0' ? cn : "(unnamed)";
}

std::string isoOf(const ASN1_TIME* t) {
  std::tm tm{};
  return ASN1_TIME_to_tm(t, &tm) == 1 ? formatIsoUtc(timegm(&tm)) : "?";
}

int showTrust(const Options& o) {
  auto trust = crypto::TrustStore::fromPaths(o.file);
  if (!trust) return fail(trust.error().message);
  std::time_t now = std::time(nullptr);
  struct Provider {
    std::map<std::string, int> by_key;
    std::vector<json::object> certs;
    int valid = 0;
  };
  std::map<std::string, Provider> providers;
  std::map<std::string, int> by_family, by_role;
  int valid_now = 0;
  for (const auto& c : trust->certificates()) {
    auto facts = crypto::factsOf(c.get());
    const std::string role = roleOf(c.get());
    const bool valid =
        X509_cmp_time(X509_get0_notBefore(c.get()), &now) <= 0 && X509_cmp_time(X509_get0_notAfter(c.get()), &now) >= 0;
    auto& p = providers[organisationOf(c.get())];
    ++p.by_key[facts.key];
    p.valid += valid ? 1 : 0;
    valid_now += valid ? 1 : 0;
    ++by_family[familyOf(facts.key)];
    ++by_role[role];
    p.certs.push_back(json::object{{"subject", crypto::describe(c.get()).subject},
                                   {"role", role},
                                   {"key", facts.key},
                                   {"not_before", isoOf(X509_get0_notBefore(c.get()))},
                                   {"not_after", isoOf(X509_get0_notAfter(c.get()))},
                                   {"valid_now", valid}});
  }
  const int total = static_cast<int>(trust->certificates().size());
  if (o.json_output) {
    json::array list;
    for (auto& [name, p] : providers) {
      json::array certs(p.certs.begin(), p.certs.end());
      list.push_back(json::object{{"provider", name}, {"valid_now", p.valid}, {"certificates", std::move(certs)}});
    }
    json::object keys, roles;
    for (const auto& [k, n] : by_family) keys[k] = n;
    for (const auto& [k, n] : by_role) roles[k] = n;
    std::cout << json::serialize(json::object{{"certificates", total},
                                              {"valid_now", valid_now},
                                              {"by_key", std::move(keys)},
                                              {"by_role", std::move(roles)},
                                              {"providers", std::move(list)}})
              << "\n";
    return 0;
  }
  std::string keys, roles;
  for (const auto& [k, n] : by_family) keys += (keys.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  for (const auto& [k, n] : by_role) roles += (roles.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  std::printf("%s: %d certificates (%s; %s), %d valid now, %d expired or not yet valid, %zu providers\n",
              o.file.c_str(), total, keys.c_str(), roles.c_str(), valid_now, total - valid_now, providers.size());
  for (const auto& [name, p] : providers) {
    std::string kinds;
    for (const auto& [k, n] : p.by_key) kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " × " + k;
    std::printf("\n%s — %zu certificate(s), %d valid now: %s\n", name.c_str(), p.certs.size(), p.valid, kinds.c_str());
    for (const auto& c : p.certs) {
      std::printf("  %-5s %-24s %s .. %s%s  %s\n", std::string(c.at("role").as_string()).c_str(),
                  std::string(c.at("key").as_string()).c_str(),
                  std::string(c.at("not_before").as_string()).substr(0, 10).c_str(),
                  std::string(c.at("not_after").as_string()).substr(0, 10).c_str(),
                  c.at("valid_now").as_bool() ? "" : " (not valid now)",
                  std::string(c.at("subject").as_string()).c_str());
    }
  }
  return 0;
}

int testPki(const Options& o) {
  auto made = crypto::dstu::makeTestPki(o.dir, o.orgs);
  if (!made) return fail(made.error().message);
  for (const auto& f : *made) std::printf("made %s\n", f.c_str());
  return 0;
}

// A certificate request for a key (on a token, or in a file): the key signs it where it lives.
int csr(const Options& o) {
  crypto::EvpPkeyPtr file_key;
  std::unique_ptr<crypto::Pkcs11Signer> token;
  EVP_PKEY* key = nullptr;
  if (o.key.starts_with("pkcs11:")) {
    auto pin = crypto::readSecret(o.pin_file);
    if (!pin) return fail("--pin-file: " + pin.error().message);
    // A certificate is not there yet: the key is opened without one (the request is what gets it).
    auto t = crypto::Pkcs11Signer::openKeyOnly({o.module, o.key, *pin});
    if (!t) return fail(t.error().message);
    token = std::move(t).value();
    key = token->key();
  } else {
    auto pem = crypto::readFile(o.key);
    if (!pem) return fail(pem.error().message);
    auto k = crypto::privateKeyFromPem(*pem);
    if (!k) return fail(k.error().message);
    file_key = std::move(k).value();
    key = file_key.get();
  }
  auto request = crypto::certificateRequest(key, o.subject);
  if (!request) return fail(request.error().message);
  std::fwrite(request->data(), 1, request->size(), stdout);
  return 0;
}

}  // namespace

void addSignatureCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<Options>();
  auto* signature = app.add_subcommand("signature", "Detached CMS (CAdES) signatures: DSTU 4145, ECDSA, RSA");
  signature->require_subcommand(1);
  auto* verify = signature->add_subcommand(
      "verify", "Check one detached signature; exit 0 valid, 1 invalid, 3 indeterminate, 2 on bad use");
  verify->add_option("SIGNATURE", options->signature, "the signature (.p7s, DER)")->required();
  verify->add_option("--content", options->content, "the signed file")->required();
  verify
      ->add_option("--trust", options->trust,
                   "trusted CAs and TSAs: a folder, a PKCS#7 bundle (CACertificates.p7b) or a certificate")
      ->required();
  verify->add_option("--at", options->at,
                     "judge the certificates at this time (ISO 8601) instead of a time-stamp's or now");
  verify->add_option("--cert", options->hint, "the signer's certificate (DER), when the signature carries none");
  verify->add_flag("--json", options->json_output, "one JSON object");
  verify->callback([options, &exit_code] { exit_code = verifySignature(*options); });

  auto* crypto_cmd = app.add_subcommand("crypto", "The Ukrainian algorithms (GOST 34.311, DSTU 4145)");
  crypto_cmd->require_subcommand(1);
  auto* selftest_cmd = crypto_cmd->add_subcommand(
      "selftest", "Run the known answers (or a vector file); prints 'selftest: N of M agree', exit 0 when all do");
  selftest_cmd->add_option("--vectors", options->vectors,
                           "a vector file: 'curve public-key hash signature expected' a line, hex");
  selftest_cmd->callback([options, &exit_code] { exit_code = selftest(*options); });

  auto* pki = crypto_cmd->add_subcommand(
      "test-pki", "Make a DSTU 4145 test CA and signers (development and tests only; never qualified)");
  pki->add_option("DIR", options->dir, "where: dstu-ca.{cer,key}, dstu-<org>.{cer,key}")->required();
  pki->add_option("--org", options->orgs, "an organisation (EDRPOU) to make a signer for; repeatable");
  pki->callback([options, &exit_code] { exit_code = testPki(*options); });

  auto* csr_cmd = crypto_cmd->add_subcommand(
      "csr", "Print a certificate request (PEM) signed by a key where it lives: a PKCS#11 token or a PEM file");
  csr_cmd->add_option("--key", options->key, "pkcs11:token=…;object=… or a PEM key file")->required();
  csr_cmd->add_option("--subject", options->subject, "the subject, as /O=…/CN=…")->required();
  csr_cmd->add_option("--module", options->module, "the PKCS#11 library (for a pkcs11: key)");
  csr_cmd->add_option("--pin-file", options->pin_file, "a file holding the token's user PIN");
  csr_cmd->callback([options, &exit_code] { exit_code = csr(*options); });

  auto* trust = app.add_subcommand("trust", "Trust lists of qualified providers");
  trust->require_subcommand(1);
  auto* show = trust->add_subcommand("show", "What a trust list holds, by provider, key type and validity");
  show->add_option("FILE", options->file, "a PKCS#7 bundle, a certificate (PEM or DER) or a folder")->required();
  show->add_flag("--json", options->json_output, "one JSON object");
  show->callback([options, &exit_code] { exit_code = showTrust(*options); });
}

}  // namespace vkhid::cli
