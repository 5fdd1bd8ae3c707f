#include "adapters/probe/tcp_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace vkhid::adapters {
namespace {

std::string numericAddress(const addrinfo& a) {
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = a.ai_family == AF_INET6
                        ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a.ai_addr)->sin6_addr)
                        : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a.ai_addr)->sin_addr);
  inet_ntop(a.ai_family, raw, text, sizeof text);
  return text;
}

AddressAttempt tryConnect(const addrinfo& a, std::chrono::milliseconds timeout) {
  AddressAttempt attempt{numericAddress(a), a.ai_family == AF_INET6 ? 6 : 4, false, {}};
  int fd = socket(a.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    attempt.error = std::strerror(errno);
    return attempt;
  }
  int err = connect(fd, a.ai_addr, a.ai_addrlen) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready == 1) {
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    } else {
      err = ETIMEDOUT;
    }
  }
  close(fd);
  attempt.connected = err == 0;
  if (err != 0) {
    attempt.error =
        err == ETIMEDOUT ? "no answer within " + std::to_string(timeout.count()) + " ms" : std::strerror(err);
    for (auto& c : attempt.error) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return attempt;
}

}  // namespace

bool TcpProbe::connected() const { return !attempts.empty() && attempts.back().connected; }

std::string TcpProbe::resolutionText(const std::string& host) const {
  if (!resolved) return "cannot resolve '" + host + "'" + (resolve_error.empty() ? "" : ": " + resolve_error);
  std::string out = host + " -> ";
  // Every address the resolver gave, also those after the one that connected.
  for (std::size_t i = 0; i < all_addresses.size(); ++i) {
    out += (i ? ", " : "") + std::string(all_addresses[i].second == 6 ? "IPv6" : "IPv4") + " address " +
           all_addresses[i].first;
  }
  return out;
}

std::string TcpProbe::connectionText(const std::string& port) const {
  std::string failures;
  for (const auto& a : attempts) {
    if (!a.connected) failures += (failures.empty() ? "" : ", ") + a.address + ": " + a.error;
  }
  if (connected()) {
    return "connected to " + attempts.back().address + " port " + port +
           (failures.empty() ? "" : " (" + failures + ")");
  }
  return "cannot connect to port " + port + " at any address (" + failures + ")";
}

TcpProbe probeTcp(const std::string& host, const std::string& port, std::chrono::milliseconds per_address) {
  TcpProbe probe;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = host.empty() ? EAI_NONAME : getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  if (rc != 0 || found == nullptr) {
    probe.resolve_error = rc != 0 ? gai_strerror(rc) : "no address";
    owned.release();
    return probe;
  }
  probe.resolved = true;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    probe.all_addresses.emplace_back(numericAddress(*a), a->ai_family == AF_INET6 ? 6 : 4);
  }
  for (const addrinfo* a = found; a != nullptr && !probe.connected(); a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    probe.attempts.push_back(tryConnect(*a, per_address));
  }
  return probe;
}

}  // namespace vkhid::adapters
