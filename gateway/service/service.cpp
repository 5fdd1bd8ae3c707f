#include "gateway/service/service.hpp"

#include <systemd/sd-daemon.h>

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
#include "gateway/flows/oidc.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/http/client.hpp"
#include "gateway/http/server.hpp"
#include "gateway/notify/notifier.hpp"
#include "gateway/service/health.hpp"
#include "gateway/store/at_rest.hpp"
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

// A listener at `listen` (host:port, checked when the configuration was read), with TLS when a
// certificate is configured and client certificates checked against `client_ca` when one is.
http::ServerOptions listenerOptions(const char* name, const std::string& listen, const std::string& tls_cert,
                                    const std::string& tls_key, const std::string& client_ca) {
  auto hp = app::parseHostPort(listen);
  http::ServerOptions o;
  o.host = hp->host;
  o.port = hp->port;
  o.name = name;
  o.tls_cert_file = tls_cert;
  o.tls_key_file = tls_key;
  o.client_ca_file = client_ca;
  return o;
}

// The admin listener: health, readiness and metrics answered on the I/O thread (they read what the
// probes last saw, so no request can fill it); reports, exports and connectivity checks on the workers.
http::ServerOptions adminServerOptions(const app::Config& config) {
  auto o = listenerOptions("admin", config.admin.listen, config.admin.tls_cert, config.admin.tls_key,
                           config.admin.client_ca);
  o.threads = 1;
  o.workers = 3;
  o.serve_inline = [](const http::Request& r) {
    const std::string p = r.path();
    return p == "/healthz" || p == "/readyz" || p == "/metrics";
  };
  return o;
}

// The intake listener; a client certificate is optional there (a token still works without one).
http::ServerOptions intakeServerOptions(const app::Config& config, api::IntakeRoutes& routes) {
  auto o = listenerOptions("intake", config.intake.listen, config.intake.tls_cert, config.intake.tls_key,
                           config.intake.client_ca);
  o.threads = 2;
  o.workers = config.intake.threads;
  o.header_check = [&routes](http::Request& r) { return routes.checkHeaders(r); };
  o.max_body_bytes = static_cast<std::size_t>(config.intake.max_body_bytes);
  return o;
}

// routing.rules_file: a malformed file stops the start, naming the rule; an unreachable database is
// waited for (30 s). False when the gateway must not start.
bool loadRulesAtStart(const app::Config& config, store::PgPool& pool) {
  if (config.routing.rules_file.empty()) return true;
  Result<int> loaded = Error::unavailable("routing.rules_file", "not loaded");
  for (int attempt = 0; attempt < 60; ++attempt) {
    auto db = pool.acquire();
    loaded = db ? flows::loadRoutingRules(**db, config.routing.rules_file) : Result<int>(db.error());
    if (loaded || loaded.error().code == "routing.rules_file") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!loaded) {
    log::error("cannot load the routing rules", {{"error", loaded.error().message}});
    return false;
  }
  log::info("routing rules loaded", {{"file", config.routing.rules_file}, {"rules", *loaded}});
  return true;
}

// RFC 3161 answers for the evidence batches from audit.tsa_url (none configured: batches unstamped).
flows::TimestampFetch timestampFetch(const app::Config& config) {
  if (config.audit.tsa_url.empty()) return {};
  return [url = config.audit.tsa_url](const std::string& query) -> Result<std::string> {
    auto r = http::post(url, "application/timestamp-query", query, std::chrono::seconds(10));
    if (!r) return r.error();
    if (r->status != 200) {
      return Error::unavailable("audit.tsa", "the time-stamp authority answered HTTP " + std::to_string(r->status));
    }
    return std::move(r->body);
  };
}

store::PgSettings readPoolSettings(const app::Config& config) {
  return {config.database.read_url, config.database.connect_timeout_s, config.database.statement_timeout_ms,
          "vkhid-read-" + config.gateway.instance};
}

// The calendar and the deadline rules: a gateway that cannot read them does not start.
bool legalRulesLoad(const app::Config& config) {
  if (auto legal = flows::LegalClock::load(config.deadlines); !legal) {
    log::error("cannot load the calendar or the deadline rules", {{"error", legal.error().message}});
    return false;
  }
  return true;
}

// The intake listener, serving `routes`; nullptr (logged) when it cannot listen.
std::unique_ptr<http::HttpServer> startIntake(const app::Config& config, api::IntakeRoutes& routes) {
  auto server = http::HttpServer::start(intakeServerOptions(config, routes),
                                        [&routes](const http::Request& r) { return routes.handle(r); });
  if (!server) {
    log::error("cannot start intake server", {{"error", server.error().message}});
    return nullptr;
  }
  log::info("intake server listening",
            {{"port", static_cast<int>((*server)->port())}, {"tls", !config.intake.tls_cert.empty()}});
  return std::move(server).value();
}

