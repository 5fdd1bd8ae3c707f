// `vkhid sim hub`: a SEV OVV 2.0 hub (the IntegrationService of sev-hub-2.0.wsdl.xml) for tests and the
// demo — accounts (org id, system id, password), chunked upload and download sessions, an inbox per
// account, SHA-256 checked on every upload, and faults on request (a chunk corrupted in transit).
// State is in memory: a hub restart loses it, as a sim may. A real hub stands in production.
//
// Session errors (SessionInfo/Error/Code): 1 unknown session, 3 hash mismatch, 4 unknown recipient,
// 5 more bytes than announced or a chunk over MaxPartSize, 6 MessageId reused for other content,
// 7 unknown message, 8 EndProcessingDownloadedMessage with a session not fully transferred. A wrong SystemId
// or password is a SOAP fault (s:Client).
#include <libxml/tree.h>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "adapters/sevhub/soap.hpp"
#include "gateway/app/config.hpp"
#include "gateway/app/digest.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/domain/base64.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/http/server.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

using namespace adapters::sevhub;
std::atomic<bool> g_hub_stop{false};

struct HubOptions {
  std::string listen = "127.0.0.1:8490", tls_cert, tls_key, stats_file;
  std::vector<std::string> accounts;  // ORG:SYSID:PASSWORD
  long long max_part_size = 1 << 20;
  int corrupt_upload_chunk = 0;    // the N-th chunk uploaded (counting from 1) arrives with a byte flipped
  int corrupt_download_chunk = 0;  // the N-th chunk downloaded leaves with a byte flipped
  // How GetMessageValidationInfo gives the hash (the WSDL says only `string`): lower or upper hex, base64,
  // none at all, or a wrong one.
  std::string hash_format = "lower";
  std::string hash_account;   // only downloads by this SystemId get it (empty: every account's)
  std::string dump_requests;  // a folder: each request's operation element is written there as a document
  int check_polls = 0;        // an upload stays InProgress (the hub checking it) for this many GetSessionInfo calls
};

struct Account {
  std::string org_id, sys_id, password;
};

struct Stored {
  MessageInfo info;
  std::string bytes, hash;
  long long upload_session = 0;
  long long arrival = 0;  // inboxes list the oldest first
  bool ended = false;
};

struct Session {
  long long id = 0;
  std::string type, owner, message_id, hash, status, data;
  long long size = 0, transferred = 0;
  std::optional<CommunicationError> error;
  MessageInfo info;        // upload: the message as announced
  int pending_checks = 0;  // upload: GetSessionInfo calls that still see it InProgress after the last chunk
};

class Hub {
 public:
  explicit Hub(const HubOptions& o) : o_(o) {
    for (const auto& a : o.accounts) {
      auto c1 = a.find(':'), c2 = a.find(':', c1 + 1);
      if (c1 == std::string::npos || c2 == std::string::npos) continue;
      Account acc{a.substr(0, c1), a.substr(c1 + 1, c2 - c1 - 1), a.substr(c2 + 1)};
      accounts_[acc.sys_id] = acc;
    }
  }

  std::size_t accounts() const { return accounts_.size(); }

