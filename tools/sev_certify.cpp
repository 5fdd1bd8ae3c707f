// `vkhid sev certify`: the SEV OVV 2.0 certification exchange through a hub, as one of its two
// accounts. Each side sends the four documents (for information, approval, generalisation, execution)
// and, to each document the other side sends, its reply (to an approval two: agreed and refused) —
// nine message kinds — and answers every one of the other side's nine with the four notifications
// (delivered, accepted, registered, rejected): 45 packets each way, 90 in all. Every packet received
// is validated against the schema and its seal, and matched: a notification to a message we sent,
// never twice of one type; a reply to one of our documents, of the kind that document asks for.
// Exits 0 once everything is sent, received, validated and matched; 1 on a mismatch or at the timeout.
// The UCC side runs with the gateway's hub account and seal, through the same hub client and codec
// the `sev-hub` adapter uses.
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "adapters/sevhub/hub_client.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/builders.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

namespace hub = adapters::sevhub;

struct CertifyOptions {
  std::string hub_url, system_id, password_file, hub_ca, key, cert, trust, org, name = "Сертифікаційна сторона";
  std::string peer_org, peer_sys, report;
  int timeout_s = 120;
};

// The four documents, by purpose_type.
struct DocKind {
  int purpose;
  const char* name;
  const char* kind;
};
constexpr DocKind kDocuments[] = {{0, "doc-information", "Ініціативний лист"},
                                  {1, "doc-approval", "Проєкт документа на погодження"},
                                  {2, "doc-generalisation", "Лист на узагальнення"},
                                  {3, "doc-execution", "Окреме доручення"}};

class Certification {
 public:
  Certification(CertifyOptions o, crypto::FileSigner signer, crypto::TrustStore trust, std::string password)
      : o_(std::move(o)),
        signer_(std::move(signer)),
        trust_(std::move(trust)),
        client_({o_.hub_url, {o_.system_id, password}, o_.hub_ca}) {}

  int run() {
    for (const auto& d : kDocuments) sendDocument(d);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o_.timeout_s);
    while (!complete() && failures_.empty() && std::chrono::steady_clock::now() < deadline) {
      auto list = client_.inputMessages(50);
      if (!list) {
        failures_.push_back(list.error().message);
        break;
      }
      for (const auto& info : *list) take(info);
      if (list->empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!complete() && failures_.empty()) failures_.push_back("timed out before the exchange was complete");
    writeReport();
    return complete() && failures_.empty() ? 0 : 1;
  }

 private:
  struct Sent {
    std::string kind;
    std::set<int> acks;
  };

  sev::Envelope envelope(const std::string& msg_id) const {
    return {{o_.org, o_.name, o_.system_id, "Vkhid"},
            {o_.peer_org, "Сертифікаційна сторона", o_.peer_sys, "СЕД"},
            msg_id,
            formatIsoUtc(std::time(nullptr))};
  }

  bool send(sev::Header& h, const std::string& kind) {
    if (auto s = crypto::signAttachments(h, signer_); !s) {
      failures_.push_back("sign " + kind + ": " + s.error().message);
      return false;
    }
    auto bytes = crypto::sealedPackage(h, signer_);
    if (!bytes) {
      failures_.push_back("seal " + kind + ": " + bytes.error().message);
      return false;
    }
    hub::MessageInfo info;
    info.message_id = h.msg_id;
    info.to_org_id = o_.peer_org;
    info.to_sys_id = o_.peer_sys;
    info.type = hub::messageTypeFor(h.msg_type);
    auto up = client_.upload(*bytes, info, std::chrono::seconds(10));
    if (!up) {
      failures_.push_back("upload " + kind + ": " + up.error().message);
      return false;
    }
    sent_by_kind_[kind]++;
    sent_total_++;
    if (h.msg_type != 0) sent_[h.msg_id] = {kind, {}};
    return true;
  }

  sev::ReplyContent content(const std::string& text) {
    sev::ReplyContent c;
    c.idnumber = std::to_string(++number_);
    c.reg_number = {"СЕРТ-" + o_.org + "-" + c.idnumber, formatIsoUtc(std::time(nullptr)).substr(0, 10), {}};
    c.text = text;
    return c;
  }

