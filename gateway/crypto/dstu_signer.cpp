#include "gateway/crypto/dstu_signer.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <filesystem>

#include "gateway/crypto/der.hpp"
#include "gateway/crypto/gost34311.hpp"
#include "gateway/crypto/signed_data.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::crypto::dstu {
namespace {

namespace fs = std::filesystem;

Error invalid(const std::string& what) { return Error::invalid("crypto.dstu_signer", what); }

std::string rdn(const char* oid, const std::string& text) {
  return der::encode(der::kSet, der::sequence({der::encodeOid(oid), der::encodeUtf8(text)}));
}

std::string nameOf(const CertificateRequest& r) {
  std::string rdns = der::encode(der::kSet, der::sequence({der::encodeOid("2.5.4.6"), der::encode(0x13, "UA")}));
  rdns += rdn("2.5.4.10", r.organization);
  if (!r.org_id.empty()) rdns += rdn("2.5.4.97", "NTRUA-" + r.org_id);
  rdns += rdn("2.5.4.3", r.common_name);
  return der::encode(der::kSequence, rdns);
}

std::string extension(const char* oid, bool critical, const std::string& value) {
  std::vector<std::string> parts{der::encodeOid(oid)};
  if (critical) parts.push_back(der::encode(0x01, std::string(1, '\xff')));
  parts.push_back(der::encodeOctets(value));
  return der::sequence(parts);
}

std::string keyId(const std::string& key_bits) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(key_bits.data()), key_bits.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

// The subject Name and the subject key identifier of a certificate we made (DER).
struct IssuerFacts {
  std::string name, key_id;
};
Result<IssuerFacts> issuerFacts(const std::string& cert_der) {
  auto cert = der::readAll(cert_der);
  auto parts = cert ? der::children(*cert) : Result<std::vector<der::Node>>(cert.error());
  auto tbs = parts && !parts->empty() ? der::children((*parts)[0]) : Result<std::vector<der::Node>>(invalid(""));
  if (!tbs || tbs->size() < 7) return invalid("the issuer's certificate is not one this code reads");
  IssuerFacts out;
  out.name = std::string((*tbs)[5].whole);
  auto spki = der::children((*tbs)[6]);
  if (!spki || spki->size() != 2) return invalid("the issuer's public key");
  auto bits = der::bitString((*spki)[1], "issuer key");
  if (!bits) return bits.error();
  out.key_id = keyId(std::string(*bits));
  return out;
}

std::string bigEndian(long long v) {
  std::string out;
  for (; v > 0; v >>= 8) out.insert(out.begin(), static_cast<char>(v & 0xff));
  return out.empty() ? std::string(1, '\1') : out;
}

Status writeKey(const std::string& path, const PrivateKey& key) {
  if (auto s = writeFile(path, privateKeyText(key)); !s) return s;
  std::error_code ec;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  return {};
}

}  // namespace

Result<std::string> issueCertificate(const PrivateKey& subject_key, const CertificateRequest& r,
                                     const PrivateKey& issuer_key, const std::string& issuer_der) {
  const std::string spki =
      der::sequence({der::sequence({der::encodeOid(kSignatureOidLe), namedParameters(subject_key.curve->id)}),
                     der::encodeBitString(publicKeyBits(subject_key))});
  return issueCertificateFor(spki, r, issuer_key, issuer_der);
}