  http::Response handle(const http::Request& r) {
    if (r.method != "POST") return http::Response::text(405, "POST SOAP 1.1 requests\n");
    auto m = parseSoap(r.body, std::size_t{64} << 20);
    if (!m) return soapFault(true, m.error().message);
    std::lock_guard lock(mutex_);
    const std::string op = m->name();
    xmlNode* req = m->body_element;
    if (!o_.dump_requests.empty()) dump(op, req);
    auto id = readIdentity(child(req, "identity"));
    auto acc = accounts_.find(id.system_id);
    if (acc == accounts_.end() || acc->second.password != id.password) {
      stats_["auth_failures"]++;
      writeStats();
      return soapFault(true, "authentication failed for SystemId '" + id.system_id + "'");
    }
    const Account& me = acc->second;
    std::string inner;
    if (op == "OpenUploadingSession") {
      inner = sessionInfoXml("OpenUploadingSessionResult",
                             openUpload(me, readMessageInfo(child(req, "messageInfo")), childText(req, "hash")));
    } else if (op == "UploadMessageChunk") {
      inner = sessionInfoXml("UploadMessageChunkResult",
                             uploadChunk(me, childInt(req, "sessionId"), childText(req, "messageChunk")));
    } else if (op == "GetSessionInfo") {
      inner = sessionInfoXml("GetSessionInfoResult", info(me, childInt(req, "sessionId")));
    } else if (op == "GetInputMessages") {
      // The WSDL spells the parameter with a Cyrillic "с"; the Latin spelling is taken too.
      std::string count = childText(req, "\xD1\x81ount");
      if (count.empty()) count = childText(req, "count");
      inner = "<GetInputMessagesResult>";
      int left = count.empty() ? 100 : std::atoi(count.c_str());
      std::vector<const Stored*> inbox;
      for (const auto& [mid, m] : messages_) {
        if (!m.ended && m.info.to_sys_id == me.sys_id) inbox.push_back(&m);
      }
      std::sort(inbox.begin(), inbox.end(), [](const Stored* a, const Stored* b) { return a->arrival < b->arrival; });
      for (const Stored* m : inbox) {
        if (left-- <= 0) break;
        inner += messageInfoXml("a:MessageInfo", m->info);
      }
      inner += "</GetInputMessagesResult>";
    } else if (op == "OpenDownloadingSession") {
      inner = sessionInfoXml("OpenDownloadingSessionResult", openDownload(me, childText(req, "messageId")));
    } else if (op == "DownloadMessageChunk") {
      std::string chunk;
      auto s =
          downloadChunk(me, childInt(req, "sessionId"), childInt(req, "fromPosition"), childInt(req, "count"), chunk);
      inner = "<DownloadMessageChunkResult>" + element("a:MessageChunk", base64Encode(chunk)) +
              sessionInfoXml("a:Session", s) + "</DownloadMessageChunkResult>";
    } else if (op == "GetMessageValidationInfo") {
      auto s = info(me, childInt(req, "sessionId"));
      auto msg = messages_.find(s.message_id);
      std::string hash = msg == messages_.end()                                    ? ""
                         : o_.hash_account.empty() || o_.hash_account == me.sys_id ? validationHash(msg->second.hash)
                                                                                   : msg->second.hash;
      inner = "<GetMessageValidationInfoResult>" + element("a:Hash", hash) + sessionInfoXml("a:Session", s) +
              "</GetMessageValidationInfoResult>";
    } else if (op == "EndProcessingDownloadedMessage") {
      inner = sessionInfoXml("EndProcessingDownloadedMessageResult",
                             endProcessing(me, readSessionInfo(child(req, "sessionInfo"))));
    } else {
      return soapFault(true, "unknown operation " + op);
    }
    stats_["calls"]++;
    writeStats();
    return http::Response{200, "text/xml; charset=utf-8", envelope(op + "Response", inner), {}};
  }

 private:
  static http::Response soapFault(bool client, const std::string& text) {
    return http::Response{500, "text/xml; charset=utf-8", fault(client, text), {}};
  }

  SessionInfo failed(long long id, int code, const std::string& text) {
    SessionInfo s;
    s.session_id = id;
    s.status = "Failed";
    s.error = CommunicationError{code, text};
    return s;
  }

  SessionInfo view(const Session& s) const {
    SessionInfo out;
    out.session_id = s.id;
    out.type = s.type;
    out.message_id = s.message_id;
    out.message_size = s.size;
    out.max_part_size = o_.max_part_size;
    out.status = s.pending_checks > 0 ? "InProgress" : s.status;
    out.error = s.pending_checks > 0 ? std::nullopt : s.error;
    out.transferred = s.transferred;
    if (s.type == "Upload" && s.status == "Processed") {
      auto m = messages_.find(s.message_id);
      if (m != messages_.end() && m->second.ended) out.status = "Delivered";
    }
    return out;
  }

