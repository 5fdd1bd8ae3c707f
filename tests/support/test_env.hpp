// Helpers shared by the test tiers: the servers of scripts/services, fresh databases, child
// processes, polling with a deadline (tests never sleep to wait for a state).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vkhid::testing {

// From the environment that scripts/test sets (scripts/services env).
std::string pgUrl();
std::string amqpUrl();
std::string sourceDir();   // the checkout
std::string binaryPath();  // build/bin/vkhid
std::string varDir();      // a scratch folder under the build tree for this test process
std::string dataDir();     // tests/data: real interop material and reference data (its README)
std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& bytes);

// True when the servers are the private ones of scripts/services (so a test may stop and start them).
bool servicesManaged();
// A Boost.Test precondition (its argument is the test unit's id): the integration suites run only
// against the private servers of scripts/services.
inline bool servicesAreOurs(unsigned long /*test_unit_id*/) { return servicesManaged(); }
// As stock Debian's /etc/hosts has it (a fresh root's: `::1 localhost` first, then 127.0.0.1), for this
// test process and every process it starts: its own mount namespace with that file bound over
// /etc/hosts. Root only, and before the process starts any thread; false when it cannot.
bool resolveLocalhostIpv6First();
inline bool isRoot(unsigned long /*test_unit_id*/) { return ::geteuid() == 0; }
// The string member `key` of a JSON object's text (throws when it is missing or not a string).
std::string jsonField(const std::string& json_text, const char* key);
// Runs `scripts/services <args>`; returns its exit status.
int services(const std::string& args);
// The value of `key` in what `scripts/services env` prints now ("" when it prints none: the replica's
// and the cluster's URLs appear only while they run).
std::string servicesEnv(const std::string& key);

// Polls `condition` until it holds or `timeout` passes. Returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(100));

// A port nothing listens on now and that this process has not handed out before (see test_env.cpp).
unsigned short freePort();
// True when something accepts TCP connections on 127.0.0.1:port.
bool portOpen(unsigned short port);

// A database of its own for one test, dropped at the end.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs one SQL statement as the superuser; returns the first column of the first row (or "").
  std::string query(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

// A child process with its stderr captured to a file.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit; returns the exit code, or nullopt after `timeout` (the process still runs).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

struct HttpReply {
  int status = 0;  // 0 = no connection
  std::string body;
  std::string content_type;
  std::string location;
  std::map<std::string, std::string> headers;  // names lower-cased (the last of a repeated one)
};
HttpReply httpGet(const std::string& host, unsigned short port, const std::string& target);
HttpReply httpRequest(const std::string& method, const std::string& host, unsigned short port,
                      const std::string& target, const std::map<std::string, std::string>& headers,
                      const std::string& body);

}  // namespace vkhid::testing
