// The simulated EDMS's side of the protocol: what it does with each package it takes, and what it sends.
#include <amqp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <deque>
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

std::atomic<bool> g_stop{false};

Simulator::Simulator(SimOptions o, crypto::FileSigner signer, crypto::TrustStore trust,
                     std::optional<crypto::dstu::DstuSigner> dstu)
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
          if (kv.value().is_int64() && kv.key() != "connections") stats_[std::string(kv.key())] = kv.value().as_int64();
        }
      }
    }
    registered_ = static_cast<int>(stats_["registered"]);
  }
}

void Simulator::handle(const std::string& bytes) {
  stats_["received"]++;
  auto report = crypto::verifyPackage(bytes, trust_, {true, {}, {}});
  if (!report.header) {
    stats_["invalid"]++;
    return;
  }
  if (!report.ok() && !o_.accept_tampered) return refuse(report);
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
  if (h.msg_type == 0 && h.expansion && h.expansion->notice) {
    // The UCC's notice about a case it has with us: withdrawn by the applicant, or returned by the UCC.
    stats_["notices_received"]++;
    stats_[h.expansion->notice->kind + "_notices"]++;
    return;
  }
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
  appeal(h);
}

void Simulator::refuse(const crypto::PackageReport& report) {
  stats_["invalid"]++;
  const auto& bad = *report.header;
  if (bad.msg_acknow.value_or(0) < 1 || !seen_.insert(bad.msg_id).second) return;
  auto code = sev::sevErrorOf(report.findings.front()).value_or(sev::SevError::SealInvalid);
  sev::Envelope back{me(), them(bad), flows::newUuid(), formatIsoUtc(std::time(nullptr))};
  std::string r = seal(sev::buildReceipt(back, bad.msg_id, sev::AckType::Rejected, std::nullopt,
                                         sev::Rejection{static_cast<int>(code), sev::sevErrorInfo(code).errortext}));
  answers_[bad.msg_id] = {r};
  schedule(r, 0);
  stats_["refused_invalid"]++;
}

std::string Simulator::receipt(const sev::Header& h, sev::AckType type, std::optional<sev::RegNumber> reg,
                               std::optional<sev::Rejection> rej) {
  sev::Envelope back{me(), them(h), flows::newUuid(), formatIsoUtc(std::time(nullptr))};
  return seal(sev::buildReceipt(back, h.msg_id, type, reg, rej));
}

void Simulator::appeal(const sev::Header& h) {
  stats_["appeals"]++;
  if (o_.drop > 0) {
    o_.drop--;
    stats_["dropped"]++;
    seen_.erase(h.msg_id);  // as if it never arrived
    return;
  }
  std::vector<std::string> sent;
  const bool rejecting = o_.reject_code != 0 && (o_.reject_first == 0 || stats_["rejected"] < o_.reject_first);
  if (o_.malformed) {
    sent.push_back("<Header standart=\"1207\"><Document>");
  } else if (!o_.forward_to.empty()) {
    sent = forward(h);
  } else if (rejecting) {
    sent.push_back(receipt(h, sev::AckType::Delivered));
    sent.push_back(
        receipt(h, sev::AckType::Rejected, {}, sev::Rejection{o_.reject_code, "Документ відхилено симулятором"}));
    stats_["rejected"]++;
  } else if (o_.no_register) {
    sent = {receipt(h, sev::AckType::Delivered), receipt(h, sev::AckType::Accepted)};
    stats_["delivered_only"]++;
  } else {
    sent = registerAndAnswer(h);
  }
  if (o_.malformed || rejecting || o_.no_register || !o_.forward_to.empty()) {
    for (const auto& s : sent) schedule(s, 0);
  }
  answers_[h.msg_id] = sent;
}

std::vector<std::string> Simulator::forward(const sev::Header& h) {
  std::vector<std::string> sent{receipt(h, sev::AckType::Delivered)};
  sev::Envelope back{me(), them(h), flows::newUuid(), formatIsoUtc(std::time(nullptr))};
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
  return sent;
}