  SessionInfo openUpload(const Account& me, MessageInfo info, const std::string& hash) {
    if (info.message_id.empty()) return failed(0, 7, "MessageId is required");
    if (auto m = messages_.find(info.message_id); m != messages_.end()) {
      if (m->second.hash == hash && m->second.info.from_sys_id == me.sys_id) {
        stats_["repeated_uploads"]++;
        return view(sessions_.at(m->second.upload_session));
      }
      return failed(0, 6, "MessageId " + info.message_id + " was used for other content");
    }
    for (auto& [sid, s] : sessions_) {  // an unfinished upload of the same message resumes
      if (s.type == "Upload" && s.owner == me.sys_id && s.message_id == info.message_id && s.hash == hash &&
          (s.status == "Opened" || s.status == "InProgress")) {
        return view(s);
      }
    }
    const Account* to = nullptr;
    if (auto a = accounts_.find(info.to_sys_id); a != accounts_.end()) to = &a->second;
    for (const auto& [sys, a] : accounts_) {
      if (to == nullptr && a.org_id == info.to_org_id) to = &a;
    }
    if (to == nullptr) return failed(0, 4, "no account for ToOrgId " + info.to_org_id);
    info.from_org_id = me.org_id;
    info.from_sys_id = me.sys_id;
    info.to_org_id = to->org_id;
    info.to_sys_id = to->sys_id;
    info.creator = "Sed";
    Session s;
    s.id = ++next_session_;
    s.type = "Upload";
    s.owner = me.sys_id;
    s.message_id = info.message_id;
    s.hash = hash;
    s.size = info.size;
    s.status = "Opened";
    s.info = info;
    sessions_[s.id] = s;
    return view(sessions_[s.id]);
  }

