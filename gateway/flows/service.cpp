#include "gateway/flows/service.hpp"

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <thread>

#include "gateway/app/health.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/flows/health.hpp"
#include "gateway/http/admin_routes.hpp"
#include "gateway/http/server.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::flows {
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
  DatabaseProbe database(config, health);
  BrokerProbe broker(config, health);

  auto listen = app::parseHostPort(config.admin.listen);
  http::AdminRoutes admin_routes(health, app::metrics());
  http::ServerOptions admin_options;
  admin_options.host = listen->host;
  admin_options.port = listen->port;
  admin_options.name = "admin";
  auto admin = http::HttpServer::start(admin_options,
                                       [&admin_routes](const http::Request& r) { return admin_routes.handle(r); });
  if (!admin) {
    log::error("cannot start admin server", {{"error", admin.error().message}});
    return 1;
  }
  log::info("admin server listening", {{"port", static_cast<int>((*admin)->port())}});

  database.start();
  broker.start();

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

  (*admin)->stop(std::chrono::seconds(std::max(1, timeout_s / 2)));
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

}  // namespace vkhid::flows
