#include "tests/support/test_env.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vkhid::testing {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

std::string randomSuffix() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> dist(0, 0xffffff);
  std::ostringstream s;
  s << std::hex << getpid() << "_" << dist(rd);
  return s.str();
}

// Replaces the database name at the end of a postgresql:// URL.
std::string withDatabase(const std::string& url, const std::string& db) {
  auto q = url.find('?');
  std::string base = url.substr(0, q);
  std::string rest = q == std::string::npos ? "" : url.substr(q);
  auto slash = base.rfind('/');
  if (slash == std::string::npos || slash < base.find("//") + 2) return base + "/" + db + rest;
  return base.substr(0, slash + 1) + db + rest;
}

std::string superQuery(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string e = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test database: cannot connect: " + e);
  }
  PGresult* r = PQexec(c, sql.c_str());
  auto st = PQresultStatus(r);
  std::string out;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) throw std::runtime_error("test database: " + err);
  return out;
}

}  // namespace

std::string pgUrl() { return envOr("VKHID_PG_URL", "postgresql://vkhid@127.0.0.1:54329/vkhid"); }
std::string amqpUrl() { return envOr("VKHID_AMQP_URL", "amqp://guest:guest@127.0.0.1:56729/%2f"); }
std::string sourceDir() { return envOr("VKHID_SOURCE_DIR", VKHID_TEST_SOURCE_DIR); }
std::string binaryPath() { return envOr("VKHID_BINARY", VKHID_TEST_BINARY); }

std::string varDir() {
  static const std::string dir = [] {
    auto d = std::filesystem::path(VKHID_TEST_BUILD_DIR) / "test-var" / randomSuffix();
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

std::string dataDir() { return sourceDir() + "/tests/data"; }

std::string jsonField(const std::string& json_text, const char* key) {
  return std::string(boost::json::parse(json_text).as_object().at(key).as_string());
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

bool resolveLocalhostIpv6First() {
  if (::geteuid() != 0) return false;
  if (::unshare(CLONE_NEWNS) != 0) return false;
  // Private: the bind below stays in this namespace, never reaching the machine's own /etc/hosts.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  std::string hosts = varDir() + "/hosts-ipv6-first";
  writeFile(hosts, "::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tlocalhost\n");
  return ::mount(hosts.c_str(), "/etc/hosts", nullptr, MS_BIND, nullptr) == 0;
}

bool servicesManaged() {
  const char* pg = std::getenv("VKHID_PG_PORT");
  std::string port = pg ? pg : "54329";
  return pgUrl() == "postgresql://vkhid@127.0.0.1:" + port + "/vkhid";
}

int services(const std::string& args) {
  std::string cmd = sourceDir() + "/scripts/services " + args + " >/dev/null";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string servicesEnv(const std::string& key) {
  std::string out;
  if (FILE* f = ::popen((sourceDir() + "/scripts/services env").c_str(), "r")) {
    char buf[1024];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    ::pclose(f);
  }
  auto at = out.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return out.substr(at, out.find('\n', at) - at);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

// A port for a test's listener. Asking the kernel for port 0 and closing it hands the same port out again
// (twice in one process, or to the connections a test makes meanwhile, which take ephemeral ports), so the
// listener that starts later finds it taken. Instead each process walks the range below the ephemeral one
// (and below the private servers' fixed ports, 24329 and up) from a random start, never hands a port out
// twice, and skips any port something holds now. Test processes run side by side (ctest -j): each also
// holds a lock on a file named after every port it took, for as long as it lives, and skips the ports
// another process holds a lock for. A listener restarted on its port (a gateway's restart) is then never
// beaten to it by another test, and a simulator that failed to bind is not mistaken for the other test's
// server answering on that port.
unsigned short freePort() {
  constexpr unsigned first = 10000, count = 14000;
  static std::mutex mutex;
  static unsigned next = std::random_device{}() % count;
  std::lock_guard lock(mutex);
  const auto locks = std::filesystem::temp_directory_path() / "vkhid-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(locks, ec);
  for (unsigned tries = 0; tries < count; ++tries) {
    const auto port = static_cast<unsigned short>(first + next);
    next = (next + 1) % count;
    // The lock is the process's until it exits (the descriptor is never closed; not inherited).
    // (A folder this user cannot write leaves the bind check alone to decide.)
    const int held = ::open((locks / std::to_string(port)).c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    if (held >= 0 && ::flock(held, LOCK_EX | LOCK_NB) != 0) {
      ::close(held);
      continue;  // another test process's
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
    if (held >= 0) ::close(held);
  }
  throw std::runtime_error("no free port in 10000-23999");
}

bool portOpen(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

TestDatabase::TestDatabase() : name_("vkhid_t_" + randomSuffix()) {
  superQuery(withDatabase(pgUrl(), "postgres"), "CREATE DATABASE " + name_);
  url_ = withDatabase(pgUrl(), name_);
}

TestDatabase::~TestDatabase() {
  try {
    superQuery(withDatabase(pgUrl(), "postgres"), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // The server may be down at the end of a failed fault test; the database is then left behind.
  }
}

std::string TestDatabase::query(const std::string& sql) const { return superQuery(url_, sql); }

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                           const std::string& log_path)
    : log_path_(log_path) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);

  pid_ = fork();
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    (void)wait(std::chrono::seconds(10));
  }
}

void ChildProcess::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  eventually(
      [&] {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_.has_value();
      },
      timeout, std::chrono::milliseconds(20));
  return status_;
}

bool ChildProcess::running() { return !wait(std::chrono::milliseconds(0)).has_value(); }

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace vkhid::testing
