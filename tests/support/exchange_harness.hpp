// A whole exchange for one integration test: its own database, a participant of its own (org id,
// broker user, queues), gateway processes and a participant simulator, all real.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "tests/support/test_env.hpp"

namespace vkhid::testing {

// `vkhid sim tsa` on its own port (`p`, or a free one), with the development TSA certificate; running
// once it answers.
struct TsaSimulator {
  unsigned short port;
  std::unique_ptr<ChildProcess> process;
  explicit TsaSimulator(const std::string& dir, unsigned short p = 0);
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/"; }
};

// Where the exchange's broker is: the private node, or the three-node cluster of
// `scripts/services start cluster` (node list, quorum queues — for gateways and simulators alike).
enum class Broker { Node, Cluster };

class ExchangeHarness {
 public:
  explicit ExchangeHarness(Broker broker = Broker::Node);
  ~ExchangeHarness();

  // Registers participant 0 (amqp endpoint; `endpoint_extra` adds TOML lines to [[endpoint]],
  // `participant_extra` top-level keys), a catch-all route to it and a channel token.
  void setUp(const std::string& endpoint_extra = "", const std::string& participant_extra = "");

  // Another participant of this exchange (its own org id, broker user and certificate), registered
  // with an amqp endpoint and no route; returns its index for org(), startSimulator() and simStats().
  // With skip_check false it is left as `participant add` leaves it (pending_check), for onboarding.
  int addParticipant(const std::string& participant_extra = "", bool skip_check = true);
  // A participant's makings only — its org id, broker user and certificates (pkiDir()/<org>-seal.*) —
  // not registered: for a test that onboards it another way (the web console). Returns its index.
  int prepareParticipant();
  const std::string& brokerUser(int participant) const { return parties_.at(participant)->user; }
  // A participant on the http adapter: its endpoint https://localhost:<port>/edms (its own TLS
  // certificate, from the development CA), its TLS client certificate registered. Returns its index.
  int addHttpParticipant(bool skip_check = true);
  // Registers the participant again by `vkhid participant add`, its one endpoint now on the amqp adapter,
  // as an operator moves a body to another transport.
  void moveToAmqp(int participant);
  // A participant on the folder adapter: folders dir()/to-<org> (we write) and dir()/from-<org> (it writes).
  int addFolderParticipant(const std::string& participant_extra = "");
  void startFolderSimulator(int participant, const std::vector<std::string>& flags = {});
  // A participant on the sev-hub adapter: an account "sys-<org>" on this test's hub. Add them all
  // before startHub(), which gives the hub its accounts (the UCC's and theirs) and points gateways
  // started after it at the hub over HTTPS.
  int addHubParticipant();
  unsigned short startHub(const std::vector<std::string>& flags = {});
  void startHubSimulator(int participant, const std::vector<std::string>& flags = {});
  std::map<std::string, long long> hubStats() const;
  // Its simulator, speaking HTTPS both ways to gateway `gateway`.
  void startHttpSimulator(int participant, const std::vector<std::string>& flags = {}, int gateway = 0);
  unsigned short edmsPort(int gateway = 0) const { return edms_ports_.at(gateway); }
  // Its HTTPS endpoint presents this certificate instead of its own.
  void useSimulatorTls(int participant, const std::string& cert, const std::string& key) {
    parties_.at(participant)->tls_cert = cert;
    parties_.at(participant)->tls_key = key;
  }
  // The simulator of `participant` signs with this key and certificate instead of its own.
  void useSimulatorCredentials(int participant, const std::string& key, const std::string& cert);

  // Starts gateway number `index` (0, 1, …) on its own ports; returns its intake port.
  unsigned short startGateway(int index = 0, const std::map<std::string, std::string>& extra_env = {});
  void killGateway(int index, int signal);
  bool gatewayRunning(int index);
  // What gateway `index` has written to its log so far (every start of it).
  std::string gatewayLog(int index = 0) const;

  void startSimulator(const std::vector<std::string>& flags = {}, int participant = 0);
  void stopSimulator(int participant = 0);
  std::map<std::string, long long> simStats(int participant = 0) const;

  // POSTs the example case (with `addressee_org_id` = the participant); returns HTTP status and body.
  HttpReply submit(const std::string& idempotency_key = "", int gateway = 0);
  // A case of the caller's own JSON, as a channel sends it.
  HttpReply submitJson(const std::string& body, const std::string& idempotency_key, int gateway = 0);
  // The same, addressed to participant `participant` (its org id as addressee_org_id).
  // `priority`: the applicant is one of those art. 20 of the Law on Citizens' Appeals serves first.
  HttpReply submitTo(int participant, const std::string& idempotency_key, int gateway = 0, bool priority = false);
  unsigned short intakePort(int gateway = 0) const { return intake_ports_.at(gateway); }
  unsigned short adminPort(int gateway = 0) const { return admin_ports_.at(gateway); }