  SessionInfo uploadChunk(const Account& me, long long id, const std::string& b64) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.owner != me.sys_id || it->second.type != "Upload") {
      return failed(id, 1, "unknown session");
    }
    Session& s = it->second;
    if (s.status != "Opened" && s.status != "InProgress") return view(s);
    auto chunk = base64Decode(b64);
    if (!chunk) return failed(id, 5, "the chunk is not base64");
    if (static_cast<long long>(chunk->size()) > o_.max_part_size) {
      s.status = "Failed";
      s.error = CommunicationError{5, "a chunk over MaxPartSize"};
      return view(s);
    }
    ++uploaded_chunks_;
    if (o_.corrupt_upload_chunk > 0 && uploaded_chunks_ == o_.corrupt_upload_chunk && !chunk->empty()) {
      (*chunk)[chunk->size() / 2] ^= 0x20;  // damaged in transit
      stats_["corrupted_upload_chunks"]++;
    }
    s.data += *chunk;
    s.transferred = static_cast<long long>(s.data.size());
    s.status = "InProgress";
    if (static_cast<long long>(s.data.size()) == s.size) s.pending_checks = o_.check_polls;
    if (static_cast<long long>(s.data.size()) > s.size) {
      s.status = "Failed";
      s.error = CommunicationError{5, "more bytes than MessageSize"};
    } else if (static_cast<long long>(s.data.size()) == s.size) {
      if (app::sha256Hex(s.data) != s.hash) {
        s.status = "Failed";
        s.error = CommunicationError{3, "the message does not match its hash"};
        stats_["hash_mismatches"]++;
      } else {
        Stored m;
        m.info = s.info;
        m.info.creation_date = formatIsoUtc(std::time(nullptr));
        m.bytes = std::move(s.data);
        m.hash = s.hash;
        m.upload_session = s.id;
        m.arrival = ++arrivals_;
        s.status = "Processed";
        stats_["messages"]++;
        stats_[("type_" + m.info.type)]++;
        messages_[s.message_id] = std::move(m);
      }
    }
    return view(s);
  }

  SessionInfo info(const Account& me, long long id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.owner != me.sys_id) return failed(id, 1, "unknown session");
    auto out = view(it->second);
    if (it->second.pending_checks > 0) --it->second.pending_checks;
    return out;
  }

  SessionInfo openDownload(const Account& me, const std::string& message_id) {
    auto m = messages_.find(message_id);
    if (m == messages_.end() || m->second.info.to_sys_id != me.sys_id || m->second.ended) {
      return failed(0, 7, "no such message in this account's inbox");
    }
    Session s;
    s.id = ++next_session_;
    s.type = "Download";
    stats_["download_sessions"]++;
    s.owner = me.sys_id;
    s.message_id = message_id;
    s.size = static_cast<long long>(m->second.bytes.size());
    s.status = "Opened";
    sessions_[s.id] = s;
    return view(s);
  }

  SessionInfo downloadChunk(const Account& me, long long id, long long from, long long count, std::string& chunk) {
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.owner != me.sys_id || it->second.type != "Download") {
      return failed(id, 1, "unknown session");
    }
    Session& s = it->second;
    const std::string& bytes = messages_.at(s.message_id).bytes;
    if (from < 0 || from > static_cast<long long>(bytes.size())) return failed(id, 5, "fromPosition out of range");
    long long n =
        std::min({count > 0 ? count : o_.max_part_size, o_.max_part_size, static_cast<long long>(bytes.size()) - from});
    chunk = bytes.substr(static_cast<std::size_t>(from), static_cast<std::size_t>(n));
    ++downloaded_chunks_;
    if (o_.corrupt_download_chunk > 0 && downloaded_chunks_ == o_.corrupt_download_chunk && !chunk.empty()) {
      chunk[chunk.size() / 2] ^= 0x20;
      stats_["corrupted_download_chunks"]++;
    }
    s.status = "InProgress";
    s.transferred = from + n;
    return view(s);
  }

  // The operation element of a request as a document of its own (its namespaces declared on it), for a
  // test to validate against the published XSDs.
  void dump(const std::string& op, xmlNode* element) {
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(xmlNewDoc(BAD_CAST "1.0"), &xmlFreeDoc);
    xmlNode* copy = xmlDocCopyNode(element, doc.get(), 1);
    xmlDocSetRootElement(doc.get(), copy);
    xmlReconciliateNs(doc.get(), copy);
    xmlChar* text = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc.get(), &text, &size, "UTF-8");
    std::ofstream(o_.dump_requests + "/" + std::to_string(++dumped_) + "-" + op + ".xml", std::ios::binary)
        .write(reinterpret_cast<const char*>(text), size);
    xmlFree(text);
  }

  // The hash as --hash-format gives it.
  std::string validationHash(const std::string& lower_hex) const {
    if (o_.hash_format == "none") return {};
    if (o_.hash_format == "wrong") return std::string(64, '0');
    if (o_.hash_format == "upper") {
      std::string up = lower_hex;
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return up;
    }
    if (o_.hash_format == "base64") return base64Encode(*hexDecode(lower_hex));
    return lower_hex;
  }

  SessionInfo endProcessing(const Account& me, const SessionInfo& given) {
    auto it = sessions_.find(given.session_id);
    if (it == sessions_.end() || it->second.owner != me.sys_id || it->second.type != "Download") {
      return failed(given.session_id, 1, "unknown session");
    }
    Session& s = it->second;
    // A strict hub: the session echoed must be the one the download left, all of it transferred.
    if (given.transferred != s.size) {
      stats_["stale_end_processing"]++;
      return failed(given.session_id, 8,
                    "EndProcessing for " + std::to_string(given.transferred) + " of " + std::to_string(s.size) +
                        " bytes: the session echoed is not the one the download left");
    }
    auto& m = messages_.at(s.message_id);
    if (!m.ended) {
      m.ended = true;
      stats_[given.status == "Failed" ? "refused_by_recipient" : "processed_by_recipient"]++;
    }
    s.status = given.status == "Failed" ? "Failed" : "Processed";
    if (given.error) s.error = given.error;
    return view(s);
  }

  void writeStats() {
    if (o_.stats_file.empty()) return;
    boost::json::object o;
    for (const auto& [k, v] : stats_) o[k] = v;
    std::string tmp = o_.stats_file + ".tmp";
    std::ofstream(tmp) << boost::json::serialize(o) << "\n";
    std::rename(tmp.c_str(), o_.stats_file.c_str());
  }

  HubOptions o_;
  std::mutex mutex_;
  std::map<std::string, Account> accounts_;
  std::map<std::string, Stored> messages_;
  std::map<long long, Session> sessions_;
  std::map<std::string, long long> stats_;
  long long next_session_ = 0, arrivals_ = 0;
  int uploaded_chunks_ = 0, downloaded_chunks_ = 0, dumped_ = 0;
};

