// `vkhid sim sms`: an SMS provider's HTTP API for development and tests (issue 27). It takes what a
// Ukrainian provider takes — POST of a JSON request with a bearer token, over HTTPS when given a
// certificate — answers as one does, and appends every request it accepted to a JSON-lines file, so a
// test reads what "reached the phone". It can fail or slow down on purpose: --fail-first N answers the
// first N requests with --fail-status (500), --delay-ms answers late (a timeout, for a short client).
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "gateway/app/config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/http/server.hpp"
#include "tools/tools.hpp"

namespace vkhid::tools {
namespace {

std::atomic<bool> g_sms_stop{false};

struct SmsOptions {
  std::string listen = "127.0.0.1:0", record, token, tls_cert, tls_key, port_file;
  int fail_first = 0, fail_status = 500, delay_ms = 0;
};

int runSimSms(const SmsOptions& o) {
  auto hp = app::parseHostPort(o.listen);
  if (!hp) {
    std::fprintf(stderr, "vkhid sim sms: --listen: expected host:port\n");
    return 2;
  }
  log::init("warn", "sim-sms");
  auto mutex = std::make_shared<std::mutex>();
  auto requests = std::make_shared<std::atomic<int>>(0);
  http::ServerOptions options;
  options.host = hp->host;
  options.port = hp->port;
  options.name = "sms";
  options.workers = 4;
  options.tls_cert_file = o.tls_cert;
  options.tls_key_file = o.tls_key;
  auto server = http::HttpServer::start(options, [o, mutex, requests](const http::Request& r) {
    if (r.method != "POST") return http::Response::problem(405, "Method not allowed", "POST a message");
    if (!o.token.empty() && r.header("authorization") != "Bearer " + o.token) {
      return http::Response::problem(401, "Unauthorized", "a bearer token is required");
    }
    const int n = ++*requests;
    if (o.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.delay_ms));
    if (n <= o.fail_first) return http::Response::problem(o.fail_status, "Failing on purpose", "--fail-first");
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    const auto* sms = !ec && v.is_object() ? v.as_object().if_contains("sms") : nullptr;
    const auto* to = !ec && v.is_object() ? v.as_object().if_contains("recipients") : nullptr;
    if (sms == nullptr || to == nullptr || !to->is_array() || to->as_array().empty()) {
      return http::Response::problem(400, "Bad request", "expected {recipients: [...], sms: {sender, text}}");
    }
    {
      std::lock_guard lock(*mutex);
      std::ofstream out(o.record, std::ios::app);
      out << boost::json::serialize(v) << "\n";
    }
    boost::json::object answer{
        {"response_code", 0},
        {"response_status", "OK"},
        {"response_result", boost::json::array{boost::json::object{{"message_id", "sim-" + std::to_string(n)}}}}};
    return http::Response{200, "application/json", boost::json::serialize(answer), {}};
  });
  if (!server) {
    std::fprintf(stderr, "vkhid sim sms: %s\n", server.error().message.c_str());
    return 1;
  }
  const unsigned port = (*server)->port();
  if (!o.port_file.empty()) std::ofstream(o.port_file) << port << "\n";
  std::printf("vkhid sim sms: listening on %s:%u\n", hp->host.c_str(), port);
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { g_sms_stop = true; });
  std::signal(SIGINT, [](int) { g_sms_stop = true; });
  while (!g_sms_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->stop(std::chrono::milliseconds(500));
  return 0;
}

}  // namespace

void addSimSmsCommand(CLI::App& sim, int& exit_code) {
  auto o = std::make_shared<SmsOptions>();
  auto* sms = sim.add_subcommand("sms", "An SMS provider's HTTP API that records what it gets (development and tests)");
  sms->add_option("--listen", o->listen, "host:port (port 0: any free one)")->default_val("127.0.0.1:0");
  sms->add_option("--record", o->record, "the JSON-lines file each accepted request is appended to")->required();
  sms->add_option("--token", o->token, "the bearer token required (none: any)");
  sms->add_option("--tls-cert", o->tls_cert, "HTTPS: its certificate (PEM)");
  sms->add_option("--tls-key", o->tls_key, "HTTPS: its key (PEM)");
  sms->add_option("--port-file", o->port_file, "where to write the port it listens on");
  sms->add_option("--fail-first", o->fail_first, "answer the first N requests with --fail-status");
  sms->add_option("--fail-status", o->fail_status, "the status of those answers")->default_val(500);
  sms->add_option("--delay-ms", o->delay_ms, "answer every request this late");
  sms->callback([o, &exit_code] { exit_code = runSimSms(*o); });
}

}  // namespace vkhid::tools