Result<std::string> issueCertificateFor(const std::string& spki, const CertificateRequest& r,
                                        const PrivateKey& issuer_key, const std::string& issuer_der) {
  auto spki_node = der::readAll(spki);
  auto spki_parts = spki_node ? der::children(*spki_node) : Result<std::vector<der::Node>>(spki_node.error());
  if (!spki_parts || spki_parts->size() != 2) return invalid("a SubjectPublicKeyInfo");
  auto bits = der::bitString((*spki_parts)[1], "subject key");
  if (!bits) return bits.error();
  const std::string key_bits(*bits);
  std::string issuer_name = nameOf(r), issuer_key_id = keyId(key_bits);
  if (!issuer_der.empty()) {
    auto facts = issuerFacts(issuer_der);
    if (!facts) return facts.error();
    issuer_name = facts->name;
    issuer_key_id = facts->key_id;
  }
  std::vector<std::string> exts;
  if (r.ca) {
    exts.push_back(extension("2.5.29.19", true, der::sequence({der::encode(0x01, std::string(1, '\xff'))})));
    exts.push_back(extension("2.5.29.15", true, der::encode(der::kBitString, std::string("\x01\x06", 2))));
  } else {
    exts.push_back(extension("2.5.29.19", true, der::sequence({})));
    exts.push_back(extension("2.5.29.15", true, der::encode(der::kBitString, std::string("\x06\xc0", 2))));
  }
  exts.push_back(extension("2.5.29.14", false, der::encodeOctets(keyId(key_bits))));
  exts.push_back(extension("2.5.29.35", false, der::sequence({der::encode(0x80, issuer_key_id)})));
  if (r.qualified) {
    exts.push_back(
        extension("1.3.6.1.5.5.7.1.3", false, der::sequence({der::sequence({der::encodeOid("0.4.0.1862.1.1")})})));
  }
  const std::string tbs = der::sequence({
      der::encode(der::context(0), der::encodeSmallInteger(2)),
      der::encodeInteger(bigEndian(r.serial)),
      der::algorithm(kSignatureOidLe),
      issuer_name,
      der::sequence({der::encodeTime(r.not_before), der::encodeTime(r.not_after)}),
      nameOf(r),
      spki,
      der::encode(der::context(3), der::sequence(exts)),
  });
  auto signature = sign(issuer_key, Gost34311::digest(tbs));
  if (!signature) return signature.error();
  return der::sequence({tbs, der::algorithm(kSignatureOidLe), der::encodeBitString(der::encodeOctets(*signature))});
}

Result<std::string> issueCrl(const PrivateKey& issuer_key, const std::string& issuer_der,
                             const std::vector<std::pair<long long, std::time_t>>& revoked, std::time_t this_update) {
  auto facts = issuerFacts(issuer_der);
  if (!facts) return facts.error();
  std::vector<std::string> entries;
  for (const auto& [serial, when] : revoked) {
    entries.push_back(der::sequence({der::encodeInteger(bigEndian(serial)), der::encodeTime(when)}));
  }
  std::vector<std::string> tbs_parts{der::encodeSmallInteger(1), der::algorithm(kSignatureOidLe), facts->name,
                                     der::encodeTime(this_update), der::encodeTime(this_update + 7 * 86400)};
  if (!entries.empty()) tbs_parts.push_back(der::sequence(entries));
  const std::string tbs = der::sequence(tbs_parts);
  auto signature = sign(issuer_key, Gost34311::digest(tbs));
  if (!signature) return signature.error();
  return der::sequence({tbs, der::algorithm(kSignatureOidLe), der::encodeBitString(der::encodeOctets(*signature))});
}

