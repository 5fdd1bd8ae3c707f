// `vkhid sim oidc`: a national ID provider for development and tests (issue 29), speaking OpenID Connect's
// authorisation code flow as the gateway's console uses it (flows/oidc.hpp). It signs everyone in at
// once as the person --national-id names (or a login_hint given to /authorize, as a person would choose
// at a real provider's page), hands out each code once, and issues HS256 id_tokens keyed with the client
// secret. An outside party's stand-in: the gateway's side is the real one.
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "gateway/app/config.hpp"
#include "gateway/crypto/aead.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/oidc.hpp"
#include "gateway/http/server.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

namespace json = boost::json;
std::atomic<bool> g_oidc_stop{false};

struct OidcOptions {
  std::string listen = "127.0.0.1:9443", client_id, secret_file, national_id, issuer;
};

struct Pending {
  std::string nonce, redirect_uri, national_id;
};

std::string randomHex() { return hexEncode(crypto::randomBytes(16)); }

// A form body's field (application/x-www-form-urlencoded), decoded as a query is.
std::string formField(const std::string& body, const std::string& name) {
  http::Request q;
  q.target = "/?" + body;
  return q.query(name);
}

int runSimOidc(const OidcOptions& o) {
  auto secret = crypto::readFile(o.secret_file);
  if (!secret) {
    std::fprintf(stderr, "vkhid sim oidc: --client-secret-file: %s\n", secret.error().message.c_str());
    return 2;
  }
  while (!secret->empty() && (secret->back() == '\n' || secret->back() == '\r')) secret->pop_back();
  auto hp = app::parseHostPort(o.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim oidc: --listen: expected host:port\n");
    return 2;
  }
  const std::string issuer = o.issuer.empty() ? "http://" + o.listen : o.issuer;
  auto mutex = std::make_shared<std::mutex>();
  auto codes = std::make_shared<std::map<std::string, Pending>>();
  http::ServerOptions options;
  options.host = hp->host;
  options.port = hp->port;
  options.name = "oidc";
  options.threads = 2;
  const std::string key = *secret;
  auto server = http::HttpServer::start(options, [=](const http::Request& r) {
    if (r.method == "GET" && r.path() == "/authorize") {
      if (r.query("response_type") != "code" || r.query("client_id") != o.client_id ||
          r.query("redirect_uri").empty() || r.query("state").empty() || r.query("nonce").empty()) {
        return http::Response::problem(400, "Bad request", "response_type=code, client_id, redirect_uri, state, nonce");
      }
      const std::string code = randomHex();
      {
        std::lock_guard lock(*mutex);
        (*codes)[code] = {r.query("nonce"), r.query("redirect_uri"),
                          r.query("login_hint").empty() ? o.national_id : r.query("login_hint")};
      }
      const std::string back = r.query("redirect_uri");
      return http::Response{302,
                            "text/plain; charset=utf-8",
                            "",
                            {{"Location", back + (back.find('?') == std::string::npos ? "?" : "&") + "code=" + code +
                                              "&state=" + flows::formEncode(r.query("state"))}}};
    }
    if (r.method == "POST" && r.path() == "/token") {
      if (formField(r.body, "grant_type") != "authorization_code" || formField(r.body, "client_id") != o.client_id ||
          formField(r.body, "client_secret") != key) {
        return http::Response::json(401, R"({"error":"invalid_client"})");
      }
      Pending p;
      {
        std::lock_guard lock(*mutex);
        auto it = codes->find(formField(r.body, "code"));
        if (it == codes->end() || it->second.redirect_uri != formField(r.body, "redirect_uri")) {
          return http::Response::json(400, R"({"error":"invalid_grant"})");
        }
        p = it->second;
        codes->erase(it);  // a code is good once
      }
      const auto now =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      const std::string header = flows::base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
      const std::string payload =
          flows::base64UrlEncode(json::serialize(json::object{{"iss", issuer},
                                                              {"sub", "person-" + p.national_id},
                                                              {"aud", o.client_id},
                                                              {"iat", now},
                                                              {"exp", now + 300},
                                                              {"nonce", p.nonce},
                                                              {"drfo", p.national_id}}));
      const std::string signature =
          flows::base64UrlEncode(hexDecode(crypto::hmacSha256Hex(key, header + "." + payload)).value_or(""));
      return http::Response::json(
          200, json::serialize(json::object{{"access_token", randomHex()},
                                            {"token_type", "Bearer"},
                                            {"expires_in", 300},
                                            {"id_token", header + "." + payload + "." + signature}}));
    }
    return http::Response::problem(404, "Not found", "GET /authorize, POST /token");
  });
  if (!server) {
    std::fprintf(stderr, "vkhid sim oidc: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("vkhid sim oidc: listening on %s:%u\n", hp->host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { g_oidc_stop = true; });
  std::signal(SIGINT, [](int) { g_oidc_stop = true; });
  while (!g_oidc_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

void addSimOidcCommand(CLI::App& sim, int& exit_code) {
  auto o = std::make_shared<OidcOptions>();
  auto* oidc = sim.add_subcommand("oidc", "A national ID provider (OpenID Connect; development and tests)");
  oidc->add_option("--listen", o->listen, "host:port")->default_val("127.0.0.1:9443");
  oidc->add_option("--client-id", o->client_id, "the console's client id")->required();
  oidc->add_option("--client-secret-file", o->secret_file, "its client secret")->required();
  oidc->add_option("--national-id", o->national_id, "the РНОКПП of whoever signs in")->required();
  oidc->add_option("--issuer", o->issuer, "the id_tokens' iss (default http://<listen>)");
  oidc->callback([o, &exit_code] { exit_code = runSimOidc(*o); });
}

}  // namespace vkhid::tools
