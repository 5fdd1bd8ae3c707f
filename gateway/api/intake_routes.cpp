#include "gateway/api/intake_routes.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "gateway/domain/text.hpp"

namespace vkhid::api {
namespace {

namespace json = boost::json;

int statusOf(flows::IntakeResult r) {
  using R = flows::IntakeResult;
  switch (r) {
    case R::created: return 201;
    case R::repeated: return 200;
    case R::found: return 200;
    case R::invalid: return 422;
    case R::key_reused: return 409;
    case R::not_found: return 404;
    case R::conflict: return 409;
    case R::unavailable: return 503;
    case R::unreadable: return 500;
  }
  return 500;
}

// An outcome as the intake API answers it: the JSON found or registered (with Location for a new case),
// or problem+json (RFC 9457) naming each wrong field.
Response fromOutcome(const flows::IntakeOutcome& r) {
  const int status = statusOf(r.result);
  if (r.ok()) {
    Response out{status, "application/json", r.body, {}};
    if (r.result == flows::IntakeResult::created && !r.case_id.empty()) {
      out.headers.emplace_back("Location", "/api/v1/cases/" + r.case_id);
    }
    return out;
  }
  json::object o{{"type", "about:blank"}, {"title", r.title}, {"status", status}, {"detail", r.detail}};
  if (!r.errors.empty()) {
    json::array errors;
    for (const auto& e : r.errors) errors.push_back(json::object{{"field", e.field}, {"expected", e.expected}});
    o["errors"] = std::move(errors);
  }
  return Response{status, "application/problem+json", json::serialize(o), {}};
}

}  // namespace

bool RateLimiter::allow(const std::string& key, std::chrono::steady_clock::time_point now, int& retry_after_s) {
  std::lock_guard lock(mutex_);
  if (buckets_.size() > 100000) {  // forget addresses idle for a minute, so the map stays bounded
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.last > std::chrono::minutes(1) ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_minute_), now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min<double>(per_minute_, b.tokens + elapsed * per_minute_ / 60.0);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = static_cast<int>(std::ceil((1.0 - b.tokens) * 60.0 / per_minute_));
  return false;
}

std::string IntakeRoutes::clientAddress(const Request& request) const {
  auto trusted = [&](const std::string& a) {
    return std::find(trusted_proxies_.begin(), trusted_proxies_.end(), a) != trusted_proxies_.end();
  };
  if (!trusted(request.remote_address)) return request.remote_address;
  std::string forwarded = request.header("x-forwarded-for");
  // From the right: each hop appends the address it took the request from.
  std::string address = request.remote_address;
  while (!forwarded.empty()) {
    auto comma = forwarded.rfind(',');
    std::string hop = forwarded.substr(comma == std::string::npos ? 0 : comma + 1);
    forwarded = comma == std::string::npos ? "" : forwarded.substr(0, comma);
    while (!hop.empty() && hop.front() == ' ') hop.erase(0, 1);
    while (!hop.empty() && hop.back() == ' ') hop.pop_back();
    if (hop.empty()) continue;
    address = hop;
    if (!trusted(hop)) break;
  }
  return address;
}

Response IntakeRoutes::track(const Request& request) const {
  // GET /api/v1/track/{code}: the applicant's view; POST /api/v1/track/{code}/rating: their rating. The
  // tracking code is the applicant's only key, so both share one limit per address.
  std::string code = request.path().substr(std::string("/api/v1/track/").size());
  const bool rating = code.ends_with("/rating");
  if (rating) code.resize(code.size() - std::string("/rating").size());
  const char* method = rating ? "POST" : "GET";
  if (request.method != method) {
    auto r = Response::problem(405, "Method not allowed", std::string("use ") + method);
    r.headers.emplace_back("Allow", method);
    return r;
  }
  int retry_after = 0;
  if (!track_limit_.allow(clientAddress(request), std::chrono::steady_clock::now(), retry_after)) {
    auto r = Response::problem(429, "Too many requests", "too many tracking requests from this address; wait");
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
    return r;
  }
  if (!rating) return fromOutcome(intake_.track(code));
  if (!request.header("content-type").starts_with("application/json")) {
    return Response::problem(415, "Unsupported media type", "the rating must be sent as application/json");
  }
  return fromOutcome(intake_.rate(code, request.body));
}

std::optional<Response> IntakeRoutes::checkCredentials(const Request& request,
                                                       std::optional<std::string>& client) const {
  if (!request.path().starts_with("/api/v1/cases")) return std::nullopt;  // tracking needs none; 404s neither
  std::string auth = request.header("authorization");
  std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
  auto who = intake_.identify(token, request.client_cert_sha256);
  if (!who) return Response::problem(503, "Unavailable", "the credentials cannot be checked now; try again");
  if (*who && (*who)->role == "channel") {
    client = (*who)->id;
    return std::nullopt;
  }
  if (*who) return Response::problem(403, "Forbidden", "this client's role may not use the intake API");
  auto r = Response::problem(401, "Unauthorized",
                             "a channel client's bearer token, or its registered client certificate, is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<Response> IntakeRoutes::checkHeaders(Request& request) const {
  std::optional<std::string> client;
  if (auto refused = checkCredentials(request, client)) return refused;
  if (client) request.authenticated = *client;
  return std::nullopt;
}

Response IntakeRoutes::handle(const Request& request) const {
  const std::string path = request.path();
  if (path.starts_with("/api/v1/track/")) return track(request);
  if (!path.starts_with("/api/v1/cases")) return Response::problem(404, "Not found", "no such endpoint: " + path);

  std::optional<std::string> client;
  if (!request.authenticated.empty()) {
    client = request.authenticated;  // checked on the headers, before the body was read
  } else if (auto refused = checkCredentials(request, client)) {
    return *refused;
  }

  if (path == "/api/v1/cases") {
    if (request.method != "POST") {
      auto r = Response::problem(405, "Method not allowed", "use POST to submit a case");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    if (!request.header("content-type").starts_with("application/json")) {
      return Response::problem(415, "Unsupported media type", "the case must be sent as application/json");
    }
    std::string key = request.header("idempotency-key");
    if (key.size() > 200) return Response::problem(400, "Bad Idempotency-Key", "at most 200 characters");
    if (!isCleanText(key)) {
      return Response::problem(422, "Bad Idempotency-Key",
                               "Idempotency-Key: expected UTF-8 text without NUL or control characters");
    }
    return fromOutcome(intake_.submit(*client, key, request.body));
  }

  if (path == "/api/v1/cases/withdrawal") {
    if (request.method != "POST") {
      auto r = Response::problem(405, "Method not allowed", "use POST to withdraw a case by its tracking code");
      r.headers.emplace_back("Allow", "POST");
      return r;
    }
    return fromOutcome(intake_.withdraw(*client, request.body));
  }
  std::string rest = path.substr(std::string("/api/v1/cases/").size());
  if (request.method != "GET") return Response::problem(405, "Method not allowed", "use GET");
  if (rest.ends_with("/answer")) return fromOutcome(intake_.answer(*client, rest.substr(0, rest.size() - 7)));
  if (rest.find('/') == std::string::npos && !rest.empty()) return fromOutcome(intake_.status(*client, rest));
  return Response::problem(404, "Not found", "no such endpoint: " + path);
}

}  // namespace vkhid::api
