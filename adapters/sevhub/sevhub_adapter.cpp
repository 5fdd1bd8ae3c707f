#include "adapters/sevhub/sevhub_adapter.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "adapters/sevhub/hub_client.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"

namespace vkhid::adapters::sevhub {
namespace {

class SevHubAdapter final : public Adapter {
 public:
  explicit SevHubAdapter(Settings settings) : settings_(std::move(settings)) {}
  ~SevHubAdapter() override { stop(); }

  std::string name() const override { return kName; }

  HubSettings settings() const {
    HubSettings s;
    s.url = settings_.url;
    s.identity = {settings_.system_id, settings_.password};
    s.ca_file = settings_.ca_file;
    s.timeout = settings_.publish_timeout;
    return s;
  }

  DeliveryOutcome deliver(std::string_view bytes, const std::string& msg_id, const Endpoint& e) override {
    if (settings_.url.empty()) return DeliveryOutcome::failed("sevhub.url is not configured");
    MessageInfo info;
    info.message_id = msg_id;
    info.from_org_id = headerAttribute(bytes, "from_org_id");
    info.from_sys_id = settings_.system_id;
    info.to_org_id = e.org_id;
    info.to_sys_id = e.setting("sys_id", headerAttribute(bytes, "to_sys_id"));
    std::string msg_type = headerAttribute(bytes, "msg_type");
    info.type = messageTypeFor(msg_type.empty() ? 1 : std::atoi(msg_type.c_str()));
    HubClient client(settings());
    auto s = client.upload(bytes, info, settings_.publish_timeout);
    if (s) return DeliveryOutcome::delivered("hub session " + std::to_string(s->session_id));
    if (s.error().code == "sevhub.unavailable") return DeliveryOutcome::retry(s.error().message);
    return DeliveryOutcome::failed(s.error().message);
  }

  Status health(const Endpoint&) override {
    HubClient client(settings());
    auto r = client.inputMessages(0);
    return r ? Status() : Status(r.error());
  }

  std::string address(const Endpoint&) const override {
    std::string url = settings_.url;
    auto at = url.find("://");
    std::string rest = at == std::string::npos ? url : url.substr(at + 3);
    rest = rest.substr(0, rest.find('/'));
    if (rest.find(':') == std::string::npos) rest += url.starts_with("https:") ? ":443" : ":80";
    return rest;
  }

  TlsProbe probeTls(const Endpoint& e) override {
    if (!settings_.url.starts_with("https:")) return {};
    std::string hostport = address(e);
    auto colon = hostport.rfind(':');
    auto peer = vkhid::http::tlsHandshake(hostport.substr(0, colon), hostport.substr(colon + 1),
                                          settings_.publish_timeout, {settings_.ca_file, {}, {}, {}});
    if (!peer) return {true, false, peer.error().message};
    return {true, true,
            "hub certificate " + peer->subject + ", issued by " + peer->issuer + ", valid until " + peer->not_after};
  }

  Status startInbound(const std::vector<Endpoint>& endpoints, InboundSink sink) override {
    stop();
    if (endpoints.empty() || settings_.url.empty()) return {};
    stopping_ = false;
    poller_ = std::thread([this, sink = std::move(sink)] { poll(sink); });
    return {};
  }

  void stop() override {
    stopping_ = true;
    if (poller_.joinable()) poller_.join();
  }

 private:
  void poll(const InboundSink& sink) {
    HubClient client(settings());
    while (!stopping_) {
      auto list = client.inputMessages(50);
      if (!list) {
        log::warn("sev-hub: cannot list incoming messages", {{"error", list.error().message}});
      } else {
        for (const auto& info : *list) {
          if (stopping_) return;
          take(client, info, sink);
        }
      }
      auto wake = std::chrono::steady_clock::now() + settings_.poll;
      while (!stopping_ && std::chrono::steady_clock::now() < wake) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  void take(HubClient& client, const MessageInfo& info, const InboundSink& sink) {
    auto d = client.download(info.message_id);
    InboundVerdict verdict;
    InboundPackage package{{}, kName, endpointIdentity(kName, info.from_org_id), info.from_org_id, &verdict, {}};
    SessionInfo session;
    if (d) {
      failures_.erase(info.message_id);
      package.bytes = std::move(d->bytes);
      session = d->session;
    } else {
      app::metrics().counter("vkhid_sevhub_download_failures_total", "Hub downloads not completed").inc();
      log::warn("sev-hub: download not completed", {{"error", d.error().message}});
      // Left in the hub's inbox for the next poll — unless it never arrives as the hub says it should:
      // after kParkAfter polls it is set aside (recorded and alerted by the core, refused at the hub), so
      // one message cannot be downloaded again and again for ever.
      if (d.error().code != "sevhub.unverified" || ++failures_[info.message_id] < kParkAfter) {
        if (failures_.size() > 10000) failures_.clear();
        return;
      }
      failures_.erase(info.message_id);
      std::tie(package.bytes, session) = client.lastUnverified();
      package.transfer_problem = d.error().message;
    }
    if (auto s = sink(package); !s) return;  // not handled now: it stays in the inbox
    auto ended = client.endProcessing(session, verdict.accepted, verdict.error_code, verdict.detail);
    if (!ended) log::warn("sev-hub: end of processing not confirmed", {{"error", ended.error().message}});
  }

  static constexpr int kParkAfter = 3;
  std::map<std::string, int> failures_;  // message id -> polls whose download did not verify (poller only)

  Settings settings_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

}  // namespace

std::unique_ptr<Adapter> makeAdapter(Settings settings) { return std::make_unique<SevHubAdapter>(std::move(settings)); }

}  // namespace vkhid::adapters::sevhub
