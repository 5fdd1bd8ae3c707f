// The intake API for channel systems (DESIGN §7.1): POST /api/v1/cases, GET /api/v1/cases/{id},
// GET /api/v1/cases/{id}/answer; and the applicants' tracking API, GET /api/v1/track/{code}
// (no authentication; rate-limited per client address). Pure request -> response over flows::Intake.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/flows/intake.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::api {

using http::Request;
using http::Response;

// A token bucket per client address: `per_minute` requests a minute, bursts up to that many.
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}
  // True when this request may go ahead; otherwise `retry_after_s` says when the next one may.
  bool allow(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  int per_minute_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

class IntakeRoutes {
 public:
  // `trusted_proxies`: addresses of reverse proxies (the UCC's front end) whose X-Forwarded-For names the
  // client; requests from anyone else are the address they come from.
  IntakeRoutes(flows::Intake& intake, int track_per_minute = 30, std::vector<std::string> trusted_proxies = {})
      : intake_(intake), track_limit_(track_per_minute), trusted_proxies_(std::move(trusted_proxies)) {}
  Response handle(const Request& request) const;
  // The server's HeaderCheck: a channel client's credentials, checked before its body is read.
  std::optional<Response> checkHeaders(Request& request) const;
  // Who the request comes from, for rate limits: behind a trusted proxy, the last address of
  // X-Forwarded-For that is not one of the trusted proxies.
  std::string clientAddress(const Request& request) const;

 private:
  Response track(const Request& request) const;
  // nullopt with `client` set when the credentials are a channel client's; else the refusal (401, 403, or
  // 503 when the database cannot say).
  std::optional<Response> checkCredentials(const Request& request, std::optional<std::string>& client) const;

  flows::Intake& intake_;
  mutable RateLimiter track_limit_;
  std::vector<std::string> trusted_proxies_;
};

}  // namespace vkhid::api