  // Submits n example cases with idempotency keys k-0 … k-(n-1), each retried until accepted (a
  // database or gateway away for a while is waited out, up to a minute a case); returns their ids.
  std::vector<std::string> submitMany(int n, const std::function<int(int)>& gateway_of = {});
  // Cases by status, messages by direction/type/status, unsent outbox rows, and the simulator's
  // counts: the state to print when a wait fails.
  std::string histogram();

  std::string sql(const std::string& query) const { return db_.query(query); }
  // A stored package's bytes, opened with the development master key as the gateway opens them (they
  // are sealed at rest); throws when there is none or it does not open.
  std::string openedPackage(const std::string& msg_id) const;
  long long count(const std::string& query) const;
  bool waitFor(const std::string& count_query, long long expected, std::chrono::seconds timeout);
  bool waitAtLeast(const std::string& count_query, long long minimum, std::chrono::seconds timeout);
  // Every evidence entry chained and in a batch (the batch whose seq range holds it), and every batch
  // time-stamped.
  bool waitEvidenceSealed(std::chrono::seconds timeout);
  // Where the evidence log stands, for a failure's message: the batches (their key ranges, entries sealed
  // and the entries those ranges hold now), the entries no batch holds (above or below the sealed tail),
  // the settled horizon, old transactions anywhere in the cluster, and the end of the gateway's log.
  std::string evidenceReport();
  std::string runVkhid(const std::vector<std::string>& args);
  // `vkhid token issue` for a client of `role` (with restricted access when asked); returns the token.
  std::string issueToken(const std::string& client, const std::string& role = "channel",
                         bool restricted_access = false);
  // The same, for commands expected to fail: exit code and output.
  // `extra_env` overrides the gateway's settings for this command.
  std::pair<int, std::string> runVkhidStatus(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& extra_env = {});

  const std::string& org(int participant = 0) const { return parties_.at(participant)->org; }
  const std::string& token() const { return token_; }
  std::string dbUrl() const { return db_.url(); }
  std::string dir() const { return dir_; }
  // This test's virtual host on the broker (t<digits>), its own as its database is.
  const std::string& vhost() const { return vhost_; }
  std::string brokerUrlForTests() const { return brokerUrl("guest", "guest"); }
  // As participant `participant`'s own broker user: what its EDMS connects with.
  std::string brokerUrlOf(int participant) const {
    return brokerUrl(parties_.at(participant)->user, parties_.at(participant)->password);
  }

 private:
  std::map<std::string, std::string> gatewayEnv(int index) const;
  // Counters a simulator writes as a JSON object of numbers.
  static std::map<std::string, long long> statsFile(const std::string& path);

  TestDatabase db_;
  std::string brokerUrl(const std::string& user, const std::string& password) const;

  struct Party {
    std::string org, user, password;
    std::unique_ptr<ChildProcess> sim;
    int sim_runs = 0;
    std::string key, cert;          // overrides of its seal for the simulator
    std::string tls_cert, tls_key;  // overrides of its TLS certificate (http)
  };
  // A participant of this test: `org` (empty: the next after the first), its certificates, and with
  // `broker_user` its own broker user on this test's vhost.
  Party& newParty(const std::string& org, bool broker_user);
  // Registers it by `vkhid participant add`: the common keys, then `toml_rest`.
  void saveParty(const Party& p, const std::string& toml_rest, bool skip_check);
  // `vkhid sim participant` for it: the common options, its transport's, then `flags`.
  void launchSimulator(Party& p, const std::vector<std::string>& transport, const std::vector<std::string>& flags);
  void registerParty(const Party& p, const std::string& endpoint_extra, const std::string& participant_extra,
                     bool skip_check = true);

  Broker broker_ = Broker::Node;
  std::string vhost_, token_, dir_;
  std::string broker_urls_;  // the broker's node, or the cluster's nodes (comma-separated)
  std::vector<std::unique_ptr<Party>> parties_;
  std::map<int, std::unique_ptr<ChildProcess>> gateways_;
  std::map<int, unsigned short> intake_ports_;
  std::map<int, unsigned short> admin_ports_;
  std::map<int, unsigned short> edms_ports_;
  std::map<int, unsigned short> http_sim_ports_;  // by participant
  std::vector<int> hub_parties_;
  unsigned short hub_port_ = 0;
  std::unique_ptr<ChildProcess> hub_;
};

// The example case (config/examples/case-appeal.json), changed by `edit` (its JSON object).
std::string exampleCaseWith(const std::function<void(boost::json::object&)>& edit);

// The verdict every fault test shares, for `n` cases submitted to participant 0: every case reached
// the participant exactly once and closed, and no receipt was lost.
void expectEveryCaseOnceAndClosed(ExchangeHarness& x, long long n);

}  // namespace vkhid::testing
