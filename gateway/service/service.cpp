#include "gateway/service/service.hpp"

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "gateway/api/admin_api_routes.hpp"
#include "gateway/api/admin_routes.hpp"
#include "gateway/api/console_routes.hpp"
#include "gateway/api/intake_routes.hpp"
#include "gateway/app/health.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/crypto/pkcs11_signer.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/http/client.hpp"
#include "gateway/http/server.hpp"
#include "gateway/service/health.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::service {
namespace {

// Blocks the stop signals in this thread and, by inheritance, in every thread started after it, so
// they are taken only by sigwait below.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int runGateway(const app::Config& config) {
  sigset_t stop_signals = blockStopSignals();
  log::info("gateway starting", {{"version", VKHID_VERSION}, {"admin", config.admin.listen}});
  app::metrics().gauge("vkhid_build_info", "Build of this gateway process", {{"version", VKHID_VERSION}}).set(1);

  app::HealthRegistry health;
  health.expect("intake", "the intake server is not listening yet");
  DatabaseProbe database(config, health);
  BrokerProbe broker(config, health);

  auto listen = app::parseHostPort(config.admin.listen);
  api::AdminRoutes admin_routes(health, app::metrics());
  // The administration API joins once the exchange exists (until then: 503).
  std::atomic<const api::AdminApiRoutes*> admin_api{nullptr};
  std::atomic<const api::ConsoleRoutes*> console{nullptr};
  http::ServerOptions admin_options;
  admin_options.host = listen->host;
  admin_options.port = listen->port;
  admin_options.name = "admin";
  admin_options.threads = 1;
  // Reports, exports and connectivity checks may take their time on the workers; health, readiness and
  // metrics read what the probes last saw and are answered on the I/O thread, which no request can fill.
  admin_options.workers = 3;
  admin_options.serve_inline = [](const http::Request& r) {
    const std::string p = r.path();
    return p == "/healthz" || p == "/readyz" || p == "/metrics";
  };
  admin_options.tls_cert_file = config.admin.tls_cert;
  admin_options.tls_key_file = config.admin.tls_key;
  admin_options.client_ca_file = config.admin.client_ca;
  auto admin = http::HttpServer::start(admin_options, [&admin_routes, &admin_api, &console](const http::Request& r) {
    if (r.path().starts_with("/api/v1/admin/")) {
      const auto* api = admin_api.load();
      if (api == nullptr) return http::Response::problem(503, "Unavailable", "the gateway is starting");
      return *api->handle(r);
    }
    if (r.path() == "/console" || r.path().starts_with("/console/")) {
      const auto* c = console.load();
      if (c == nullptr) return http::Response::problem(503, "Unavailable", "the gateway is starting");
      return *c->handle(r);
    }
    return admin_routes.handle(r);
  });
  if (!admin) {
    log::error("cannot start admin server", {{"error", admin.error().message}});
    return 1;
  }
  log::info("admin server listening", {{"port", static_cast<int>((*admin)->port())}});

  database.start();
  broker.start();