  void sendDocument(const DocKind& d) {
    auto c = content(std::string("Сертифікаційний документ: ") + d.name);
    sev::Header h = sev::buildReply(envelope(flows::newUuid()), c);
    h.msg_type = static_cast<int>(sev::MsgType::Document);
    h.document->attrs.purpose_type = d.purpose;
    h.document->attrs.kind = d.kind;
    h.document->attrs.title = d.kind;
    h.document->addressees.front().referred.clear();
    documents_[c.reg_number.value] = d.purpose;
    send(h, d.name);
  }

  void sendReply(const sev::Header& doc, const std::string& kind, std::optional<sev::ApprovalResponse> approval) {
    auto c = content("Сертифікаційна відповідь: " + kind);
    c.referred = doc.document->reg_number;
    c.referred_idnumber = doc.document->attrs.idnumber;
    sev::Header h = sev::buildReply(envelope(flows::newUuid()), c);
    if (approval) h.document->approval = *approval;
    send(h, kind);
  }

  void acknowledge(const sev::Header& h) {
    for (auto type :
         {sev::AckType::Delivered, sev::AckType::Accepted, sev::AckType::Registered, sev::AckType::Rejected}) {
      std::optional<sev::RegNumber> reg;
      std::optional<sev::Rejection> rejection;
      if (type == sev::AckType::Registered) {
        reg = sev::RegNumber{
            "ВХ-" + o_.org + "-" + std::to_string(++number_), formatIsoUtc(std::time(nullptr)).substr(0, 10), {}};
      }
      if (type == sev::AckType::Rejected) rejection = sev::Rejection{1, "Сертифікаційна відмова"};
      sev::Header ack = sev::buildReceipt(envelope(flows::newUuid()), h.msg_id, type, reg, rejection);
      send(ack, "notification-" + std::to_string(static_cast<int>(type)));
    }
  }

  void take(const hub::MessageInfo& info) {
    auto d = client_.download(info.message_id);
    if (!d) {
      failures_.push_back("download: " + d.error().message);
      return;
    }
    received_++;
    auto report = crypto::verifyPackage(d->bytes, trust_, {true, {}, {}});
    if (!report.header || !report.ok()) {
      std::string why = report.findings.empty() ? "invalid" : report.findings.front().message;
      failures_.push_back("received " + info.message_id + " is not valid: " + why);
      (void)client_.endProcessing(d->session, false, 100, why);
      return;
    }
    validated_++;
    const sev::Header& h = *report.header;
    std::string kind;
    if (h.msg_type == 0 && h.acknowledgement) {
      auto it = sent_.find(h.acknowledgement->msg_id);
      if (it == sent_.end() || !it->second.acks.insert(h.acknowledgement->ack_type).second) {
        failures_.push_back("a notification that matches nothing we sent, or a repeated one");
      } else {
        kind = "notification-" + std::to_string(h.acknowledgement->ack_type);
      }
    } else if (h.msg_type == 1 && h.document) {
      int purpose = h.document->attrs.purpose_type;
      kind = purpose >= 0 && purpose < 4 ? kDocuments[purpose].name : "";
      if (kind.empty() || received_by_kind_.count(kind)) {
        failures_.push_back("an unexpected document (purpose_type " + std::to_string(purpose) + ")");
        kind.clear();
      } else {
        acknowledge(h);
        if (purpose == 1) {
          sendReply(h, "reply-approval", sev::ApprovalResponse{"погоджено", {}});
          sendReply(h, "reply-approval-refused", sev::ApprovalResponse{"не погоджено", "Сертифікаційна відмова"});
        } else {
          sendReply(h, std::string("reply-") + (kind.c_str() + 4), std::nullopt);
        }
      }
    } else if (h.msg_type == 3 && h.document) {
      std::string referred;
      for (const auto& a : h.document->addressees) {
        for (const auto& r : a.referred) {
          if (const auto* reg = std::get_if<sev::RegNumber>(&r.number)) referred = reg->value;
        }
      }
      auto doc = documents_.find(referred);
      const auto* approval =
          h.document->approval ? std::get_if<sev::ApprovalResponse>(&*h.document->approval) : nullptr;
      if (doc == documents_.end()) {
        failures_.push_back("a reply to no document of ours (" + referred + ")");
      } else if (doc->second == 1) {
        kind = approval && approval->attestation == "не погоджено" ? "reply-approval-refused" : "reply-approval";
      } else {
        kind = std::string("reply-") + (kDocuments[doc->second].name + 4);
      }
      if (!kind.empty()) acknowledge(h);
    }
    if (!kind.empty()) {
      if (received_by_kind_[kind]++ == 0 || kind.starts_with("notification")) matched_++;
    }
    (void)client_.endProcessing(d->session, true);
  }