Result<std::vector<std::string>> makeTestPki(const std::string& dir, const std::vector<std::string>& org_ids) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::vector<std::string> made;
  const std::time_t now = std::time(nullptr);
  const std::string ca_cert = dir + "/dstu-ca.cer", ca_key = dir + "/dstu-ca.key";
  if (!fs::exists(ca_cert, ec) || !fs::exists(ca_key, ec)) {
    auto key = generate(standardCurve(6));
    if (!key) return key.error();
    CertificateRequest r{"Тестовий ЦСК Вхід (DSTU 4145, розробка)",
                         "Вхід — тестовий надавач (розробка)",
                         "",
                         true,
                         false,
                         now - 86400,
                         now + 10LL * 365 * 86400,
                         1};
    auto cert = issueCertificate(*key, r, *key);
    if (!cert) return cert.error();
    if (auto s = writeKey(ca_key, *key); !s) return s.error();
    if (auto s = writeFile(ca_cert, *cert); !s) return s.error();
    made.push_back(ca_cert);
  }
  auto ca_key_text = readFile(ca_key);
  if (!ca_key_text) return ca_key_text.error();
  auto issuer = privateKeyFromText(*ca_key_text);
  if (!issuer) return issuer.error();
  auto issuer_der = readFile(ca_cert);
  if (!issuer_der) return issuer_der.error();
  for (const auto& org : org_ids) {
    const std::string cert_path = dir + "/dstu-" + org + ".cer", key_path = dir + "/dstu-" + org + ".key";
    if (fs::exists(cert_path, ec) && fs::exists(key_path, ec)) continue;
    auto key = generate(standardCurve(9));
    if (!key) return key.error();
    CertificateRequest r{"Посадова особа " + org + " (DSTU, розробка)",
                         "Учасник " + org + " (розробка)",
                         org,
                         false,
                         true,
                         now - 3600,
                         now + 2LL * 365 * 86400,
                         std::stoll(org)};
    auto cert = issueCertificate(*key, r, *issuer, *issuer_der);
    if (!cert) return cert.error();
    if (auto s = writeKey(key_path, *key); !s) return s.error();
    if (auto s = writeFile(cert_path, *cert); !s) return s.error();
    made.push_back(cert_path);
  }
  return made;
}

Result<DstuSigner> DstuSigner::load(const std::string& key_path, const std::string& cert_path,
                                    const std::string& chain_path) {
  auto key_text = readFile(key_path);
  if (!key_text) return key_text.error();
  auto key = privateKeyFromText(*key_text);
  if (!key) return Error::invalid(key.error().code, key_path + ": " + key.error().message);
  auto cert_der = readFile(cert_path);
  if (!cert_der) return cert_der.error();
  auto cert = certificateFromDer(*cert_der);
  if (!cert) return Error::invalid(cert.error().code, cert_path + ": " + cert.error().message);
  DstuSigner s;
  s.key_ = std::make_shared<PrivateKey>(std::move(key).value());
  // The key must be the certificate's: its public half is the one the certificate carries.
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert->get());
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  if (pub == nullptr || X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, nullptr, pub) != 1 ||
      std::string_view(reinterpret_cast<const char*>(bits), static_cast<std::size_t>(bits_len)) !=
          publicKeyBits(*s.key_)) {
    return Error::invalid("crypto.key_mismatch", key_path + " is not the key of " + cert_path);
  }
  s.cert_ = std::move(cert).value();
  if (!chain_path.empty()) {
    auto chain_der = readFile(chain_path);
    if (!chain_der) return chain_der.error();
    auto c = certificateFromDer(*chain_der);
    if (!c) return Error::invalid(c.error().code, chain_path + ": " + c.error().message);
    s.chain_.push_back(std::move(c).value());
  }
  return s;
}

std::vector<X509*> DstuSigner::chain() const {
  std::vector<X509*> out;
  for (const auto& c : chain_) out.push_back(c.get());
  return out;
}

Result<CmsSignature> DstuSigner::signCms(std::string_view content) const {
  const std::string cert_der = certificateToDer(cert_.get());
  auto sid = signed_data::issuerAndSerial(cert_der);
  if (!sid) return invalid(sid.error().message);
  const std::time_t now = std::time(nullptr);
  const std::string gost = der::algorithm(kGost34311Oid);
  const std::string attrs = signed_data::signedAttributes(
      now, Gost34311::digest(content), signed_data::signingCertificate(Gost34311::digest(cert_der), gost));
  auto signature = sign(*key_, Gost34311::digest(der::encode(der::kSet, attrs)));
  if (!signature) return signature.error();
  std::string certs = cert_der;
  for (const auto& c : chain_) certs += certificateToDer(c.get());
  CmsSignature out;
  out.der = signed_data::detached({gost, der::algorithm(kSignatureOidLe), *sid, certs}, attrs, *signature);
  out.certificate = cert_der;
  out.signing_time = formatIsoUtc(now);
  return out;
}

}  // namespace vkhid::crypto::dstu
