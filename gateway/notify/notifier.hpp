// The notifier (issue 27, docs/notifications.md): the consumer of vkhid.notifications and vkhid.alerts
// that tells people. Each event becomes notice rows — one a recipient and channel — in one transaction
// keyed by the event's id, so an event consumed twice, or by two processes, is planned once; alerts also
// enter the UCC's inbox (table alert). A sender sends the due notices (e-mail, SMS), each claimed for a
// while so that no two processes send the same one, and retries with backoff, then fails it with an
// alert. An escalation nobody acknowledges goes on to the next duty officer on the rota.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/app/config.hpp"
#include "gateway/flows/queue_consumer.hpp"
#include "gateway/notify/channels.hpp"
#include "gateway/notify/rota.hpp"
#include "gateway/notify/templates.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::notify {

// Who gets what: the planning of one event, apart from the threads (notice_planner.cpp).
class NoticePlanner {
 public:
  NoticePlanner(const app::NotifySettings& settings, const Rota& rota) : settings_(settings), rota_(rota) {}
  // Inside the caller's transaction: the notices (and, for an alert, its inbox row) of one event.
  // Returns how many notices were planned now (0 when the event was planned before).
  Result<int> plan(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                   const std::string& body) const;
  // Inside the caller's transaction: escalations nobody acknowledged in time, each told to the next
  // duty officer on the rota. Returns how many were.
  Result<int> renotify(store::PgConnection& db) const;

 private:
  Result<int> planApplicant(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                            const boost::json::object& event) const;
  Result<int> planReport(store::PgConnection& db, const std::string& event_id, const boost::json::object& event) const;
  Result<int> planAlert(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                        const boost::json::object& event) const;
  app::NotifySettings settings_;
  const Rota& rota_;
};

class Notifier {
 public:
  // Loads the templates and the rota: a template that does not parse or a malformed rota stops here.
  static Result<std::unique_ptr<Notifier>> create(const app::Config& config, store::PgPool& pool);
  ~Notifier() { stop(); }

  void start();
  void stop();

  // The steps, public so tests and the CLI can drive them one at a time.
  flows::Disposition handle(const bus::Delivery& d);
  // Sends up to `limit` due notices; returns how many were tried.
  Result<int> sendDue(int limit);

 private:
  Notifier(const app::Config& config, store::PgPool& pool, Templates templates, Rota rota, std::string smtp_password,
           std::string sms_token);
  void senderLoop();
  // Renders and sends one claimed notice: ok, or the error (transient or not) to record.
  Status deliver(const std::string& id, const std::string& channel, const std::string& address,
                 const std::string& template_name, const std::string& data_json);

  const app::Config& config_;
  store::PgPool& pool_;
  Templates templates_;
  Rota rota_;
  NoticePlanner planner_;
  Mailer mailer_;
  SmsGateway sms_;
  std::vector<long long> retry_delays_;
  std::string process_id_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<flows::QueueConsumer>> consumers_;
  std::thread sender_;
  bool started_ = false;
};

}  // namespace vkhid::notify
