// The intake API for channel systems (DESIGN §7.1): POST /api/v1/cases, GET /api/v1/cases/{id},
// GET /api/v1/cases/{id}/answer; and the applicants' tracking API, GET /api/v1/track/{code}
// (no authentication; rate-limited per client address). Pure request -> response over flows::Intake.
#pragma once

#include <chrono>
#include <map>
#include <mutex>

#include "gateway/flows/exchange.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::http {

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
  IntakeRoutes(flows::Intake& intake, int track_per_minute = 30) : intake_(intake), track_limit_(track_per_minute) {}
  Response handle(const Request& request) const;

 private:
  Response track(const Request& request) const;

  flows::Intake& intake_;
  mutable RateLimiter track_limit_;
};

}  // namespace vkhid::http