// The admin listener's requests: the administration API and the console once the exchange exists (503
// until then), health, readiness and metrics from the start.
http::Handler adminHandler(const api::AdminRoutes& routes, const std::atomic<const api::AdminApiRoutes*>& admin_api,
                           const std::atomic<const api::ConsoleRoutes*>& console) {
  return [&routes, &admin_api, &console](const http::Request& r) {
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
    return routes.handle(r);
  };
}

// Past the configured bound the process leaves anyway: an orchestrator must be able to rely on it.
void startShutdownWatchdog(int timeout_s) {
  std::thread([timeout_s] {
    std::this_thread::sleep_for(std::chrono::seconds(timeout_s));
    log::error("shutdown did not finish in time, exiting", {{"timeout_s", timeout_s}});
    _exit(1);
  }).detach();
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

  api::AdminRoutes admin_routes(health, app::metrics());
  // The administration API joins once the exchange exists (until then: 503).
  std::atomic<const api::AdminApiRoutes*> admin_api{nullptr};
  std::atomic<const api::ConsoleRoutes*> console{nullptr};
  auto admin = http::HttpServer::start(adminServerOptions(config), adminHandler(admin_routes, admin_api, console));
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
                     static_cast<std::size_t>(config.intake.threads + 3 * config.gateway.workers + 4 +
                                              (config.notify.enabled ? 3 : 0)));
  for (int i = 0; i < 300 && !health.snapshot()["migrations"].ok; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!legalRulesLoad(config) || !loadRulesAtStart(config, pool)) return 1;
  // Personal data is sealed at rest: without the master key that opens the data keys, no start.
  if (auto keys =
          [&] {
            auto lease = pool.acquire();  // given back at once
            return lease ? store::loadAtRest(config, **lease) : Status(lease.error());
          }();
      !keys) {
    log::error("cannot open personal data at rest", {{"error", keys.error().message}});
    return 1;
  }
  // Read-only work on a streaming replica, when one is configured (connections made as needed).
  std::optional<store::PgPool> read_pool;
  if (!config.database.read_url.empty())
    read_pool.emplace(readPoolSettings(config), static_cast<std::size_t>(config.intake.threads + 2));
  flows::Exchange exchange(config, pool, **signer, timestampFetch(config));
  if (const Status& trust = exchange.context().trustSettingsStatus(); !trust) {
    // A trust list that cannot be read would make every qualified signature "untrusted": not started.
    log::error("cannot load the trust lists", {{"error", trust.error().message}});
    return 1;
  }
  if (read_pool) exchange.context().useReadPool(*read_pool);
  exchange.start();
  // The notifier, where this process runs it (notify.enabled): templates or a rota that cannot be read
  // stop the start, as the trust lists do.
  std::unique_ptr<notify::Notifier> notifier;
  if (config.notify.enabled) {
    auto made = notify::Notifier::create(config, pool);
    if (!made) {
      log::error("cannot start the notifier", {{"error", made.error().message}});
      return 1;
    }
    notifier = std::move(made).value();
    notifier->start();
  }
  flows::Intake intake(exchange.context());
  std::vector<std::string> proxies = splitList(config.intake.trusted_proxies);
  api::IntakeRoutes intake_routes(intake, config.intake.track_per_minute, std::move(proxies));
  api::AdminApiRoutes admin_api_routes(exchange.context(), intake);
  admin_api = &admin_api_routes;
  // The national ID sign-in, when configured: a key set but unusable stops the start.
  auto identity = flows::makeIdentityProvider(config.admin);
  if (!identity) {
    log::error("cannot set up the national ID sign-in", {{"error", identity.error().message}});
    return 1;
  }
  api::ConsoleRoutes console_routes(exchange.context(), std::move(*identity));
  console = &console_routes;
  auto intake_server = startIntake(config, intake_routes);
  if (!intake_server) return 1;
  health.set("intake", true);
  // systemd (Type=notify): ready when /readyz would say so — every check passing — and not before.
  std::atomic<bool> stopping{false};
  std::thread notify_ready([&health, &stopping] {
    while (!stopping.load()) {
      if (health.ready()) {
        sd_notify(0, "READY=1\nSTATUS=ready: every check passes");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  int signal = 0;
  sigwait(&stop_signals, &signal);
  log::info("stop signal received, shutting down", {{"signal", signal}});
  stopping = true;
  notify_ready.join();
  sd_notify(0, "STOPPING=1\nSTATUS=draining");

  const int timeout_s = config.gateway.shutdown_timeout_s;
  startShutdownWatchdog(timeout_s);

  intake_server->stop(std::chrono::seconds(std::max(1, timeout_s / 3)));
  admin_api = nullptr;
  console = nullptr;
  if (notifier) notifier->stop();
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
