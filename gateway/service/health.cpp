#include "gateway/service/health.hpp"

#include <unistd.h>

#include <algorithm>

#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::service {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{250};

app::Series& upGauge(const std::string& dependency) {
  return app::metrics().gauge("vkhid_dependency_up", "1 when the dependency is reachable, else 0",
                              {{"dependency", dependency}});
}

std::string version() {
#ifdef VKHID_VERSION
  return VKHID_VERSION;
#else
  return "dev";
#endif
}

}  // namespace

void PeriodicThread::start(std::function<std::chrono::milliseconds()> tick) {
  thread_ = std::thread([this, tick = std::move(tick)] {
    for (;;) {
      auto wait = tick();
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    }
  });
}

void PeriodicThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeriodicThread::stopping() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

// --- database ---

DatabaseProbe::DatabaseProbe(const app::Config& config, app::HealthRegistry& health)
    : config_(config), health_(health) {
  health_.expect("database");
  health_.expect("migrations");
}

void DatabaseProbe::start() {
  thread_.start([this] { return tick(); });
}

void DatabaseProbe::stop() {
  thread_.stop();
  markStopped();
}

std::chrono::milliseconds DatabaseProbe::tick() {
  const auto interval = std::chrono::milliseconds(config_.gateway.health_interval_ms);
  if (!db_ || !db_->healthy()) {
    store::PgSettings settings{config_.database.url, config_.database.connect_timeout_s,
                               config_.database.statement_timeout_ms, "vkhid-health"};
    auto c = store::PgConnection::connect(settings);
    if (!c) {
      if (health_.snapshot()["database"].ok) log::warn("database unreachable", {{"error", c.error().message}});
      health_.set("database", false, c.error().message);
      upGauge("database").set(0);
      db_.reset();
      return interval;
    }
    db_.emplace(std::move(c).value());
    log::info("database connected");
  }

  const auto& migrations = store::embeddedMigrations();
  if (config_.database.migrate_on_start && !migrated_) {
    auto r = store::migrate(*db_, migrations);
    if (!r) {
      log::error("migration failed", {{"code", r.error().code}, {"error", r.error().message}});
      health_.set("migrations", false, r.error().message);
    } else {
      migrated_ = true;
    }
  }

  auto applied = store::appliedVersion(*db_);
  if (!applied) {
    health_.set("database", false, applied.error().message);
    upGauge("database").set(0);
    if (!db_->healthy()) db_.reset();
    return interval;
  }
  health_.set("database", true);
  upGauge("database").set(1);
  int latest = store::latestVersion(migrations);
  bool current = *applied == latest;
  health_.set("migrations", current,
              "schema version " + std::to_string(*applied) + ", this binary needs " + std::to_string(latest) +
                  (*applied < latest ? " (run vkhid migrate)" : " (the database is newer than this binary)"));

  if (current) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    auto r = registered_
                 ? db_->exec("UPDATE gateway_instance SET heartbeat_at = now() WHERE instance = $1",
                             {config_.gateway.instance})
                 : db_->exec(
                       "INSERT INTO gateway_instance (instance, version, host, pid, started_at, heartbeat_at) "
                       "VALUES ($1, $2, $3, $4, now(), now()) ON CONFLICT (instance) DO UPDATE SET "
                       "version = excluded.version, host = excluded.host, pid = excluded.pid, "
                       "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
                       {config_.gateway.instance, version(), std::string(host), std::to_string(getpid())});
    if (r) registered_ = true;
  }
  return interval;
}

void DatabaseProbe::markStopped() {
  if (registered_ && db_ && db_->healthy()) {
    (void)db_->exec("UPDATE gateway_instance SET stopped_at = now() WHERE instance = $1", {config_.gateway.instance});
    registered_ = false;
  }
}

// --- broker ---

BrokerProbe::BrokerProbe(const app::Config& config, app::HealthRegistry& health) : config_(config), health_(health) {
  health_.expect("broker");
}

void BrokerProbe::start() {
  thread_.start([this] { return tick(); });
}

void BrokerProbe::stop() {
  thread_.stop();
  connection_.reset();
}

std::chrono::milliseconds BrokerProbe::tick() {
  const auto interval = std::chrono::milliseconds(config_.gateway.health_interval_ms);
  auto failed = [&](const Error& e) {
    if (health_.snapshot()["broker"].ok) log::warn("broker unreachable", {{"error", e.message}});
    health_.set("broker", false, e.message);
    upGauge("broker").set(0);
    connection_.reset();
    backoff_ = std::min<std::chrono::milliseconds>(backoff_.count() == 0 ? kFirstBackoff : backoff_ * 2,
                                                   std::chrono::seconds(config_.broker.reconnect_max_s));
    return backoff_;
  };

  if (!connection_ || !connection_->open()) {
    bus::AmqpSettings settings{config_.broker.url, config_.broker.connect_timeout_s, config_.broker.heartbeat_s,
                               std::chrono::milliseconds(5000), config_.broker.queue_type};
    auto c = bus::AmqpConnection::connect(settings);
    if (!c) return failed(c.error());
    if (auto s = bus::declare(*c, bus::gatewayTopology(*app::parseDelays(config_.delivery.retry_delays))); !s) {
      return failed(s.error());
    }
    connection_.emplace(std::move(c).value());
    log::info("broker connected, topology declared");
  }
  auto depth = connection_->queueDepth(bus::names::kRoutingQueue);
  if (!depth) return failed(depth.error());
  backoff_ = std::chrono::milliseconds(0);
  health_.set("broker", true);
  upGauge("broker").set(1);
  return interval;
}

}  // namespace vkhid::service
