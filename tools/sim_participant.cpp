// A participant's EDMS, simulated over the amqp adapter: it takes packages from its inbox queue,
// verifies them, answers with receipts 1 -> 2 -> 3 (its own registration numbers) and later a signed
// reply — or misbehaves on purpose. It speaks only the real protocol: SEV OVV packages over AMQP.
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
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

std::atomic<bool> g_stop{false};

struct SimOptions {
  std::string via = "amqp";
  std::string org, name = "Симулятор учасника", key, cert, trust, broker_url, stats_file;
  std::string queue_type = "classic";  // amqp: its queues' type (quorum on a cluster)
  int answer_after_ms = 0;
  int reject_code = 0;
  int reject_first = 0;  // with reject_code: only the first N appeals (0: all)
  int drop = 0;
  std::string forward_to;  // reject as not in competence, naming this body
  int send_appeals = 0;    // appeals of its own contact centre to send in at start
  int extend_days = 0;     // after registering, extend the answer deadline to now + this many days
  std::string ucc_org = "99999901";
  // --via http: its own HTTPS endpoint, and the gateway's
  std::string listen = "127.0.0.1:9443", tls_cert, tls_key, gateway_url;
  int fail_first = 0;                // answer 503 to the first N packages the gateway delivers
  bool accept_tampered = false;      // misbehave: take packages whose signatures do not verify
  bool register_duplicates = false;  // misbehave: register a repeated msg_id again
  int respond_after_ms = 0;          // http: answer each delivered package only after this long (a slow endpoint)
  // --via folder: where the gateway puts packages for us, and where we put ours for it
  std::string inbox_dir, outbox_dir;
  // --via sev-hub: our account on the hub
  std::string hub_url, hub_system_id, hub_password, hub_ca;
  bool duplicate = false, reorder = false, bad_seal = false, malformed = false, no_answer = false;
  // A DSTU 4145 signer (dstu-<org>.{cer,key} of `vkhid crypto test-pki`): attachments are signed with it
  std::string dstu_key, dstu_cert;
  bool no_seal = false;        // send packages without an XML-DSig seal, as real SEV OVV 1.5 systems do
  bool bad_signature = false;  // change each answer's file after signing it: its signature no longer holds
};

struct Outgoing {
  std::chrono::steady_clock::time_point due;
  std::string bytes;
};

class Simulator {
 public:
  Simulator(SimOptions o, crypto::FileSigner signer, crypto::TrustStore trust,
            std::optional<crypto::dstu::DstuSigner> dstu = std::nullopt)
      : o_(std::move(o)), signer_(std::move(signer)), trust_(std::move(trust)), dstu_(std::move(dstu)) {
    inbox_ = "edms." + o_.org + ".in";
    outbox_ = "edms." + o_.org + ".out";
    auto nodes = bus::brokerNodes(o_.broker_url);  // one user on every node of a cluster
    std::string url = nodes.empty() ? std::string() : nodes.front();
    amqp_connection_info info{};
    if (amqp_parse_url(url.data(), &info) == AMQP_STATUS_OK) user_ = info.user;
    // Restarted, an EDMS keeps its register: the counters and the registration numbering go on from
    // where the last run's stats file left them.
    if (!o_.stats_file.empty()) {
      if (auto text = crypto::readFile(o_.stats_file)) {
        boost::system::error_code ec;
        auto v = boost::json::parse(*text, ec);
        if (!ec && v.is_object()) {
          for (const auto& kv : v.as_object()) {
            if (kv.value().is_int64() && kv.key() != "connections")
              stats_[std::string(kv.key())] = kv.value().as_int64();
          }
        }
      }
      registered_ = static_cast<int>(stats_["registered"]);
    }
  }

