// The reachability steps of a participant's connectivity check: every address a name resolves to,
// and a TCP connection tried to each, as the gateway's own client tries them (both families, in the
// resolver's order).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace vkhid::adapters {

struct AddressAttempt {
  std::string address;  // "::1" or "127.0.0.1"
  int family = 4;       // 4 or 6
  bool connected = false;
  std::string error;  // why not, when not
};

struct TcpProbe {
  bool resolved = false;
  std::string resolve_error;
  std::vector<std::pair<std::string, int>> all_addresses;  // every address resolved, and its family (4, 6)
  std::vector<AddressAttempt> attempts;                    // in the resolver's order; stops at the first that connects

  bool connected() const;
  // "localhost -> IPv6 address ::1, IPv4 address 127.0.0.1"
  std::string resolutionText(const std::string& host) const;
  // "connected to 127.0.0.1 port 8490 (::1: connection refused)", or every failure when none connects.
  std::string connectionText(const std::string& port) const;
};

// Resolves `host` and connects to each address in turn until one accepts; each attempt bounded by
// `per_address`. Never throws.
TcpProbe probeTcp(const std::string& host, const std::string& port, std::chrono::milliseconds per_address);

}  // namespace vkhid::adapters
