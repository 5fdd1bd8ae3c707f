// The simulated EDMS's transports: the product's own adapters, seen from the participant's side. The
// gateway is the simulator's one endpoint, with each adapter's settings mirrored — on amqp it publishes
// to the queue the gateway consumes and consumes the one the gateway publishes to; on a folder pair it
// writes where the gateway reads; on the SEV hub it is a hub account like the gateway's; on http it POSTs
// to the gateway's inbound URL with its client certificate. What arrives over http comes to the
// simulator's own HTTPS server: an EDMS's endpoint is its own server (its own path and answers, and the
// misbehaviours it is asked for), which no adapter plays — the http adapter's server is the gateway's.
#include <filesystem>
#include <thread>

#include "adapters/amqp/amqp_adapter.hpp"
#include "adapters/folder/config.hpp"
#include "adapters/http/config.hpp"
#include "adapters/sevhub/config.hpp"
#include "gateway/app/config.hpp"
#include "gateway/http/server.hpp"
#include "tools/sim_participant.hpp"

namespace vkhid::tools::sim {
namespace {

constexpr std::chrono::milliseconds kTimeout{10000};

}  // namespace

std::unique_ptr<adapters::Adapter> Simulator::makeTransport() {
  gateway_ = adapters::Endpoint{o_.ucc_org, o_.via, {}};
  if (o_.via == "folder") {
    gateway_.settings = {{"outgoing", o_.outbox_dir}, {"incoming", o_.inbox_dir}};
    return adapters::folder::makeAdapter(adapters::folder::Settings{std::size_t{64} << 20});
  }
  if (o_.via == "sev-hub") {
    adapters::sevhub::Settings s;
    s.url = o_.hub_url;
    s.system_id = o_.hub_system_id;
    s.password = o_.hub_password;
    s.ca_file = o_.hub_ca;
    s.poll = std::chrono::milliseconds(100);
    s.publish_timeout = kTimeout;
    return adapters::sevhub::makeAdapter(std::move(s));
  }
  if (o_.via == "http") {
    gateway_.settings = {{"url", o_.gateway_url}, {"ca_file", o_.trust}, {"server_name", "localhost"}};
    adapters::http::Settings s;
    s.tls_cert_file = o_.tls_cert;
    s.tls_key_file = o_.tls_key;
    s.publish_timeout = kTimeout;
    return adapters::http::makeAdapter(std::move(s));
  }
  gateway_.settings = {{"inbox_queue", outbox_}, {"outbox_queue", inbox_}};
  adapters::amqp::Settings s;
  s.broker_url = o_.broker_url;
  s.queue_type = o_.queue_type;
  s.user_id = user_;  // the broker checks it: the gateway learns who we are from it
  s.publish_timeout = kTimeout;
  s.prefetch = 50;
  s.inbound_workers = 1;  // one package at a time, in the order they came
  return std::make_unique<adapters::amqp::AmqpAdapter>(std::move(s));
}

Status Simulator::take(const adapters::InboundPackage& package) {
  std::lock_guard lock(state_mutex_);
  handle(package.bytes);
  // Read (what it refuses goes back as a rejection receipt): the transport may let it go.
  if (package.verdict) package.verdict->accepted = true;
  // What is due now goes out before the package is let go: a restart never loses our answer to it.
  flushDue();
  writeStats();
  return {};
}

void Simulator::flushDue() {
  const auto now = std::chrono::steady_clock::now();
  // What is due goes together, in order: the transport may have it in flight at once (amqp: one wait for
  // all the broker's confirms).
  std::vector<std::size_t> due;
  std::vector<adapters::OutboundPackage> packages;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].due > now) continue;
    due.push_back(i);
    packages.push_back({pending_[i].bytes, pending_[i].msg_id});
  }
  if (due.empty()) return;
  flushStats(true);  // when it has changed
  const auto outcomes = transport_->deliverAll(packages, gateway_);
  std::size_t gone = 0;
  for (; gone < due.size(); ++gone) {
    if (outcomes[gone].kind == adapters::DeliveryOutcome::Kind::Retry) {
      stats_["publish_failures"]++;  // the rest waits for the next round, in order
      break;
    }
    // Refused by the gateway's transport (a 4xx over http) is final: the gateway has answered.
    if (outcomes[gone].kind == adapters::DeliveryOutcome::Kind::Failed) stats_["refused_by_gateway"]++;
    stats_["sent"]++;
  }
  // packages[] views the bytes in pending_: they leave it only now, the last first.
  for (std::size_t k = gone; k-- > 0;) pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(due[k]));
}

std::unique_ptr<http::HttpServer> Simulator::listen() {
  auto hp = app::parseHostPort(o_.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim participant: --listen: expected host:port\n");
    return nullptr;
  }
  http::ServerOptions so;
  so.host = hp->host;
  so.port = hp->port;
  so.name = "sim-edms";
  so.threads = 2;
  so.workers = o_.respond_after_ms > 0 ? 8 : 2;
  so.max_body_bytes = 64u << 20;
  so.tls_cert_file = o_.tls_cert;
  so.tls_key_file = o_.tls_key;
  so.client_ca_file = o_.trust;
  so.require_client_cert = true;
  auto server = http::HttpServer::start(so, [this](const http::Request& r) {
    if (r.method != "POST") return http::Response::problem(405, "Method not allowed", "POST a package");
    if (o_.respond_after_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.respond_after_ms));
    if (fail_left_.fetch_sub(1) > 0) {
      auto out = http::Response::problem(503, "Busy", "try again");
      out.headers.emplace_back("Retry-After", "1");
      return out;
    }
    // Taken now, read by the main loop: the gateway's delivery is answered before our receipts go.
    std::lock_guard lock(inbox_mutex_);
    http_inbox_.push_back(r.body);
    return http::Response::json(200, "{}");
  });
  if (!server) {
    std::fprintf(stderr, "vkhid sim participant: %s\n", server.error().message.c_str());
    return nullptr;
  }
  return std::move(server).value();
}

int Simulator::run() {
  transport_ = makeTransport();
  fail_left_ = o_.fail_first;
  if (o_.via == "folder") {
    std::filesystem::create_directories(o_.inbox_dir);
    std::filesystem::create_directories(o_.outbox_dir);
  }
  std::unique_ptr<http::HttpServer> server;
  if (o_.via == "http") {
    server = listen();
    if (!server) return 1;
  } else if (auto s = transport_->startInbound({gateway_}, [this](const auto& p) { return take(p); }); !s) {
    std::fprintf(stderr, "vkhid sim participant: %s\n", s.error().message.c_str());
    return 1;
  }
  {
    std::lock_guard lock(state_mutex_);
    for (int i = 0; i < o_.send_appeals; ++i) schedule(ownAppeal(i + 1), 0);
  }
  while (!g_stop) {
    std::deque<std::string> arrived;
    {
      std::lock_guard lock(inbox_mutex_);
      arrived.swap(http_inbox_);
    }
    for (const auto& bytes : arrived) (void)take({bytes, "http", {}, {}, nullptr, {}});
    {
      std::lock_guard lock(state_mutex_);
      flushDue();
      flushStats();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (server) server->stop(std::chrono::seconds(1));
  transport_->stop();
  std::lock_guard lock(state_mutex_);
  writeStats(true);
  return 0;
}

}  // namespace vkhid::tools::sim