std::vector<std::string> Simulator::registerAndAnswer(const sev::Header& h) {
  std::string number = "SIM-" + o_.org + "-" + std::to_string(++registered_);
  sev::RegNumber reg{number, formatIsoUtc(std::time(nullptr)).substr(0, 10), std::nullopt};
  auto r1 = receipt(h, sev::AckType::Delivered);
  auto r2 = receipt(h, sev::AckType::Accepted);
  auto r3 = receipt(h, sev::AckType::Registered, reg);
  std::vector<std::string> sent = o_.reorder ? std::vector{r3, r1, r2} : std::vector{r1, r2, r3};
  stats_["registered"]++;
  for (const auto& r : sent) schedule(r, 0);  // receipts go out before the answer
  sev::Envelope back{me(), them(h), "", ""};
  // A notice of ours about this appeal, sealed, sent after the receipts.
  auto sendNotice = [&](const std::string& kind, const std::string& reason, auto&& fill) {
    sev::NoticeExpansion notice;
    notice.kind = kind;
    notice.case_id = h.expansion && h.expansion->appeal ? h.expansion->appeal->case_id : "";
    notice.ref_msg_id = h.msg_id;
    notice.reason = reason;
    fill(notice);
    back.msg_id = flows::newUuid();
    back.time = formatIsoUtc(std::time(nullptr));
    auto bytes = seal(sev::buildNotice(back, notice));
    sent.push_back(bytes);
    schedule(bytes, 0);
  };
  if (o_.extend_days > 0) {
    sendNotice("extension", "Потрібне додаткове вивчення", [&](sev::NoticeExpansion& n) {
      n.new_due = formatIsoUtc(std::time(nullptr) + static_cast<std::time_t>(o_.extend_days) * 86400);
    });
    stats_["extensions_sent"]++;
  }
  if (o_.no_further_study) {
    sendNotice("no_further_study", "Звернення не потребує додаткового вивчення", [](sev::NoticeExpansion&) {});
    stats_["no_further_study_sent"]++;
  }
  if (!o_.return_article.empty()) {
    // Registered, then found lacking what the law requires: returned to the applicant, never answered.
    sendNotice("return", "У зверненні не зазначено місце проживання заявника",
               [&](sev::NoticeExpansion& n) { n.article = o_.return_article; });
    stats_["returned"]++;
    return sent;
  }
  if (o_.no_answer) return sent;
  sev::ReplyContent reply{flows::newUuid(),
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
  schedule(seal(answer), o_.answer_after_ms);
  stats_["answered"]++;
  return sent;
}

const crypto::Signer& Simulator::attachmentSigner() const {
  return dstu_ ? static_cast<const crypto::Signer&>(*dstu_) : signer_;
}

std::string Simulator::seal(const sev::Header& h) {
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

void Simulator::schedule(const std::string& bytes, int after_ms) {
  // Whatever is sent was decided by counting: the counts are marked changed here, so the file is written
  // before it goes (flushDue), never behind what the gateway could have seen from us.
  writeStats();
  pending_.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(after_ms), bytes,
                      adapters::sevhub::headerAttribute(bytes, "msg_id")});
  if (o_.duplicate) pending_.push_back(pending_.back());
}

std::string Simulator::ownAppeal(int n) {
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

sev::EnvelopeParty Simulator::them(const sev::Header& h) {
  return {h.from_org_id, h.from_organization, h.from_sys_id, h.from_system};
}

void Simulator::writeStats(bool now) {
  if (o_.stats_file.empty()) return;
  stats_dirty_ = true;
  flushStats(now);
}

void Simulator::flushStats(bool now) {
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
  if (o_.via == "sev-hub") {  // downloads the hub's hash never confirmed (left for the next poll)
    o["download_failures"] = static_cast<long long>(
        app::metrics().counter("vkhid_sevhub_download_failures_total", "Hub downloads not completed").value());
  }
  if (stats_fd_ < 0) {
    stats_fd_ = ::open(o_.stats_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    struct stat st {};
    if (stats_fd_ >= 0 && ::fstat(stats_fd_, &st) == 0)
      stats_bytes_ = static_cast<std::size_t>(st.st_size);  // a last run's
  }
  std::string text = boost::json::serialize(o);
  text.resize(std::max(text.size() + 1, stats_bytes_), ' ');
  text.back() = '\n';
  if (stats_fd_ < 0 || ::pwrite(stats_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    stats_dirty_ = true;  // tried again at the next call
    return;
  }
  stats_bytes_ = text.size();
}

Simulator::~Simulator() {
  if (stats_fd_ >= 0) ::close(stats_fd_);
}

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

}  // namespace vkhid::tools::sim
