// What `vkhid bench` measures with: processes it starts, the CPU they and the servers use (from /proc),
// rates of an operation on several threads, percentiles, and the bounds of this machine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::tools::bench {

using Clock = std::chrono::steady_clock;

// Clock ticks (user + system) of a process from /proc/PID/stat; with `children`, also those of its
// children it has waited for. 0 for a process that is gone.
double cpuTicks(const std::string& pid, bool children, std::string* comm = nullptr);
// CPU seconds so far of this machine's processes with these names, with the time of children they
// reaped: PostgreSQL's postmaster holds the time of its ended backends, so the difference over a
// window is the whole server's work in it. 0 when the server runs on another machine.
double cpuOfProcesses(const std::vector<std::string>& names);
// CPU seconds the whole machine has been busy (all CPUs, everything but idle and I/O wait), from /proc/stat.
double machineBusySeconds();
// This process's own CPU seconds.
double selfCpuSeconds();

// A child process of this binary, stderr and stdout to a log file.
struct Child {
  pid_t pid = -1;
  static Child spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                     const std::string& log);
  void stop();
  // CPU seconds (user + system) and peak resident memory (MiB) so far, from /proc.
  double cpuSeconds() const;
  double peakRssMiB() const;
};

double percentile(std::vector<double> v, double p);
// Runs `op` on `threads` threads for `seconds`; returns operations per second and, when asked, the CPU
// this process spent per successful operation (ms) — the work of one, whatever the cores.
double rateOf(int threads, double seconds, const std::function<bool(int)>& op, double* cpu_ms_per_op = nullptr);

// What this machine does at most, measured before the load with every core: seals and verifications
// of a receipt package with the development PKI's keys, committed PostgreSQL transactions (8
// connections), persistent RabbitMQ messages published and consumed; and one commit's and one
// confirmed publish's latency. `amqp_urls`: the broker node(s) as a user of the bench's virtual host.
struct MachineBounds {
  double seal_per_s = 0, verify_per_s = 0;
  double seal_cpu_ms = 0, verify_cpu_ms = 0;  // CPU of one seal, one verification
  double pg_commits_per_s = 0, pg_commit_ms = 0;
  double mq_messages_per_s = 0, mq_confirm_ms = 0;
};
Result<MachineBounds> measureBounds(const std::string& pki, const std::string& to_org, const std::string& db_url,
                                    const std::string& amqp_urls, const std::string& queue_type);

}  // namespace vkhid::tools::bench