  // The exchange needs the seal key, a connection pool, and the schema migrated.
  auto signer = crypto::openSealSigner(config.gateway.seal_key, config.gateway.seal_cert, config.gateway.pkcs11_module,
                                       config.gateway.seal_pin_file);
  if (!signer) {
    log::error("cannot load the seal key", {{"error", signer.error().message}});
    return 1;
  }
  store::PgPool pool({config.database.url, config.database.connect_timeout_s, config.database.statement_timeout_ms,
                      "vkhid-" + config.gateway.instance},
                     static_cast<std::size_t>(config.intake.threads + 3 * config.gateway.workers + 4));
  for (int i = 0; i < 300 && !health.snapshot()["migrations"].ok; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (auto legal = flows::LegalClock::load(config.deadlines); !legal) {
    log::error("cannot load the calendar or the deadline rules", {{"error", legal.error().message}});
    return 1;
  }
  if (!config.routing.rules_file.empty()) {
    // A malformed rules file stops the start, naming the rule; an unreachable database is waited for.
    Result<int> loaded = Error::unavailable("routing.rules_file", "not loaded");
    for (int attempt = 0; attempt < 60; ++attempt) {
      auto db = pool.acquire();
      loaded = db ? flows::loadRoutingRules(**db, config.routing.rules_file) : Result<int>(db.error());
      if (loaded || loaded.error().code == "routing.rules_file") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (!loaded) {
      log::error("cannot load the routing rules", {{"error", loaded.error().message}});
      return 1;
    }
    log::info("routing rules loaded", {{"file", config.routing.rules_file}, {"rules", *loaded}});
  }
  flows::TimestampFetch timestamps;
  if (!config.audit.tsa_url.empty()) {
    timestamps = [url = config.audit.tsa_url](const std::string& query) -> Result<std::string> {
      auto r = http::post(url, "application/timestamp-query", query, std::chrono::seconds(10));
      if (!r) return r.error();
      if (r->status != 200) {
        return Error::unavailable("audit.tsa", "the time-stamp authority answered HTTP " + std::to_string(r->status));
      }
      return std::move(r->body);
    };
  }
  // Read-only work on a streaming replica, when one is configured (connections made as needed).
  std::optional<store::PgPool> read_pool;
  if (!config.database.read_url.empty()) {
    read_pool.emplace(store::PgSettings{config.database.read_url, config.database.connect_timeout_s,
                                        config.database.statement_timeout_ms, "vkhid-read-" + config.gateway.instance},
                      static_cast<std::size_t>(config.intake.threads + 2));
  }
  flows::Exchange exchange(config, pool, **signer, std::move(timestamps));
  if (const Status& trust = exchange.context().trustSettingsStatus(); !trust) {
    // A trust list that cannot be read would make every qualified signature "untrusted": not started.
    log::error("cannot load the trust lists", {{"error", trust.error().message}});
    return 1;
  }
  if (read_pool) exchange.context().useReadPool(*read_pool);
  exchange.start();
  flows::Intake intake(exchange.context());
  std::vector<std::string> proxies = splitList(config.intake.trusted_proxies);
  api::IntakeRoutes intake_routes(intake, config.intake.track_per_minute, std::move(proxies));
  api::AdminApiRoutes admin_api_routes(exchange.context(), intake);
  admin_api = &admin_api_routes;
  api::ConsoleRoutes console_routes(exchange.context());
  console = &console_routes;
  auto intake_listen = app::parseHostPort(config.intake.listen);
  http::ServerOptions intake_options;
  intake_options.host = intake_listen->host;
  intake_options.port = intake_listen->port;
  intake_options.name = "intake";
  intake_options.threads = 2;
  intake_options.workers = config.intake.threads;
  intake_options.header_check = [&intake_routes](http::Request& r) { return intake_routes.checkHeaders(r); };
  intake_options.max_body_bytes = static_cast<std::size_t>(config.intake.max_body_bytes);
  intake_options.tls_cert_file = config.intake.tls_cert;
  intake_options.tls_key_file = config.intake.tls_key;
  intake_options.client_ca_file = config.intake.client_ca;  // optional: a token still works without one
  auto intake_server = http::HttpServer::start(
      intake_options, [&intake_routes](const http::Request& r) { return intake_routes.handle(r); });
  if (!intake_server) {
    log::error("cannot start intake server", {{"error", intake_server.error().message}});
    return 1;
  }
  health.set("intake", true);
  log::info("intake server listening",
            {{"port", static_cast<int>((*intake_server)->port())}, {"tls", !config.intake.tls_cert.empty()}});

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::info("stop signal received, shutting down", {{"signal", signal}});

  // Past the configured bound the process leaves anyway: an orchestrator must be able to rely on it.
  const int timeout_s = config.gateway.shutdown_timeout_s;
  std::thread([timeout_s] {
    std::this_thread::sleep_for(std::chrono::seconds(timeout_s));
    log::error("shutdown did not finish in time, exiting", {{"timeout_s", timeout_s}});
    _exit(1);
  }).detach();

  (*intake_server)->stop(std::chrono::seconds(std::max(1, timeout_s / 3)));
  admin_api = nullptr;
  console = nullptr;
  exchange.stop();
  (*admin)->stop(std::chrono::seconds(1));
  broker.stop();
  database.stop();
  log::info("gateway stopped");
  return 0;
}

int runMigrations(const app::Config& config) {
  store::PgSettings settings{config.database.url, config.database.connect_timeout_s,
                             config.database.statement_timeout_ms, "vkhid-migrate"};
  auto db = store::PgConnection::connect(settings);
  if (!db) {
    std::fprintf(stderr, "vkhid migrate: %s\n", db.error().message.c_str());
    return 1;
  }
  auto report = store::migrate(*db, store::embeddedMigrations());
  if (!report) {
    std::fprintf(stderr, "vkhid migrate: %s\n", report.error().message.c_str());
    return 1;
  }
  std::printf("schema at version %d (%d applied now)\n", report->current_version, report->applied_now);
  return 0;
}

}  // namespace vkhid::service
