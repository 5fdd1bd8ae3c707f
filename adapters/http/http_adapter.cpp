#include "adapters/http/http_adapter.hpp"

#include <boost/json.hpp>
#include <mutex>

#include "gateway/app/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/http/client.hpp"
#include "gateway/http/server.hpp"

namespace vkhid::adapters::http {
namespace {

namespace json = boost::json;

std::optional<std::chrono::milliseconds> retryAfter(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end()) return std::nullopt;
  try {
    long s = std::stol(it->second);
    if (s >= 0 && s < 86400) return std::chrono::seconds(s);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

class HttpAdapter final : public Adapter {
 public:
  explicit HttpAdapter(Settings settings) : settings_(std::move(settings)) {}
  ~HttpAdapter() override { stop(); }

  std::string name() const override { return kName; }

  vkhid::http::TlsClientOptions tlsFor(const Endpoint& e) const {
    return {e.setting("ca_file"), settings_.tls_cert_file, settings_.tls_key_file, e.setting("server_name")};
  }

  DeliveryOutcome deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& e) override {
    std::string url = e.setting("url");
    if (url.empty() || e.setting("ca_file").empty()) {
      return DeliveryOutcome::failed("endpoint needs url and ca_file");
    }
    auto tls = tlsFor(e);
    auto r = vkhid::http::post(url, "application/xml", std::string(bytes), settings_.publish_timeout, &tls);
    if (!r) return DeliveryOutcome::retry(r.error().message);
    if (r->status >= 200 && r->status < 300) return DeliveryOutcome::delivered(msg_id);
    if (r->status == 408 || r->status == 429 || r->status >= 500) {
      auto out = DeliveryOutcome::retry("HTTP " + std::to_string(r->status));
      out.retry_after = retryAfter(r->headers);
      return out;
    }
    return DeliveryOutcome::failed("HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 500));
  }

  Status health(const Endpoint&) override { return {}; }

  std::string address(const Endpoint& e) const override {
    std::string url = e.setting("url");
    auto at = url.find("://");
    std::string rest = at == std::string::npos ? url : url.substr(at + 3);
    std::string hostport = rest.substr(0, rest.find('/'));
    if (hostport.find(':') == std::string::npos) hostport += url.starts_with("https") ? ":443" : ":80";
    return hostport;
  }

  TlsProbe probeTls(const Endpoint& e) override {
    std::string hostport = address(e);
    auto colon = hostport.rfind(':');
    auto peer = vkhid::http::tlsHandshake(hostport.substr(0, colon), hostport.substr(colon + 1),
                                          settings_.publish_timeout, tlsFor(e));
    if (!peer) return {true, false, peer.error().message};
    return {true, true,
            "certificate " + peer->subject + ", issued by " + peer->issuer + ", valid until " + peer->not_after};
  }

  Status startInbound(const std::vector<Endpoint>&, InboundSink sink) override {
    std::lock_guard lock(mutex_);
    if (server_) return {};
    auto hp = vkhid::app::parseHostPort(settings_.listen);
    if (!hp) return hp.error();
    vkhid::http::ServerOptions options;
    options.host = hp->host;
    options.port = hp->port;
    options.name = "edms";
    options.threads = 2;
    options.workers = std::max(2, settings_.inbound_workers);
    options.max_body_bytes = settings_.max_package_bytes;  // what the core would refuse is not even read
    options.tls_cert_file = settings_.tls_cert_file;
    options.tls_key_file = settings_.tls_key_file;
    options.client_ca_file = settings_.client_ca_file;
    options.require_client_cert = true;
    auto server = vkhid::http::HttpServer::start(options, [sink](const vkhid::http::Request& r) {
      if (r.path() != kInboundPath)
        return vkhid::http::Response::problem(404, "Not found", "POST to " + std::string(kInboundPath));
      if (r.method != "POST") return vkhid::http::Response::problem(405, "Method not allowed", "use POST");
      InboundVerdict verdict;
      InboundPackage package{r.body, kName, "tls:" + r.client_cert_sha256, {}, &verdict, {}};
      if (auto s = sink(package); !s) {
        auto out = vkhid::http::Response::problem(503, "Unavailable", "not taken now; send it again");
        out.headers.emplace_back("Retry-After", "5");
        return out;
      }
      if (verdict.accepted) {
        return vkhid::http::Response::json(202, json::serialize(json::object{{"msg_id", verdict.msg_id}}));
      }
      json::object problem{{"type", "about:blank"},
                           {"title", "Package refused"},
                           {"status", 422},
                           {"code", verdict.error_code},
                           {"detail", verdict.detail}};
      return vkhid::http::Response{422, "application/problem+json", json::serialize(problem), {}};
    });
    if (!server) {
      log::warn("http adapter: cannot listen", {{"listen", settings_.listen}, {"error", server.error().message}});
      return server.error();
    }
    server_ = std::move(server).value();
    log::info("http adapter: listening for participants", {{"port", static_cast<int>(server_->port())}});
    return {};
  }

  void stop() override {
    std::lock_guard lock(mutex_);
    if (server_) {
      server_->stop(std::chrono::seconds(2));
      server_.reset();
    }
  }

 private:
  Settings settings_;
  std::mutex mutex_;
  std::unique_ptr<vkhid::http::HttpServer> server_;
};

}  // namespace

std::unique_ptr<Adapter> makeAdapter(Settings settings) { return std::make_unique<HttpAdapter>(std::move(settings)); }

}  // namespace vkhid::adapters::http