  bool complete() const {
    if (sent_total_ != 45 || matched_ != 45) return false;
    for (const auto& [id, s] : sent_) {
      if (s.acks.size() != 4) return false;
    }
    return sent_.size() == 9;
  }

  void writeReport() {
    boost::json::object r{{"sent", sent_total_}, {"received", received_},  {"validated", validated_},
                          {"matched", matched_}, {"complete", complete()}, {"failures", {}}};
    boost::json::object by_kind;
    for (const auto& [k, n] : received_by_kind_) by_kind[k] = n;
    r["received_by_kind"] = by_kind;
    boost::json::object sent;
    for (const auto& [k, n] : sent_by_kind_) sent[k] = n;
    r["sent_by_kind"] = sent;
    boost::json::array failures;
    for (const auto& f : failures_) failures.push_back(boost::json::string(f));
    r["failures"] = failures;
    std::string text = boost::json::serialize(r) + "\n";
    if (o_.report.empty()) {
      std::fputs(text.c_str(), stdout);
    } else {
      std::ofstream(o_.report) << text;
    }
  }

  CertifyOptions o_;
  crypto::FileSigner signer_;
  crypto::TrustStore trust_;
  hub::HubClient client_;
  std::map<std::string, Sent> sent_;      // our documents and replies, with the notifications seen
  std::map<std::string, int> documents_;  // our documents' registration numbers → purpose_type
  std::map<std::string, long long> sent_by_kind_, received_by_kind_;
  long long sent_total_ = 0, received_ = 0, validated_ = 0, matched_ = 0;
  int number_ = 0;
  std::vector<std::string> failures_;
};

int runCertify(const CertifyOptions& o) {
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "vkhid sev certify: %s\n", what.c_str());
    return 2;
  };
  auto password = crypto::readSecret(o.password_file);
  if (!password) return fail(password.error().message);
  auto signer = crypto::FileSigner::load(o.key, o.cert);
  if (!signer) return fail(signer.error().message);
  auto trust = crypto::TrustStore::fromFile(o.trust);
  if (!trust) return fail(trust.error().message);
  log::init("warn", "sev-certify");
  sev::initXml();
  Certification c(o, std::move(signer).value(), std::move(trust).value(), *password);
  return c.run();
}

}  // namespace

void addSevCommands(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CertifyOptions>();
  auto* sev = app.add_subcommand("sev", "The SEV OVV 2.0 hub");
  sev->require_subcommand(1);
  auto* certify = sev->add_subcommand("certify", "Run the 90-packet certification exchange as one hub account");
  certify->add_option("--hub-url", o->hub_url, "the hub's IntegrationService URL")->required();
  certify->add_option("--system-id", o->system_id, "our account's SystemId")->required();
  certify->add_option("--password-file", o->password_file, "its password, in a file")->required();
  certify->add_option("--hub-ca", o->hub_ca, "CA of the hub's HTTPS certificate");
  certify->add_option("--org", o->org, "our EDRPOU code")->required();
  certify->add_option("--key", o->key, "our seal key (PEM)")->required();
  certify->add_option("--cert", o->cert, "our seal certificate (PEM)")->required();
  certify->add_option("--trust", o->trust, "CA(s) the other side's seals chain to")->required();
  certify->add_option("--peer-org", o->peer_org, "the other side's EDRPOU code")->required();
  certify->add_option("--peer-sys", o->peer_sys, "the other side's SystemId on the hub")->required();
  certify->add_option("--report", o->report, "write the result (JSON) here instead of standard output");
  certify->add_option("--timeout", o->timeout_s, "seconds")->default_val(120);
  certify->callback([o, &exit_code] { exit_code = runCertify(*o); });
}

}  // namespace vkhid::tools