int runSimHub(const HubOptions& o) {
  auto hp = app::parseHostPort(o.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim hub: --listen: expected host:port\n");
    return 2;
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    std::fprintf(stderr, "vkhid sim hub: --tls-cert and --tls-key go together\n");
    return 2;
  }
  auto hub = std::make_shared<Hub>(o);
  if (hub->accounts() != o.accounts.size() || o.accounts.empty()) {
    std::fprintf(stderr, "vkhid sim hub: --account: expected ORG:SYSID:PASSWORD, one per account\n");
    return 2;
  }
  log::init("warn", "sim-hub");
  sev::initXml();
  http::ServerOptions options;
  options.host = hp->host;
  options.port = hp->port;
  options.name = "sev-hub";
  options.threads = 2;
  options.max_body_bytes = std::size_t{64} << 20;
  options.tls_cert_file = o.tls_cert;
  options.tls_key_file = o.tls_key;
  auto server = http::HttpServer::start(options, [hub](const http::Request& r) { return hub->handle(r); });
  if (!server) {
    std::fprintf(stderr, "vkhid sim hub: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("vkhid sim hub: listening on %s:%u\n", hp->host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { g_hub_stop = true; });
  std::signal(SIGINT, [](int) { g_hub_stop = true; });
  while (!g_hub_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

void addSimHubCommand(CLI::App& sim, int& exit_code) {
  auto o = std::make_shared<HubOptions>();
  auto* hub = sim.add_subcommand("hub", "A SEV OVV 2.0 hub with accounts and chunked sessions (tests, demo)");
  hub->add_option("--listen", o->listen, "host:port")->default_val("127.0.0.1:8490");
  hub->add_option("--account", o->accounts, "ORG:SYSID:PASSWORD, once per account")->required();
  hub->add_option("--tls-cert", o->tls_cert, "serve HTTPS with this certificate (PEM)");
  hub->add_option("--tls-key", o->tls_key, "and its key");
  hub->add_option("--max-part-size", o->max_part_size, "MaxPartSize in bytes")->default_val(1 << 20);
  hub->add_option("--corrupt-upload-chunk", o->corrupt_upload_chunk, "damage the N-th uploaded chunk in transit");
  hub->add_option("--corrupt-download-chunk", o->corrupt_download_chunk, "damage the N-th downloaded chunk in transit");
  hub->add_option("--stats", o->stats_file, "write counters as JSON here after each call");
  hub->add_option("--hash-format", o->hash_format, "GetMessageValidationInfo's hash: lower, upper, base64, none, wrong")
      ->check(CLI::IsMember({"lower", "upper", "base64", "none", "wrong"}));
  hub->add_option("--hash-account", o->hash_account, "give --hash-format to this SystemId's downloads only");
  hub->add_option("--dump-requests", o->dump_requests, "write each request's operation element into this folder");
  hub->add_option("--check-polls", o->check_polls,
                  "an upload stays InProgress for N GetSessionInfo calls after its last chunk (the hub checking it)");
  hub->callback([o, &exit_code] { exit_code = runSimHub(*o); });
}

}  // namespace vkhid::tools
