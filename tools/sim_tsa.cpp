// `vkhid sim tsa`: an RFC 3161 time-stamp authority over HTTP (POST application/timestamp-query ->
// application/timestamp-reply), with its certificate from the development PKI. For development and
// tests only: a qualified authority stands in production.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "gateway/app/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/crypto/timestamp.hpp"
#include "gateway/http/server.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

std::atomic<bool> g_tsa_stop{false};

struct TsaOptions {
  std::string listen = "127.0.0.1:3161", key, cert;
};

int runSimTsa(const TsaOptions& o) {
  auto tsa = crypto::TimestampAuthority::load(o.key, o.cert);
  if (!tsa) {
    std::fprintf(stderr, "vkhid sim tsa: %s\n", tsa.error().message.c_str());
    return 2;
  }
  auto hp = app::parseHostPort(o.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim tsa: --listen: expected host:port\n");
    return 2;
  }
  log::init("warn", "sim-tsa");
  auto authority = std::make_shared<crypto::TimestampAuthority>(std::move(tsa).value());
  http::ServerOptions options;
  options.host = hp->host;
  options.port = hp->port;
  options.name = "tsa";
  options.threads = 2;
  auto server = http::HttpServer::start(options, [authority](const http::Request& r) {
    if (r.method != "POST") return http::Response::problem(405, "Method not allowed", "POST a TimeStampReq");
    if (!r.header("content-type").starts_with("application/timestamp-query")) {
      return http::Response::problem(415, "Unsupported media type", "send application/timestamp-query");
    }
    auto answer = authority->respond(r.body);
    if (!answer) return http::Response::problem(400, "Bad time-stamp query", answer.error().message);
    return http::Response{200, "application/timestamp-reply", std::move(answer).value(), {}};
  });
  if (!server) {
    std::fprintf(stderr, "vkhid sim tsa: %s\n", server.error().message.c_str());
    return 1;
  }
  std::printf("vkhid sim tsa: listening on %s:%u\n", hp->host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { g_tsa_stop = true; });
  std::signal(SIGINT, [](int) { g_tsa_stop = true; });
  while (!g_tsa_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

void addSimTsaCommand(CLI::App& sim, int& exit_code) {
  auto o = std::make_shared<TsaOptions>();
  auto* tsa = sim.add_subcommand("tsa", "An RFC 3161 time-stamp authority (development and tests)");
  tsa->add_option("--listen", o->listen, "host:port")->default_val("127.0.0.1:3161");
  tsa->add_option("--key", o->key, "its key (PEM)")->required();
  tsa->add_option("--cert", o->cert, "its certificate (PEM, extendedKeyUsage timeStamping)")->required();
  tsa->callback([o, &exit_code] { exit_code = runSimTsa(*o); });
}

}  // namespace vkhid::tools
