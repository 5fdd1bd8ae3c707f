// Micro-benchmarks of the SEV OVV codec and signatures, beside the raw OpenSSL rates of the same key,
// so the overhead of our code shows as a ratio. Results and method: docs/performance.md.
//   cmake -S . -B build/bench -DVKHID_BENCH=ON -DVKHID_TESTS=OFF -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/bench --target codec_bench && build/bench/bench/codec_bench
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "gateway/crypto/cades.hpp"
#include "gateway/crypto/dstu4145.hpp"
#include "gateway/crypto/dstu_signer.hpp"
#include "gateway/crypto/gost34311.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"
#include "gateway/store/at_rest.hpp"

using namespace vkhid;

namespace {

struct Fixture {
  std::string pki = std::string(VKHID_BUILD_DIR) + "/bench-pki";
  crypto::FileSigner signer;
  crypto::TrustStore trust;
  domain::Case small;  // a 4 KiB appeal: text only
  domain::Case large;  // the same with a 1 MiB attachment
  std::string small_bytes, large_bytes;
  sev::Envelope env;

  static Fixture& get() {
    static Fixture f;
    return f;
  }

 private:
  Fixture() : signer(load()) {
    (void)trust.addPem(*crypto::readFile(pki + "/ca.pem"));
    env = {{"99999901", "Урядовий контактний центр", "vkhid", "Вхід"},
           {"99999911", "Учасник", "edms", "СЕД"},
           "0b7c1f52-3f1a-4e7e-8f1e-6a1c2b3d4e5f",
           formatIsoUtc(std::time(nullptr))};
    small.id = "7b2f3c9e-2d7a-4c11-9d55-1a8e0c6f4b21";
    small.ucc_number = "УКЦ-2026-0000123";
    small.registered_on = "2026-11-28";
    small.applicant = {false, false, "Шевченко", "Олена", "Петрівна", "м. Київ", "o@example.org", "+380501234567"};
    small.consent = {true, true};
    small.channel = "web";
    small.received_at = env.time;
    while (small.text.size() < 2500) small.text += "Прошу розглянути звернення щодо освітлення. ";
    large = small;
    std::string blob(1 << 20, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(blob.data()), static_cast<int>(blob.size()));
    large.attachments.push_back({"scan.pdf", "application/pdf", blob});
    small_bytes = build(small);
    large_bytes = build(large);
  }

  crypto::FileSigner load() {
    std::string cmd = std::string(VKHID_SOURCE_DIR) + "/certs/make-dev-pki " + pki + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make-dev-pki failed");
    auto s = crypto::FileSigner::load(pki + "/ucc-seal.key", pki + "/ucc-seal.pem");
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(s).value();
  }

