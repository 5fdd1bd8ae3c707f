#include "gateway/crypto/timestamp.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "gateway/crypto/openssl.hpp"
#include "gateway/domain/time.hpp"

namespace vkhid::crypto {
namespace {

Error tsError(const std::string& what) { return Error::invalid("crypto.timestamp", what + ": " + opensslError()); }

using TsReqPtr = std::unique_ptr<TS_REQ, OsslDeleter<TS_REQ, TS_REQ_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, OsslDeleter<TS_RESP, TS_RESP_free>>;
using TsVerifyPtr = std::unique_ptr<TS_VERIFY_CTX, OsslDeleter<TS_VERIFY_CTX, TS_VERIFY_CTX_free>>;

}  // namespace

Result<std::string> timestampQuery(std::string_view digest) {
  if (digest.size() != 32) return Error::invalid("crypto.timestamp", "a SHA-256 digest is 32 bytes");
  TsReqPtr req(TS_REQ_new());
  TS_MSG_IMPRINT* imprint = TS_MSG_IMPRINT_new();
  X509_ALGOR* algo = X509_ALGOR_new();
  X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
  TS_MSG_IMPRINT_set_algo(imprint, algo);
  TS_MSG_IMPRINT_set_msg(imprint, reinterpret_cast<unsigned char*>(const_cast<char*>(digest.data())), 32);
  TS_REQ_set_msg_imprint(req.get(), imprint);
  TS_MSG_IMPRINT_free(imprint);
  X509_ALGOR_free(algo);
  TS_REQ_set_version(req.get(), 1);
  unsigned char nonce_bytes[8];
  RAND_bytes(nonce_bytes, sizeof nonce_bytes);
  nonce_bytes[0] &= 0x7f;
  ASN1_INTEGER* nonce = ASN1_INTEGER_new();
  BIGNUM* bn = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, nonce);
  BN_free(bn);
  TS_REQ_set_nonce(req.get(), nonce);
  ASN1_INTEGER_free(nonce);
  TS_REQ_set_cert_req(req.get(), 1);
  unsigned char* der = nullptr;
  int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) return tsError("cannot encode the time-stamp query");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<TimestampInfo> verifyTimestamp(std::string_view response_der, std::string_view digest, std::string_view ca_pem,
                                      std::string_view tsa_cert_pem) {
  const auto* p = reinterpret_cast<const unsigned char*>(response_der.data());
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!resp) return tsError("not a time-stamp response");
  auto cas = certificatesFromPem(ca_pem);
  if (!cas) return cas.error();
  X509_STORE* store = X509_STORE_new();
  for (auto& c : *cas) X509_STORE_add_cert(store, c.get());
  TsVerifyPtr ctx(TS_VERIFY_CTX_new());
  TS_VERIFY_CTX_set_store(ctx.get(), store);  // the context owns it now
  if (!tsa_cert_pem.empty()) {
    auto extra = certificatesFromPem(tsa_cert_pem);
    if (!extra) return extra.error();
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (auto& c : *extra) sk_X509_push(untrusted, c.release());
    TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);  // owned by the context
  }
  auto* imprint = static_cast<unsigned char*>(OPENSSL_malloc(digest.size()));
  std::memcpy(imprint, digest.data(), digest.size());
  TS_VERIFY_CTX_set_imprint(ctx.get(), imprint, static_cast<long>(digest.size()));  // owned too
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
  if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1) return tsError("the time-stamp does not verify");
  TimestampInfo info;
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp.get());
  const ASN1_GENERALIZEDTIME* t = TS_TST_INFO_get_time(tst);
  if (std::tm tm{}; ASN1_TIME_to_tm(t, &tm) == 1) info.time = formatIsoUtc(timegm(&tm));
  if (const GENERAL_NAME* tsa = TS_TST_INFO_get_tsa(tst); tsa != nullptr && tsa->type == GEN_DIRNAME) {
    char buf[512];
    X509_NAME_oneline(tsa->d.directoryName, buf, sizeof buf);
    info.tsa_subject = buf;
  }
  return info;
}

struct TimestampAuthority::State {
  X509Ptr cert;
  EvpPkeyPtr key;
  std::mutex mutex;  // TS_RESP_CTX is not for concurrent use
  std::atomic<unsigned long long> serial{0};
};

TimestampAuthority::TimestampAuthority(std::unique_ptr<State> s) : state_(std::move(s)) {}
TimestampAuthority::TimestampAuthority(TimestampAuthority&&) noexcept = default;
TimestampAuthority::~TimestampAuthority() = default;

Result<TimestampAuthority> TimestampAuthority::load(const std::string& key_file, const std::string& cert_file) {
  auto key_pem = readFile(key_file);
  if (!key_pem) return key_pem.error();
  auto cert_pem = readFile(cert_file);
  if (!cert_pem) return cert_pem.error();
  auto certs = certificatesFromPem(*cert_pem);
  if (!certs) return certs.error();
  if (certs->empty()) return Error::invalid("crypto.timestamp", cert_file + ": no certificate");
  auto key = privateKeyFromPem(*key_pem);
  if (!key) return key.error();
  auto state = std::make_unique<State>();
  state->cert = std::move((*certs)[0]);
  state->key = std::move(key).value();
  state->serial = static_cast<unsigned long long>(std::time(nullptr)) << 20;
  return TimestampAuthority(std::move(state));
}

namespace {
ASN1_INTEGER* nextSerial(TS_RESP_CTX*, void* data) {
  auto* counter = static_cast<std::atomic<unsigned long long>*>(data);
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  ASN1_INTEGER_set_uint64(serial, ++*counter);
  return serial;
}
}  // namespace

Result<std::string> TimestampAuthority::respond(std::string_view query_der) {
  std::lock_guard lock(state_->mutex);
  std::unique_ptr<TS_RESP_CTX, OsslDeleter<TS_RESP_CTX, TS_RESP_CTX_free>> ctx(TS_RESP_CTX_new());
  ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.4146.99.1", 1);  // a development policy id
  TS_RESP_CTX_set_def_policy(ctx.get(), policy);
  ASN1_OBJECT_free(policy);
  if (TS_RESP_CTX_set_signer_cert(ctx.get(), state_->cert.get()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx.get(), state_->key.get()) != 1) {
    return tsError("the TSA's certificate or key is refused (it needs extendedKeyUsage timeStamping)");
  }
  TS_RESP_CTX_add_md(ctx.get(), EVP_sha256());
  TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256());
  TS_RESP_CTX_set_serial_cb(ctx.get(), nextSerial, &state_->serial);
  BioPtr in(BIO_new_mem_buf(query_der.data(), static_cast<int>(query_der.size())));
  TsRespPtr resp(TS_RESP_create_response(ctx.get(), in.get()));
  if (!resp) return tsError("cannot make a time-stamp response");
  unsigned char* der = nullptr;
  int len = i2d_TS_RESP(resp.get(), &der);
  if (len <= 0) return tsError("cannot encode the time-stamp response");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace vkhid::crypto
