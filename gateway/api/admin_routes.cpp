#include "gateway/api/admin_routes.hpp"

#include <boost/json.hpp>

namespace vkhid::api {

Response AdminRoutes::handle(const Request& request) const {
  const std::string path = request.path();
  if (request.method != "GET" && request.method != "HEAD") {
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
      auto r = Response::problem(405, "Method not allowed", "use GET");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
  }
  if (path == "/healthz") return Response::json(200, R"({"status":"alive"})");
  if (path == "/readyz") return readiness();
  if (path == "/metrics") {
    // Readiness as a series too, for the alert rules (ops/prometheus): 1 when /readyz would answer 200.
    bool ready = true;
    for (const auto& [name, state] : health_.snapshot()) ready = ready && state.ok;
    app::metrics().gauge("vkhid_ready", "1 when every readiness check passes (/readyz 200), else 0").set(ready ? 1 : 0);
    return Response::text(200, metrics_.exposition(), "text/plain; version=0.0.4; charset=utf-8");
  }
  return Response::problem(404, "Not found", "no such endpoint: " + path);
}

Response AdminRoutes::readiness() const {
  boost::json::object checks;
  boost::json::array failing;
  bool ready = true;
  for (const auto& [name, state] : health_.snapshot()) {
    boost::json::object c{{"ok", state.ok}};
    if (!state.ok) {
      c["detail"] = state.detail;
      failing.emplace_back(name);
      ready = false;
    }
    checks[name] = std::move(c);
  }
  boost::json::object body{{"status", ready ? "ready" : "not_ready"}, {"checks", std::move(checks)}};
  if (!ready) body["failing"] = std::move(failing);
  return Response::json(ready ? 200 : 503, boost::json::serialize(body));
}

}  // namespace vkhid::api
