// Background probes that watch PostgreSQL and RabbitMQ and keep the HealthRegistry (and so /readyz)
// truthful. The database probe also applies migrations at start when configured and keeps this
// process's heartbeat row; the broker probe declares the topology on every (re)connect.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "gateway/app/config.hpp"
#include "gateway/app/health.hpp"
#include "gateway/bus/amqp.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::service {

// A thread that calls `tick` every interval until stopped; stop() wakes it at once.
class PeriodicThread {
 public:
  PeriodicThread() = default;
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;
  ~PeriodicThread() { stop(); }

  // `tick` returns how long to wait before the next call.
  void start(std::function<std::chrono::milliseconds()> tick);
  void stop();
  bool stopping() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

class DatabaseProbe {
 public:
  DatabaseProbe(const app::Config& config, app::HealthRegistry& health);
  ~DatabaseProbe() { stop(); }
  void start();
  void stop();  // also records that this instance stopped

 private:
  std::chrono::milliseconds tick();
  void markStopped();

  const app::Config& config_;
  app::HealthRegistry& health_;
  std::optional<store::PgConnection> db_;
  bool migrated_ = false;
  bool registered_ = false;
  PeriodicThread thread_;
};

class BrokerProbe {
 public:
  BrokerProbe(const app::Config& config, app::HealthRegistry& health);
  ~BrokerProbe() { stop(); }
  void start();
  void stop();

 private:
  std::chrono::milliseconds tick();

  const app::Config& config_;
  app::HealthRegistry& health_;
  std::optional<bus::AmqpConnection> connection_;
  std::chrono::milliseconds backoff_{0};
  PeriodicThread thread_;
};

}  // namespace vkhid::service