  // --via http: packages arrive at our HTTPS endpoint; what we send goes to the gateway's by POST.
  int runHttp() {
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

  // --via folder: packages appear in the inbox folder (renamed in when complete); ours are written
  // into the outbox folder the same way.
  int runFolder() {
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

  // --via sev-hub: our account's inbox on the hub is polled; what we send is uploaded to the UCC's.
  int runHub() {
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

  int run() {
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

 private:
  void handle(const std::string& bytes) {
    stats_["received"]++;
    auto report = crypto::verifyPackage(bytes, trust_, {true, {}, {}});
    if (!report.header) {
      stats_["invalid"]++;
      return;
    }
    if (!report.ok() && !o_.accept_tampered) {
      // Read, but its seal or signatures do not hold: refused with a receipt 4 naming why, as an EDMS must.
      stats_["invalid"]++;
      const auto& bad = *report.header;
      if (bad.msg_acknow.value_or(0) >= 1 && seen_.insert(bad.msg_id).second) {
        auto code = sev::sevErrorOf(report.findings.front()).value_or(sev::SevError::SealInvalid);
        sev::Envelope back{me(), them(bad), flows::newUuid(), formatIsoUtc(std::time(nullptr))};
        std::string r =
            seal(sev::buildReceipt(back, bad.msg_id, sev::AckType::Rejected, std::nullopt,
                                   sev::Rejection{static_cast<int>(code), sev::sevErrorInfo(code).errortext}));
        answers_[bad.msg_id] = {r};
        schedule(r, 0);
        stats_["refused_invalid"]++;
      }
      return;
    }
    if (!report.ok()) stats_["accepted_tampered"]++;
    const auto& h = *report.header;
    if (o_.register_duplicates && !seen_.insert(h.msg_id).second) {
      stats_["duplicates_registered_again"]++;  // misbehaving: a repeat registered under a new number
    } else if (!o_.register_duplicates && !seen_.insert(h.msg_id).second) {
      stats_["duplicates_seen"]++;
      // A real EDMS answers a repeat with the receipts it already gave.
      for (const auto& r : answers_[h.msg_id]) schedule(r, 0);
      return;
    }
    stats_["distinct"]++;
    if (h.msg_type == 0) {
      stats_["receipts_received"]++;
      // The UCC registered one of our own contact centre's appeals under its number.
      if (h.acknowledgement && h.acknowledgement->ack_type == 3 && h.acknowledgement->reg_number &&
          own_sent_.count(h.acknowledgement->msg_id)) {
        stats_["own_appeals_registered"]++;
      }
      return;
    }
    if (h.msg_type != 1 || !h.document) return;
    if (h.document->attrs.kind.value_or("") == sev::kCheckDocumentKind) {
      // The connectivity check: a delivery receipt is all it needs.
      stats_["checks"]++;
      sev::Envelope back{me(), them(h), flows::newUuid(), formatIsoUtc(std::time(nullptr))};
      std::string r = seal(sev::buildReceipt(back, h.msg_id, sev::AckType::Delivered));
      answers_[h.msg_id] = {r};
      schedule(r, 0);
      return;
    }
    stats_["appeals"]++;
    if (o_.drop > 0) {
      o_.drop--;
      stats_["dropped"]++;
      seen_.erase(h.msg_id);  // as if it never arrived
      return;
    }
    sev::Envelope back{me(), them(h), "", ""};
    auto receipt = [&](sev::AckType type, std::optional<sev::RegNumber> reg = {},
                       std::optional<sev::Rejection> rej = {}) {
      back.msg_id = flows::newUuid();
      back.time = formatIsoUtc(std::time(nullptr));
      return seal(sev::buildReceipt(back, h.msg_id, type, reg, rej));
    };
    std::vector<std::string> sent;
    const bool rejecting = o_.reject_code != 0 && (o_.reject_first == 0 || stats_["rejected"] < o_.reject_first);
    if (o_.malformed) {
      sent.push_back("<Header standart=\"1207\"><Document>");
    } else if (!o_.forward_to.empty()) {
      // Not ours: a rejection with the not-in-competence code, naming the competent body both in the
      // text (as any EDMS can) and in the forwarding notice of the expansion.
      sent.push_back(receipt(sev::AckType::Delivered));
      back.msg_id = flows::newUuid();
      back.time = formatIsoUtc(std::time(nullptr));
      auto rejection = sev::buildReceipt(
          back, h.msg_id, sev::AckType::Rejected, std::nullopt,
          sev::Rejection{132, "Звернення не належить до компетенції органу; компетентний орган: " + o_.forward_to});
      sev::NoticeExpansion notice;
      notice.kind = "forwarding";
      notice.case_id = h.expansion && h.expansion->appeal ? h.expansion->appeal->case_id : "";
      notice.ref_msg_id = h.msg_id;
      notice.competent_org_id = o_.forward_to;
      rejection.expansion = sev::buildNotice(back, notice).expansion;
      sent.push_back(seal(rejection));
      stats_["forwarded"]++;
    } else if (rejecting) {
      sent.push_back(receipt(sev::AckType::Delivered));
      sent.push_back(
          receipt(sev::AckType::Rejected, {}, sev::Rejection{o_.reject_code, "Документ відхилено симулятором"}));
      stats_["rejected"]++;
    } else {
      std::string number = "SIM-" + o_.org + "-" + std::to_string(++registered_);
      sev::RegNumber reg{number, formatIsoUtc(std::time(nullptr)).substr(0, 10), std::nullopt};
      auto r1 = receipt(sev::AckType::Delivered);
      auto r2 = receipt(sev::AckType::Accepted);
      auto r3 = receipt(sev::AckType::Registered, reg);
      if (o_.reorder) {
        sent = {r3, r1, r2};
      } else {
        sent = {r1, r2, r3};
      }
      stats_["registered"]++;
      for (const auto& r : sent) schedule(r, 0);  // receipts go out before the answer
      if (o_.extend_days > 0) {
        sev::NoticeExpansion notice;
        notice.kind = "extension";
        notice.case_id = h.expansion && h.expansion->appeal ? h.expansion->appeal->case_id : "";
        notice.ref_msg_id = h.msg_id;
        notice.new_due = formatIsoUtc(std::time(nullptr) + static_cast<std::time_t>(o_.extend_days) * 86400);
        notice.reason = "Потрібне додаткове вивчення";
        back.msg_id = flows::newUuid();
        back.time = formatIsoUtc(std::time(nullptr));
        auto bytes = seal(sev::buildNotice(back, notice));
        sent.push_back(bytes);
        schedule(bytes, 0);
        stats_["extensions_sent"]++;
      }
      if (!o_.no_answer) {
        sev::ReplyContent reply{
            flows::newUuid(),
            reg,
            h.document->reg_number,
            h.document->attrs.idnumber,
            "Відповідь на звернення " + h.document->reg_number.value + ": розглянуто, вжито заходів.",
            {}};
        back.msg_id = flows::newUuid();
        back.time = formatIsoUtc(std::time(nullptr));
        auto answer = sev::buildReply(back, reply);
        (void)crypto::signAttachments(answer, attachmentSigner());
        if (o_.bad_signature && answer.document && !answer.document->transfers.empty()) {
          answer.document->transfers.front().content += " (змінено після підпису)";
        }
        std::string bytes = seal(answer);
        schedule(bytes, o_.answer_after_ms);
        stats_["answered"]++;
      }
    }
    if (o_.malformed || rejecting || !o_.forward_to.empty()) {
      for (const auto& s : sent) schedule(s, 0);
    }
    answers_[h.msg_id] = sent;
  }

  // Attachments are signed by the DSTU key when it has one, else by its seal key.
  const crypto::Signer& attachmentSigner() const {
    return dstu_ ? static_cast<const crypto::Signer&>(*dstu_) : signer_;
  }

  std::string seal(const sev::Header& h) {
    if (o_.no_seal) {
      auto doc = sev::buildDocument(h);
      return sev::serialize(doc.get());
    }
    auto bytes = crypto::sealedPackage(h, signer_);
    std::string out = bytes ? *bytes : std::string();
    if (o_.bad_seal) {
      // Change one (ASCII) byte of a header attribute after sealing: still valid XML, but the seal fails.
      auto at = out.find("from_sys_id=\"sim-");
      if (at != std::string::npos) out[at + 13] = 'S';
    }
    return out;
  }

  void schedule(const std::string& bytes, int after_ms) {
    pending_.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(after_ms), bytes});
    if (o_.duplicate) pending_.push_back(pending_.back());
  }

  // Publishes what is due; a message leaves `pending_` only once the broker confirmed it. False when
  // the connection failed: the caller reconnects and the same messages go out again (the gateway
  // de-duplicates by msg_id, as the protocol expects).
  bool flushDue(bus::AmqpConnection& out) {
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

  // An appeal that reached this body's own contact centre, sent to the UCC as a real EDMS would: the
  // standard zones only (no Vkhid expansion), with our registration number.
  std::string ownAppeal(int n) {
    domain::Case c;
    c.id = flows::newUuid();
    c.ucc_number = "ЦЗ-" + o_.org + "-" + std::to_string(n);
    c.registered_on = formatIsoUtc(std::time(nullptr)).substr(0, 10);
    c.kind = domain::CaseKind::Appeal;
    c.applicant.surname = "Коваленко";
    c.applicant.first_name = "Петро";
    c.applicant.email = "petro@example.org";
    c.consent = {true, true};
    c.text = "Звернення, що надійшло до контактного центру органу, № " + std::to_string(n);
    sev::Envelope env{me(),
                      {o_.ucc_org, "Урядовий контактний центр", "vkhid-gateway", "Вхід"},
                      flows::newUuid(),
                      formatIsoUtc(std::time(nullptr))};
    auto header = sev::buildAppealPackage(c, env);
    header.expansion.reset();
    (void)crypto::signAttachments(header, attachmentSigner());
    own_sent_.insert(env.msg_id);
    stats_["own_appeals_sent"]++;
    return seal(header);
  }

  // Sends what is due to the gateway; a message leaves `pending_` once the gateway answered (2xx, or
  // a 4xx refusal, which is final); on a connection failure or 5xx the rest waits for the next round.
  void flushHttp() {
    http::TlsClientOptions tls{o_.trust, o_.tls_cert, o_.tls_key, "localhost"};
    flushPending([&](const std::string& bytes) {
      auto r = http::post(o_.gateway_url, "application/xml", bytes, std::chrono::seconds(10), &tls);
      if (!r || r->status >= 500 || r->status == 429) return false;
      if (r->status >= 400) stats_["refused_by_gateway"]++;
      return true;
    });
  }

  // Sends what is due, in order, with `send`; stops at the first failure (kept for the next round).
  void flushPending(const std::function<bool(const std::string&)>& send) {
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

  sev::EnvelopeParty me() const { return {o_.org, o_.name, "sim-" + o_.org, "Симулятор СЕД"}; }
  static sev::EnvelopeParty them(const sev::Header& h) {
    return {h.from_org_id, h.from_organization, h.from_sys_id, h.from_system};
  }

  // The counts change with every message; the file is rewritten at most every 100 ms (creating and
  // renaming a file per message took a twentieth of the simulator's CPU under load), and at once
  // when `now`. What changed since is written on the next call or the next idle moment — and always
  // before anything is sent, so the file is never behind what the gateway could have seen from us.
  void writeStats(bool now = false) {
    if (o_.stats_file.empty()) return;
    stats_dirty_ = true;
    flushStats(now);
  }

  void flushStats(bool now = false) {
    if (!stats_dirty_) return;
    auto t = std::chrono::steady_clock::now();
    if (!now && t - stats_written_ < std::chrono::milliseconds(100)) return;
    stats_written_ = t;
    stats_dirty_ = false;
    boost::json::object o;
    for (const auto& [k, v] : stats_) o[k] = v;
    if (o_.via == "http") {  // how many connections the gateway opened to deliver what it did
      o["connections"] = static_cast<long long>(
          app::metrics()
              .counter("vkhid_http_connections_total", "Connections accepted", {{"server", "sim-edms"}})
              .value());
    }
    std::string tmp = o_.stats_file + ".tmp";
    std::ofstream(tmp) << boost::json::serialize(o) << "\n";
    std::rename(tmp.c_str(), o_.stats_file.c_str());
  }

  SimOptions o_;
  std::chrono::steady_clock::time_point stats_written_{};
  bool stats_dirty_ = false;
  crypto::FileSigner signer_;
  crypto::TrustStore trust_;
  std::optional<crypto::dstu::DstuSigner> dstu_;
  std::string inbox_, outbox_, user_;
  std::set<std::string> seen_, own_sent_;
  std::map<std::string, std::vector<std::string>> answers_;
  std::deque<Outgoing> pending_;
  std::mutex inbox_mutex_;
  std::deque<std::string> http_inbox_;
  std::map<std::string, long long> stats_;
  int registered_ = 0;
};

int runSimParticipant(const SimOptions& o) {
  if (o.via != "amqp" && o.via != "http" && o.via != "folder" && o.via != "sev-hub") {
    std::fprintf(stderr, "vkhid sim participant: --via %s: expected amqp, http, folder or sev-hub\n", o.via.c_str());
    return 2;
  }
  if (o.via == "sev-hub" && (o.hub_url.empty() || o.hub_system_id.empty())) {
    std::fprintf(stderr, "vkhid sim participant: --via sev-hub needs --hub-url, --hub-system-id and a password\n");
    return 2;
  }
  if (o.via == "folder" && (o.inbox_dir.empty() || o.outbox_dir.empty())) {
    std::fprintf(stderr, "vkhid sim participant: --via folder needs --inbox and --outbox\n");
    return 2;
  }
  if (o.via == "amqp" && o.broker_url.empty()) {
    std::fprintf(stderr, "vkhid sim participant: --via amqp needs --broker-url\n");
    return 2;
  }
  if (o.via == "http" && (o.tls_cert.empty() || o.tls_key.empty() || o.gateway_url.empty())) {
    std::fprintf(stderr, "vkhid sim participant: --via http needs --tls-cert, --tls-key and --gateway-url\n");
    return 2;
  }
  auto signer = crypto::FileSigner::load(o.key, o.cert);
  if (!signer) {
    std::fprintf(stderr, "vkhid sim participant: %s\n", signer.error().message.c_str());
    return 2;
  }
  auto trust = crypto::TrustStore::fromFile(o.trust);
  if (!trust) {
    std::fprintf(stderr, "vkhid sim participant: %s\n", trust.error().message.c_str());
    return 2;
  }
  std::optional<crypto::dstu::DstuSigner> dstu;
  if (!o.dstu_key.empty() || !o.dstu_cert.empty()) {
    auto d = crypto::dstu::DstuSigner::load(o.dstu_key, o.dstu_cert);
    if (!d) {
      std::fprintf(stderr, "vkhid sim participant: %s\n", d.error().message.c_str());
      return 2;
    }
    dstu = std::move(d).value();
  }
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  log::init("warn", "sim-" + o.org);
  Simulator sim(o, std::move(signer).value(), std::move(trust).value(), std::move(dstu));
  return sim.run();
}

}  // namespace

void addSimCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SimOptions>();
  auto* sim = app.add_subcommand("sim", "Simulators of outside parties (a participant's EDMS)");
  sim->require_subcommand(1);
  addSimTsaCommand(*sim, exit_code);
  addSimHubCommand(*sim, exit_code);
  auto* p = sim->add_subcommand("participant", "A reference EDMS of a participant");
  p->add_option("--via", o->via, "transport: amqp, http, folder or sev-hub")->default_val("amqp");
  p->add_option("--hub-url", o->hub_url, "--via sev-hub: the hub's IntegrationService URL");
  p->add_option("--hub-system-id", o->hub_system_id, "--via sev-hub: our account's SystemId");
  p->add_option("--hub-password", o->hub_password, "--via sev-hub: its password")->envname("VKHID_SIM_HUB_PASSWORD");
  p->add_option("--hub-ca", o->hub_ca, "--via sev-hub: CA of the hub's HTTPS certificate");
  p->add_option("--inbox", o->inbox_dir, "folder: where the gateway puts packages for it");
  p->add_option("--outbox", o->outbox_dir, "folder: where it puts packages for the gateway");
  p->add_option("--listen", o->listen, "http: its own HTTPS endpoint, host:port")->default_val("127.0.0.1:9443");
  p->add_option("--tls-cert", o->tls_cert, "http: its TLS certificate (server and client), PEM");
  p->add_option("--tls-key", o->tls_key, "http: its TLS key, PEM");
  p->add_option("--gateway-url", o->gateway_url, "http: the gateway's https://…/edms/v1/messages");
  p->add_option("--fail-first", o->fail_first, "http: answer 503 to the first N packages delivered")->default_val(0);
  p->add_option("--respond-after-ms", o->respond_after_ms, "http: answer each package delivered only after this long")
      ->default_val(0);
  p->add_option("--org", o->org, "the participant's EDRPOU code")->required();
  p->add_option("--name", o->name, "its name");
  p->add_option("--key", o->key, "its seal key (PEM)")->required();
  p->add_option("--cert", o->cert, "its seal certificate (PEM)")->required();
  p->add_option("--trust", o->trust, "CA certificate(s) it trusts for the UCC's seal (PEM)")->required();
  p->add_option("--broker-url", o->broker_url, "amqp: amqp://user:password@host:port/vhost (its own broker user)");
  p->add_option("--queue-type", o->queue_type, "amqp: classic, or quorum on a cluster (as the gateway's)")
      ->check(CLI::IsMember({"classic", "quorum"}));
  p->add_option("--stats", o->stats_file, "write counts (received, distinct, registered, …) to this JSON file");
  p->add_option("--answer-after-ms", o->answer_after_ms, "send the reply this long after registering")->default_val(0);
  p->add_flag("--no-answer", o->no_answer, "register but never answer");
  p->add_option("--reject", o->reject_code, "reject every appeal with this error code (receipt 4)")->default_val(0);
  p->add_option("--reject-first", o->reject_first, "with --reject: only the first N appeals, then as usual")
      ->default_val(0);
  p->add_option("--drop", o->drop, "lose the first N appeals")->default_val(0);
  p->add_option("--forward", o->forward_to,
                "reject every appeal as not in competence (code 132), naming this org_id as the competent body");
  p->add_option("--send-appeals", o->send_appeals, "at start, send N appeals of its own contact centre to the UCC")
      ->default_val(0);
  p->add_option("--extend-days", o->extend_days,
                "after registering, send an extension notice moving the answer deadline to now + N days")
      ->default_val(0);
  p->add_option("--ucc-org", o->ucc_org, "the UCC's org_id (to_org_id of what it sends on its own)")
      ->default_val("99999901");
  p->add_flag("--duplicate", o->duplicate, "send everything twice");
  p->add_flag("--reorder", o->reorder, "send the registration receipt before the delivery receipt");
  p->add_flag("--bad-seal", o->bad_seal, "break the seal of everything sent");
  p->add_flag("--malformed", o->malformed, "answer with malformed XML");
  p->add_option("--dstu-key", o->dstu_key, "sign attachments with this DSTU 4145 key (vkhid crypto test-pki)");
  p->add_option("--dstu-cert", o->dstu_cert, "the DSTU key's certificate (DER)");
  p->add_flag("--no-seal", o->no_seal, "send packages without an XML-DSig seal (as real SEV OVV 1.5 systems)");
  p->add_flag("--bad-signature", o->bad_signature, "change each answer's file after signing it");
  p->add_flag("--accept-tampered", o->accept_tampered,
              "misbehave: register packages whose seal or signatures do not verify");
  p->add_flag("--register-duplicates", o->register_duplicates,
              "misbehave: register a repeated package (same msg_id) again, under a new number");
  p->callback([o, &exit_code] { exit_code = runSimParticipant(*o); });
}

}  // namespace vkhid::tools
