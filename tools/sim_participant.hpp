// A participant's EDMS, simulated (`vkhid sim participant`): it takes packages from the gateway over
// amqp, http, a folder pair or a SEV hub, verifies them, answers with receipts 1 -> 2 -> 3 (its own
// registration numbers) and later a signed reply — or misbehaves on purpose. It speaks only the real
// protocol, through the product's own adapters. The protocol's side is tools/sim_participant.cpp, the
// transports tools/sim_transports.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/adapter.hpp"
#include "gateway/crypto/dstu_signer.hpp"
#include "gateway/crypto/package.hpp"
#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/sev/builders.hpp"

namespace vkhid::http {
class HttpServer;
}

namespace vkhid::tools::sim {

// Set by SIGTERM or SIGINT: every transport's loop ends, writing its counts.
extern std::atomic<bool> g_stop;

struct SimOptions {
  std::string via = "amqp";
  std::string org, name = "Симулятор учасника", key, cert, trust, broker_url, stats_file;
  std::string queue_type = "classic";  // amqp: its queues' type (quorum on a cluster)
  int answer_after_ms = 0;
  int reject_code = 0;
  int reject_first = 0;  // with reject_code: only the first N appeals (0: all)
  int drop = 0;
  std::string forward_to;         // reject as not in competence, naming this body
  int send_appeals = 0;           // appeals of its own contact centre to send in at start
  int extend_days = 0;            // after registering, extend the answer deadline to now + this many days
  std::string return_article;     // after registering, return the appeal to the applicant under this article
  bool no_further_study = false;  // after registering, say the appeal needs no further study (15-day term)
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
  bool duplicate = false, reorder = false, bad_seal = false, malformed = false, no_answer = false, no_register = false;
  // A DSTU 4145 signer (dstu-<org>.{cer,key} of `vkhid crypto test-pki`): attachments are signed with it
  std::string dstu_key, dstu_cert;
  bool no_seal = false;        // send packages without an XML-DSig seal, as real SEV OVV 1.5 systems do
  bool bad_signature = false;  // change each answer's file after signing it: its signature no longer holds
};

struct Outgoing {
  std::chrono::steady_clock::time_point due;
  std::string bytes;
  std::string msg_id;  // its header's, read once when it is scheduled
};

class Simulator {
 public:
  Simulator(SimOptions o, crypto::FileSigner signer, crypto::TrustStore trust,
            std::optional<crypto::dstu::DstuSigner> dstu = std::nullopt);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Takes packages and sends ours until a stop signal. --via amqp: our inbox queue is consumed, ours
  // published to our outbox queue; http: packages arrive at our HTTPS endpoint, ours are POSTed to the
  // gateway's; folder: packages appear in the inbox folder (renamed in when complete), ours are
  // written into the outbox folder the same way; sev-hub: our account's inbox on the hub is polled,
  // ours uploaded to the UCC's.
  int run();

 private:
  // The adapter of --via, and the gateway as its endpoint (gateway_), settings mirrored.
  std::unique_ptr<adapters::Adapter> makeTransport();
  // Our own HTTPS endpoint (--via http), its misbehaviours included; null when it cannot listen.
  std::unique_ptr<http::HttpServer> listen();
  // One package from the gateway, handled and answered (what is due now sent) before the transport
  // lets it go.
  Status take(const adapters::InboundPackage& package);

  void handle(const std::string& bytes);

  // Read, but its seal or signatures do not hold: refused with a receipt 4 naming why, as an EDMS must.
  void refuse(const crypto::PackageReport& report);

  // A signed receipt for `h`, from us, sent now.
  std::string receipt(const sev::Header& h, sev::AckType type, std::optional<sev::RegNumber> reg = {},
                      std::optional<sev::Rejection> rej = {});

  // An appeal: dropped, malformed, forwarded, rejected, or registered and answered, as the options say.
  void appeal(const sev::Header& h);

  // Not ours: a rejection with the not-in-competence code, naming the competent body both in the text
  // (as any EDMS can) and in the forwarding notice of the expansion.
  std::vector<std::string> forward(const sev::Header& h);

  // Receipts 1, 2 and 3 under our own number (sent at once), an extension notice when asked for, and
  // the signed answer after answer_after_ms.
  std::vector<std::string> registerAndAnswer(const sev::Header& h);

  // Attachments are signed by the DSTU key when it has one, else by its seal key.
  const crypto::Signer& attachmentSigner() const;

  std::string seal(const sev::Header& h);

  void schedule(const std::string& bytes, int after_ms);

  // Sends what is due through the transport; a message leaves `pending_` once it is delivered (the
  // broker confirmed it, the gateway answered 2xx or a final 4xx, the file or the hub has it). A
  // transport that cannot take it now stops the round: the rest waits, in order, and goes again (the
  // gateway de-duplicates by msg_id, as the protocol expects).
  void flushDue();

  // An appeal that reached this body's own contact centre, sent to the UCC as a real EDMS would: the
  // standard zones only (no Vkhid expansion), with our registration number.
  std::string ownAppeal(int n);

  sev::EnvelopeParty me() const { return {o_.org, o_.name, "sim-" + o_.org, "Симулятор СЕД"}; }
  static sev::EnvelopeParty them(const sev::Header& h);

  // The counts change with every message; the file is rewritten at most every 100 ms (creating and
  // renaming a file per message took a twentieth of the simulator's CPU under load), and at once
  // when `now`. What changed since is written on the next call or the next idle moment — and always
  // before anything is sent, so the file is never behind what the gateway could have seen from us.
  // Written in place, by one write at its start, padded with spaces to at least its last length: a file
  // created and renamed before every batch sent took a tenth of the simulator's CPU (ext4 also writes a
  // file renamed over another out at once). A reader never sees the old text's tail after the new.
  void writeStats(bool now = false);

  void flushStats(bool now = false);

  SimOptions o_;
  std::chrono::steady_clock::time_point stats_written_{};
  bool stats_dirty_ = false;
  int stats_fd_ = -1;  // the stats file, opened at the first write; closed with the simulator
  std::size_t stats_bytes_ = 0;
  crypto::FileSigner signer_;
  crypto::TrustStore trust_;
  std::optional<crypto::dstu::DstuSigner> dstu_;
  std::string inbox_, outbox_, user_;
  std::set<std::string> seen_, own_sent_;
  std::map<std::string, std::vector<std::string>> answers_;
  std::deque<Outgoing> pending_;
  std::unique_ptr<adapters::Adapter> transport_;
  adapters::Endpoint gateway_;
  std::mutex state_mutex_;  // what handling and sending share: the adapters' threads and the main loop
  std::mutex inbox_mutex_;
  std::deque<std::string> http_inbox_;
  std::atomic<int> fail_left_{0};
  std::map<std::string, long long> stats_;
  int registered_ = 0;
};

// Checks the options for the transport, loads the keys, and runs the simulator until a stop signal.
int runSimParticipant(const SimOptions& o);

}  // namespace vkhid::tools::sim