 public:
  std::string build(const domain::Case& c) {
    auto h = sev::buildAppealPackage(c, env);
    (void)crypto::signAttachments(h, signer);
    return *crypto::sealedPackage(h, signer);
  }
};

const domain::Case& caseFor(const benchmark::State& state) {
  return state.range(0) == 0 ? Fixture::get().small : Fixture::get().large;
}
const std::string& bytesFor(const benchmark::State& state) {
  return state.range(0) == 0 ? Fixture::get().small_bytes : Fixture::get().large_bytes;
}
void label(benchmark::State& state) {
  state.SetLabel((state.range(0) == 0 ? "4KiB appeal, " : "1MiB attachment, ") +
                 std::to_string(bytesFor(state).size()) + " bytes");
  state.SetItemsProcessed(state.iterations());
}

void ParseValidate(benchmark::State& state) {
  const auto& bytes = bytesFor(state);
  for (auto _ : state) benchmark::DoNotOptimize(sev::parsePackage(bytes));
  label(state);
}
BENCHMARK(ParseValidate)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BuildSignSeal(benchmark::State& state) {
  const auto& c = caseFor(state);
  for (auto _ : state) benchmark::DoNotOptimize(Fixture::get().build(c));
  label(state);
}
BENCHMARK(BuildSignSeal)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void VerifySealAndAttachments(benchmark::State& state) {
  const auto& bytes = bytesFor(state);
  for (auto _ : state) {
    auto report = crypto::verifyPackage(bytes, Fixture::get().trust);
    if (!report.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(report);
  }
  label(state);
}
BENCHMARK(VerifySealAndAttachments)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// One attachment's detached CAdES-BES signature (SignInfo), as an appeal's text and each file get one:
// a 1 KiB file with the UCC's P-256 key; beside RawOpenSslSign below, what the CMS structure costs.
void CmsSignAttachment(benchmark::State& state) {
  const std::string file(1024, 'a');
  for (auto _ : state) {
    auto cms = Fixture::get().signer.signCms(file);
    if (!cms) state.SkipWithError("signCms failed");
    benchmark::DoNotOptimize(cms);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(CmsSignAttachment)->Unit(benchmark::kMicrosecond);

// The floor: one ECDSA P-256 signature / verification of a SHA-256 digest with the same key.
void RawOpenSslSign(benchmark::State& state) {
  EVP_PKEY* key = Fixture::get().signer.key();
  unsigned char msg[32] = {1};
  unsigned char sig[128];
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = sizeof sig;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, sig, &len, msg, sizeof msg);
    EVP_MD_CTX_free(ctx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RawOpenSslSign)->Unit(benchmark::kMicrosecond);

void RawOpenSslVerify(benchmark::State& state) {
  EVP_PKEY* key = Fixture::get().signer.key();
  unsigned char msg[32] = {1};
  unsigned char sig[128];
  size_t len = sizeof sig;
  EVP_MD_CTX* sctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(sctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(sctx, sig, &len, msg, sizeof msg);
  EVP_MD_CTX_free(sctx);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    benchmark::DoNotOptimize(EVP_DigestVerify(ctx, sig, len, msg, sizeof msg));
    EVP_MD_CTX_free(ctx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RawOpenSslVerify)->Unit(benchmark::kMicrosecond);

// DSTU 4145 over GOST 34.311, next to the ECDSA figures above: one verification of a 32-byte hash on
// curve 6 (m = 257) and curve 9 (m = 431), as certificates and CMS signatures are checked, and a whole
// detached CAdES verification of a 1 MiB file (GOST 34.311 of the file, then the signature).
struct DstuFixture {
  std::string hash = crypto::Gost34311::digest("bench");
  crypto::dstu::PublicKey keys[2];
  std::string signatures[2];
  std::string file = std::string(1 << 20, 'x');
  crypto::CmsSignature cms;
  crypto::TrustStore trust;

  static DstuFixture& get() {
    static DstuFixture f;
    return f;
  }

 private:
  DstuFixture() {
    const int curves[2] = {6, 9};
    for (int i = 0; i < 2; ++i) {
      auto key = crypto::dstu::generate(crypto::dstu::standardCurve(curves[i]));
      auto pub = crypto::dstu::publicKey(crypto::dstu::namedParameters(curves[i]), crypto::dstu::publicKeyBits(*key));
      keys[i] = std::move(pub).value();
      signatures[i] = *crypto::dstu::sign(*key, hash);
    }
    const std::string dir = std::string(VKHID_BUILD_DIR) + "/bench-dstu";
    if (!crypto::dstu::makeTestPki(dir, {"99999911"})) throw std::runtime_error("no DSTU test PKI");
    auto signer = crypto::dstu::DstuSigner::load(dir + "/dstu-99999911.key", dir + "/dstu-99999911.cer");
    RAND_bytes(reinterpret_cast<unsigned char*>(file.data()), static_cast<int>(file.size()));
    cms = *signer->signCms(file);
    (void)trust.addAny(*crypto::readFile(dir + "/dstu-ca.cer"));
  }
};

void DstuVerify(benchmark::State& state) {
  auto& f = DstuFixture::get();
  const auto i = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto ok = crypto::dstu::verify(f.keys[i], f.hash, f.signatures[i]);
    if (!ok || !*ok) state.SkipWithError("DSTU verification failed");
  }
  state.SetLabel(i == 0 ? "m = 257" : "m = 431");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(DstuVerify)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void Gost34311OneMiB(benchmark::State& state) {
  auto& f = DstuFixture::get();
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Gost34311::digest(f.file));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.file.size()));
}
BENCHMARK(Gost34311OneMiB)->Unit(benchmark::kMicrosecond);

void DstuCadesVerifyOneMiB(benchmark::State& state) {
  auto& f = DstuFixture::get();
  for (auto _ : state) {
    auto v = crypto::verifyCades(f.file, f.cms.der, f.trust);
    if (!v.signature.valid()) state.SkipWithError(v.signature.detail.c_str());
  }
  state.SetLabel("m = 431, chain of two, 1 MiB");
}
BENCHMARK(DstuCadesVerifyOneMiB)->Unit(benchmark::kMicrosecond);

// A package deflated before it is sealed at rest (store::at_rest_detail::deflated: libdeflate at level 1
// since session 37), against zlib at level 1 with its defaults (compress2: a 32 KiB window whatever the
// text) and with the window sized to the text (session 36's), on three real SEV OVV messages: a receipt
// (839 B), a reply (2,524 B) and a document (24,769 B).
const std::string& sample(int which) {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (const char* name : {"ds13-ack1-delivered.xml", "ds09-reply-to-approval.xml", "ds03-doc-for-approval.xml"}) {
      auto text = crypto::readFile(std::string(VKHID_SOURCE_DIR) + "/tests/data/sev-ovv-1.5/samples/" + name);
      if (!text) throw std::runtime_error(text.error().message);
      out.push_back(std::move(*text));
    }
    return out;
  }();
  return texts.at(static_cast<std::size_t>(which));
}

void AtRestDeflate(benchmark::State& state) {
  const std::string& text = sample(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(store::at_rest_detail::deflated(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  // The stream's size, without the 4 bytes of length (every sample is long enough to be deflated).
  const auto stored = store::at_rest_detail::deflated(text);
  if (!stored)
    state.SkipWithError("the sample was not deflated");
  else
    state.counters["out_bytes"] = static_cast<double>(stored->size() - 4);
}
BENCHMARK(AtRestDeflate)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

void ZlibDefaultsDeflate(benchmark::State& state) {
  const std::string& text = sample(static_cast<int>(state.range(0)));
  std::string out(compressBound(static_cast<uLong>(text.size())), '\0');
  for (auto _ : state) {
    uLongf size = static_cast<uLongf>(out.size());
    benchmark::DoNotOptimize(compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                                       reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()),
                                       1));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(ZlibDefaultsDeflate)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

void ZlibSizedWindowDeflate(benchmark::State& state) {
  const std::string& text = sample(static_cast<int>(state.range(0)));
  int window = 9;
  while (window < 15 && (std::size_t{1} << window) < text.size()) ++window;
  std::string out(compressBound(static_cast<uLong>(text.size())), '\0');
  uLong out_bytes = 0;
  for (auto _ : state) {
    z_stream z{};
    deflateInit2(&z, 1, Z_DEFLATED, window, std::clamp(window - 7, 2, 8), Z_DEFAULT_STRATEGY);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    benchmark::DoNotOptimize(deflate(&z, Z_FINISH));
    out_bytes = z.total_out;
    deflateEnd(&z);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["out_bytes"] = static_cast<double>(out_bytes);  // set once, outside the timed loop
}
BENCHMARK(ZlibSizedWindowDeflate)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
