// The simulated EDMS's transports: the gateway's packages taken in, and its own sent, over amqp, http,
// a folder pair or a SEV hub.
#include <amqp.h>

#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <filesystem>
#include <mutex>
#include <sstream>
#include "adapters/folder/folder_adapter.hpp"
#include "adapters/sevhub/hub_client.hpp"
#include "gateway/app/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/amqp.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/dstu_signer.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/http/client.hpp"
#include "gateway/http/server.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"
#include "tools/sim_participant.hpp"
namespace vkhid::tools::sim {

int Simulator::runHttp() {
  auto hp = app::parseHostPort(o_.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim participant: --listen: expected host:port\n");
    return 2;
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
  std::atomic<int> fail_left{o_.fail_first};
  auto server = http::HttpServer::start(so, [this, &fail_left](const http::Request& r) {
    if (r.method != "POST") return http::Response::problem(405, "Method not allowed", "POST a package");
    if (o_.respond_after_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.respond_after_ms));
    if (fail_left.fetch_sub(1) > 0) {
      auto out = http::Response::problem(503, "Busy", "try again");
      out.headers.emplace_back("Retry-After", "1");
      return out;
    }
    std::lock_guard lock(inbox_mutex_);
    http_inbox_.push_back(r.body);
    return http::Response::json(200, "{}");
  });
  if (!server) {
    std::fprintf(stderr, "vkhid sim participant: %s\n", server.error().message.c_str());
    return 1;
  }
  for (int i = 0; i < o_.send_appeals; ++i) schedule(ownAppeal(i + 1), 0);
  while (!g_stop) {
    std::deque<std::string> arrived;
    {
      std::lock_guard lock(inbox_mutex_);
      arrived.swap(http_inbox_);
    }
    for (const auto& bytes : arrived) handle(bytes);
    flushHttp();
    writeStats();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (*server)->stop(std::chrono::seconds(1));
  writeStats(true);
  return 0;
}

int Simulator::runFolder() {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(o_.inbox_dir) / "done");
  fs::create_directories(o_.outbox_dir);
  for (int i = 0; i < o_.send_appeals; ++i) schedule(ownAppeal(i + 1), 0);
  while (!g_stop) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(o_.inbox_dir)) {
      if (f.is_regular_file() && f.path().extension() == ".xml") files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      in.close();
      handle(bytes.str());
      std::error_code ec;
      fs::rename(path, fs::path(o_.inbox_dir) / "done" / path.filename(), ec);
    }
    flushPending([&](const std::string& bytes) {
      return adapters::folder::writeAtomically(o_.outbox_dir, flows::newUuid() + ".xml", bytes).ok();
    });
    writeStats();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writeStats(true);
  return 0;
}

int Simulator::runHub() {
  namespace hub = adapters::sevhub;
  hub::HubClient client({o_.hub_url, {o_.hub_system_id, o_.hub_password}, o_.hub_ca});
  for (int i = 0; i < o_.send_appeals; ++i) schedule(ownAppeal(i + 1), 0);
  while (!g_stop) {
    if (auto list = client.inputMessages(50)) {
      for (const auto& info : *list) {
        auto d = client.download(info.message_id);
        if (!d) {
          stats_["download_failures"]++;
          continue;
        }
        handle(d->bytes);
        if (!client.endProcessing(d->session, true)) stats_["end_failures"]++;
      }
    }
    flushPending([&](const std::string& bytes) {
      hub::MessageInfo info;
      info.message_id = hub::headerAttribute(bytes, "msg_id");
      info.to_org_id = o_.ucc_org;
      info.type = hub::messageTypeFor(std::atoi(hub::headerAttribute(bytes, "msg_type").c_str()));
      return client.upload(bytes, info, std::chrono::seconds(10)).ok();
    });
    writeStats();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  writeStats(true);
  return 0;
}

int Simulator::run() {
  if (o_.via == "http") return runHttp();
  if (o_.via == "folder") return runFolder();
  if (o_.via == "sev-hub") return runHub();
  for (int i = 0; i < o_.send_appeals; ++i) schedule(ownAppeal(i + 1), 0);
  while (!g_stop) {
    // No heartbeats: rabbitmq-c serves them only while reading, and the publishing connection may
    // sit idle between answers; a broken connection shows as a failed publish and we reconnect.
    auto in = bus::AmqpConnection::connect({o_.broker_url, 5, 0, std::chrono::milliseconds(5000), o_.queue_type});
    auto out = bus::AmqpConnection::connect({o_.broker_url, 5, 0, std::chrono::milliseconds(5000), o_.queue_type});
    if (!in || !out || !bus::declarePeerQueue(*in, inbox_) || !bus::declarePeerQueue(*out, outbox_) ||
        !in->setPrefetch(50) || !in->consume(inbox_)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    while (!g_stop) {
      if (!flushDue(*out)) break;  // reconnect both; what is pending stays pending
      auto d = in->next(std::chrono::milliseconds(50));
      if (!d) break;
      if (!d->has_value()) {
        flushStats();
        continue;
      }
      handle((*d)->body);
      bool flushed = flushDue(*out);
      if (!in->ack((*d)->tag)) break;
      writeStats();
      if (!flushed) break;
    }
  }
  writeStats(true);
  return 0;
}

bool Simulator::flushDue(bus::AmqpConnection& out) {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::size_t> published;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].due > now) continue;
    if (published.empty()) flushStats(true);
    bus::PublishProperties props;
    props.user_id = user_;  // the broker checks it: the gateway learns who we are from it
    props.content_type = "application/xml";
    if (!out.publish("", outbox_, pending_[i].bytes, props)) {
      stats_["publish_failures"]++;
      return false;
    }
    published.push_back(i);
  }
  if (published.empty()) return true;
  if (!out.waitForConfirms(std::chrono::seconds(10))) {
    stats_["publish_failures"]++;
    return false;
  }
  for (auto it = published.rbegin(); it != published.rend(); ++it) {
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(*it));
  }
  stats_["sent"] += static_cast<long long>(published.size());
  return true;
}

void Simulator::flushHttp() {
  http::TlsClientOptions tls{o_.trust, o_.tls_cert, o_.tls_key, "localhost"};
  flushPending([&](const std::string& bytes) {
    auto r = http::post(o_.gateway_url, "application/xml", bytes, std::chrono::seconds(10), &tls);
    if (!r || r->status >= 500 || r->status == 429) return false;
    if (r->status >= 400) stats_["refused_by_gateway"]++;
    return true;
  });
}

void Simulator::flushPending(const std::function<bool(const std::string&)>& send) {
  auto now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->due > now) {
      ++it;
      continue;
    }
    flushStats(true);  // when it has changed: a no-op after the first
    if (!send(it->bytes)) {
      stats_["publish_failures"]++;
      return;
    }
    stats_["sent"]++;
    it = pending_.erase(it);
  }
}

}  // namespace vkhid::tools::sim
