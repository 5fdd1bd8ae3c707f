#include "gateway/api/console_routes.hpp"

#include <boost/json.hpp>

#include "gateway/app/logging.hpp"
#include "gateway/crypto/aead.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/console_accounts.hpp"

namespace vkhid::api {
namespace {

namespace json = boost::json;

std::string sessionJson(const flows::ConsoleSession& s) {
  json::object o{
      {"client", s.client_id}, {"role", s.role}, {"csrf", s.csrf}, {"restricted_access", s.restricted_access}};
  if (!s.org_id.empty()) o["org_id"] = s.org_id;
  return json::serialize(o);
}

flows::SignInPolicy signInPolicy(const app::AdminSettings& admin) {
  flows::SignInPolicy p;
  p.idle = std::chrono::minutes(admin.console_session_minutes);
  p.longest = std::chrono::minutes(admin.console_session_max_minutes);
  p.tokens = admin.console_tokens;
  p.max_failures = admin.signin_max_failures;
  p.lockout = std::chrono::minutes(admin.signin_lockout_minutes);
  return p;
}

std::string stringField(const json::value& body, const char* name) {
  const json::value* v = body.is_object() ? body.as_object().if_contains(name) : nullptr;
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string cookieValue(const Request& request, std::string_view name) {
  const std::string all = request.header("cookie");
  std::string_view view(all);
  while (!view.empty()) {
    auto semi = view.find(';');
    std::string_view pair = view.substr(0, semi);
    view = semi == std::string_view::npos ? std::string_view() : view.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
  }
  return {};
}

void addConsoleSecurityHeaders(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; "
                         "base-uri 'none'; form-action 'self'; object-src 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

std::optional<Response> ConsoleRoutes::handle(const Request& request) const {
  const std::string path = request.path();
  if (path != "/console" && !path.starts_with("/console/")) return std::nullopt;
  if (path == "/console/session") return session(request);
  if (path == "/console/oidc" && identity_) return Response::json(200, R"({"provider":"national-id"})");
  if (path == "/console/oidc/start" || path == "/console/oidc/callback") {
    if (!identity_) return Response::problem(404, "Not found", "the national ID sign-in is not configured");
    if (request.method != "GET") return Response::problem(405, "Method not allowed", "GET");
    return path.ends_with("start") ? oidcStart(request) : oidcCallback(request);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return Response::problem(405, "Method not allowed", "GET");
  }
  if (path == "/console") {
    Response r{308, "text/plain; charset=utf-8", "", {{"Location", "/console/"}}};
    return r;
  }
  std::string name = path.substr(std::string("/console/").size());
  if (name.empty()) name = "index.html";
  auto body = consoleFile(name);
  if (body.empty()) return Response::problem(404, "Not found", "no such file in the console");
  const char* type = name.ends_with(".html")  ? "text/html; charset=utf-8"
                     : name.ends_with(".js")  ? "text/javascript; charset=utf-8"
                     : name.ends_with(".css") ? "text/css; charset=utf-8"
                                              : "application/octet-stream";
  Response r = Response::text(200, std::string(body), type);
  r.headers.emplace_back("Cache-Control", "no-cache");
  addConsoleSecurityHeaders(r);
  return r;
}

// Secure cookies when the admin listener speaks TLS; on plain loopback HTTP a browser would drop them.
std::string ConsoleRoutes::cookieAttributes() const {
  return "; Path=/; HttpOnly; SameSite=Strict" + std::string(context_.config.admin.tls_cert.empty() ? "" : "; Secure");
}

namespace {
constexpr const char* kOidcCookie = "vkhid_oidc";  // state.nonce of a sign-in on its way through the provider

std::string randomHex() { return hexEncode(crypto::randomBytes(16)); }

Response redirect(const std::string& location) {
  return Response{302, "text/plain; charset=utf-8", "", {{"Location", location}}};
}
}  // namespace

Response ConsoleRoutes::oidcStart(const Request& request) const {
  if (int retry = 0; !signin_limit_.allow(request.remote_address, std::chrono::steady_clock::now(), retry)) {
    auto limited = Response::problem(429, "Too many sign-in attempts", "from this address; try again later");
    limited.headers.emplace_back("Retry-After", std::to_string(retry));
    return limited;
  }
  const std::string state = randomHex(), nonce = randomHex();
  Response r = redirect(identity_->authorizeUrl(state, nonce));
  // SameSite=Lax: the provider sends the browser back by a top-level GET from its own site, which a Strict
  // cookie would not travel with. Ten minutes to sign in there.
  r.headers.emplace_back("Set-Cookie", std::string(kOidcCookie) + "=" + state + "." + nonce +
                                           "; Path=/console/oidc; HttpOnly; SameSite=Lax; Max-Age=600" +
                                           (context_.config.admin.tls_cert.empty() ? "" : "; Secure"));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ConsoleRoutes::oidcCallback(const Request& request) const {
  const std::string pending = cookieValue(request, kOidcCookie);
  const auto dot = pending.find('.');
  const std::string state = dot == std::string::npos ? "" : pending.substr(0, dot);
  const std::string nonce = dot == std::string::npos ? "" : pending.substr(dot + 1);
  // The state binds the answer to the browser that asked: another's code (login CSRF) is refused.
  if (state.empty() || request.query("state") != state) {
    return Response::problem(403, "Forbidden", "state: not the sign-in this browser started; start again");
  }
  if (!request.query("error").empty()) {
    return Response::problem(401, "Unauthorized", "the national ID provider did not sign you in");
  }
  auto who = identity_->redeem(request.query("code"), nonce);
  if (!who) {
    log::warn("national ID sign-in refused", {{"code", who.error().code}, {"error", who.error().message}});
    return Response::problem(who.error().kind == ErrorKind::Unavailable ? 503 : 401,
                             who.error().kind == ErrorKind::Unavailable ? "Unavailable" : "Unauthorized",
                             who.error().message);
  }
  auto db = context_.pool.acquire();
  if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
  auto opened = flows::openNationalIdSession(**db, who->national_id, signInPolicy(context_.config.admin));
  if (!opened) {
    if (opened.error().code == "console.locked")
      return Response::problem(429, "Too many failed sign-ins", opened.error().message);
    return Response::problem(opened.error().kind == ErrorKind::InvalidInput ? 403 : 503,
                             opened.error().kind == ErrorKind::InvalidInput ? "Forbidden" : "Unavailable",
                             opened.error().message);
  }
  Response r = redirect("/console/");
  r.headers.emplace_back("Set-Cookie", std::string(kOidcCookie) + "=; Path=/console/oidc; Max-Age=0");
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + opened->first + cookieAttributes());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response ConsoleRoutes::session(const Request& request) const {
  const auto idle = std::chrono::minutes(context_.config.admin.console_session_minutes);
  auto db = context_.pool.acquire();
  if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
  const std::string attributes = cookieAttributes();
  Response r;
  if (request.method == "POST") {
    // Login CSRF: a page elsewhere can make a browser POST a form (text/plain, urlencoded, multipart)
    // to sign it in as someone else; it cannot send application/json without a preflight this server
    // never grants, and a browser names the page's origin.
    if (!request.header("content-type").starts_with("application/json")) {
      return Response::problem(415, "Unsupported media type", "sign in with application/json");
    }
    const std::string origin = request.header("origin");
    const std::string host = request.header("host");
    if (!origin.empty() && origin != "http://" + host && origin != "https://" + host) {
      return Response::problem(403, "Forbidden", "Origin: sign-in is accepted only from the console's own origin");
    }
    // Every attempt costs a password hash: a flood from one address stops here, before any is computed.
    if (int retry = 0; !signin_limit_.allow(request.remote_address, std::chrono::steady_clock::now(), retry)) {
      auto limited = Response::problem(429, "Too many sign-in attempts", "from this address; try again later");
      limited.headers.emplace_back("Retry-After", std::to_string(retry));
      return limited;
    }
    boost::system::error_code ec;
    auto body = json::parse(request.body, ec);
    if (ec) body = json::object();
    // A person: login, password and code; a machine client or a certificate's holder: a token or none.
    const std::string login = stringField(body, "login");
    const auto policy = signInPolicy(context_.config.admin);
    auto opened =
        !login.empty()
            ? flows::openAccountSession(**db, login, stringField(body, "password"), stringField(body, "code"), policy)
            : flows::openConsoleSession(**db, stringField(body, "token"), policy, request.client_cert_sha256);
    if (!opened) {
      if (opened.error().code == "console.locked") {
        auto locked = Response::problem(429, "Too many failed sign-ins", opened.error().message);
        locked.headers.emplace_back("Retry-After", std::to_string(policy.lockout.count() * 60));
        return locked;
      }
      if (opened.error().kind == ErrorKind::InvalidInput) {
        return Response::problem(401, "Unauthorized", opened.error().message);
      }
      return Response::problem(503, "Unavailable", opened.error().message);
    }
    r = Response::json(201, sessionJson(opened->second));
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + opened->first + attributes);
  } else if (request.method == "GET") {
    auto s = flows::findConsoleSession(**db, cookieValue(request, kSessionCookie), idle);
    if (!s) return Response::problem(401, "Unauthorized", "no console session; sign in");
    r = Response::json(200, sessionJson(*s));
  } else if (request.method == "DELETE") {
    std::string id = cookieValue(request, kSessionCookie);
    auto s = flows::findConsoleSession(**db, id, idle);
    if (s && request.header("x-csrf-token") != s->csrf) {
      return Response::problem(403, "Forbidden", "X-CSRF-Token: the session's token is required");
    }
    if (s) (void)flows::closeConsoleSession(**db, id, *s);
    r = Response{204, "application/json", "", {}};
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + attributes + "; Max-Age=0");
  } else {
    return Response::problem(405, "Method not allowed", "GET, POST or DELETE");
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace vkhid::api
