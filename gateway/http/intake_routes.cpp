#include "gateway/http/intake_routes.hpp"

namespace vkhid::http {
namespace {

Response fromReply(const flows::IntakeReply& r) {
  Response out{r.status, r.problem ? "application/problem+json" : "application/json", r.body, {}};
  if (!r.location.empty() && r.status == 201) out.headers.emplace_back("Location", r.location);
  return out;
}

}  // namespace

Response IntakeRoutes::handle(const Request& request) const {
  const std::string path = request.path();
  if (!path.starts_with("/api/v1/cases")) return Response::problem(404, "Not found", "no such endpoint: " + path);

  std::string auth = request.header("authorization");
  std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
  auto client = intake_.authenticate(token, "channel", request.client_cert_sha256);
  if (!client) {
    auto r = Response::problem(401, "Unauthorized",
                               "a channel client's bearer token, or its registered client certificate, is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
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
    return fromReply(intake_.submit(*client, key, request.body));
  }

  std::string rest = path.substr(std::string("/api/v1/cases/").size());
  if (request.method != "GET") return Response::problem(405, "Method not allowed", "use GET");
  if (rest.ends_with("/answer")) return fromReply(intake_.answer(*client, rest.substr(0, rest.size() - 7)));
  if (rest.find('/') == std::string::npos && !rest.empty()) return fromReply(intake_.status(*client, rest));
  return Response::problem(404, "Not found", "no such endpoint: " + path);
}

}  // namespace vkhid::http
