#include "tools/bench_support.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vkhid::tools::bench {

double cpuTicks(const std::string& pid, bool children, std::string* comm) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  std::getline(in, line);
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return 0;
  if (comm) *comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 17 && rest >> field; ++i) {
    if (i == 14 || i == 15 || (children && (i == 16 || i == 17))) ticks += std::stod(field);
  }
  return ticks;
}

double cpuOfProcesses(const std::vector<std::string>& names) {
  double ticks = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    std::string comm;
    double t = cpuTicks(pid, true, &comm);
    if (std::find(names.begin(), names.end(), comm) != names.end()) ticks += t;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double machineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double busy = 0, v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    if (i != 3 && i != 4) busy += v;  // idle, iowait
  }
  return busy / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Child Child::spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                   const std::string& log) {
  Child c;
  const pid_t bench = getpid();
  c.pid = fork();
  if (c.pid == 0) {
    // Ends with the bench (spawned from its main thread): a bench stopped by a signal leaves no gateway or
    // simulator behind on its ports and its database. One that died before this line is not waited for.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != bench) _exit(1);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), STDOUT_FILENO);
      dup2(fileno(f), STDERR_FILENO);
    }
    std::vector<char*> argv;
    std::string self = std::filesystem::read_symlink("/proc/self/exe").string();  // its name in ps
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  return c;
}

void Child::stop() {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  pid = -1;
}

double Child::cpuSeconds() const {
  return cpuTicks(std::to_string(pid), false) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Child::peakRssMiB() const {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(at, v.size() - 1)];
}

double rateOf(int threads, double seconds, const std::function<bool(int)>& op, double* cpu_ms_per_op) {
  const double cpu_before = selfCpuSeconds();
  std::atomic<long long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!stop) {
        if (op(t)) done++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long long>(seconds * 1000)));
  stop = true;
  for (auto& th : pool) th.join();
  if (cpu_ms_per_op)
    *cpu_ms_per_op = done > 0 ? (selfCpuSeconds() - cpu_before) * 1000.0 / static_cast<double>(done) : 0;
  return static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - start).count();
}

double selfCpuSeconds() { return cpuTicks("self", false) / static_cast<double>(sysconf(_SC_CLK_TCK)); }

}  // namespace vkhid::tools::bench
