// `vkhid bench`: this machine's bounds, measured before the load with the same keys and servers.
#include <atomic>
#include <thread>

#include "gateway/bus/amqp.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/store/pg.hpp"
#include "tools/bench_support.hpp"

namespace vkhid::tools::bench {
namespace {

// Seals and verifications of a receipt package per second, two threads each.
Status measureSignatures(const std::string& pki, const std::string& to_org, MachineBounds& b) {
  auto signer = crypto::FileSigner::load(pki + "/ucc-seal.key", pki + "/ucc-seal.pem");
  if (!signer) return signer.error();
  auto trust = crypto::TrustStore::fromFile(pki + "/ca.pem");
  if (!trust) return trust.error();
  auto receiptBytes = [&] {  // each call its own envelope: called from two threads at once
    sev::Envelope e{{"99999901", "УКЦ", "ucc", "Vkhid"},
                    {to_org, "Учасник", "edms-p1", "СЕД"},
                    flows::newUuid(),
                    formatIsoUtc(std::time(nullptr))};
    return crypto::sealedPackage(sev::buildReceipt(e, flows::newUuid(), sev::AckType::Delivered), *signer);
  };
  auto sample = receiptBytes();
  if (!sample) return sample.error();
  b.seal_per_s = rateOf(
      2, 2.0, [&](int) { return receiptBytes().ok(); }, &b.seal_cpu_ms);
  b.verify_per_s = rateOf(
      2, 2.0, [&](int) { return crypto::verifyPackage(*sample, *trust, {}).ok(); }, &b.verify_cpu_ms);
  return {};
}

// Committed single-row transactions per second on 8 connections, and one commit's latency.
Status measurePostgres(const std::string& db_url, MachineBounds& b) {
  std::vector<store::PgConnection> pgs;
  for (int i = 0; i < 8; ++i) {
    auto c = store::PgConnection::connect({db_url, 5, 60000, "vkhid-bench-bound"});
    if (!c) return c.error();
    pgs.push_back(std::move(c).value());
  }
  (void)pgs[0].exec("CREATE TABLE bench_tx (id bigserial PRIMARY KEY, payload text)");
  b.pg_commits_per_s = rateOf(8, 2.0, [&](int t) {
    return pgs[static_cast<std::size_t>(t)].exec("INSERT INTO bench_tx (payload) VALUES ('x')").ok();
  });
  auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) (void)pgs[0].exec("INSERT INTO bench_tx (payload) VALUES ('y')");
  b.pg_commit_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 100.0;
  return {};
}

// Persistent 1,200-byte messages published (with confirms) and consumed per second, and one confirmed
// publish's latency. Zero when the broker cannot be reached.
void measureRabbitmq(const std::string& amqp_urls, const std::string& queue_type, MachineBounds& b) {
  bus::AmqpSettings s{amqp_urls, 5, 0, std::chrono::milliseconds(10000), queue_type};
  auto pub = bus::AmqpConnection::connect(s);
  auto sub = bus::AmqpConnection::connect(s);
  if (!pub || !sub || !bus::declarePeerQueue(*pub, "bench.bound") || !sub->setPrefetch(200) ||
      !sub->consume("bench.bound")) {
    return;
  }
  std::atomic<bool> stop{false};
  std::atomic<long long> consumed{0};
  std::thread consumer([&] {
    while (!stop) {
      auto d = sub->next(std::chrono::milliseconds(50));
      if (d && d->has_value() && sub->ack((*d)->tag)) consumed++;
    }
  });
  auto start = Clock::now();
  bus::PublishProperties props;
  while (Clock::now() - start < std::chrono::seconds(2)) {
    for (int i = 0; i < 50; ++i) (void)pub->publish("", "bench.bound", std::string(1200, 'x'), props);
    (void)pub->waitForConfirms(std::chrono::seconds(5));
  }
  auto published = std::chrono::duration<double>(Clock::now() - start).count();
  while (consumed.load() == 0 && Clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  consumer.join();
  b.mq_messages_per_s = static_cast<double>(consumed) / published;
  // One persistent message at a time, each waiting for its confirm: what a sequential hop costs.
  auto t0 = Clock::now();
  for (int i = 0; i < 100; ++i) {
    (void)pub->publish("", "bench.bound", std::string(1200, 'x'), props);
    (void)pub->waitForConfirms(std::chrono::seconds(5));
  }
  b.mq_confirm_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 100.0;
}

}  // namespace

Result<MachineBounds> measureBounds(const std::string& pki, const std::string& to_org, const std::string& db_url,
                                    const std::string& amqp_urls, const std::string& queue_type) {
  MachineBounds b;
  if (auto s = measureSignatures(pki, to_org, b); !s) return s.error();
  if (auto s = measurePostgres(db_url, b); !s) return s.error();
  measureRabbitmq(amqp_urls, queue_type, b);
  return b;
}

}  // namespace vkhid::tools::bench
