#include "gateway/notify/notifier.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <tuple>

#include "gateway/app/digest.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/exchange_store.hpp"

namespace vkhid::notify {
namespace {

namespace json = boost::json;

constexpr int kSendBatch = 20;
// A notice claimed by a sender that died is sent by another after this (longer than any send's timeout).
constexpr int kClaimSeconds = 120;

void count(const std::string& channel, const char* outcome) {
  app::metrics()
      .counter("vkhid_notices_total", "Notices by channel and outcome (sent, retried, failed)",
               {{"channel", channel}, {"outcome", outcome}})
      .inc();
}

// Delays checked when the configuration was loaded.
std::vector<long long> delaysOr(const std::string& text, std::vector<long long> fallback) {
  auto d = app::parseDelays(text);
  return d && !d->empty() ? std::move(d).value() : fallback;
}

}  // namespace

Result<std::unique_ptr<Notifier>> Notifier::create(const app::Config& config, store::PgPool& pool) {
  auto templates = Templates::load(config.notify.templates_dir);
  if (!templates) return templates.error();
  auto rota = Rota::load(config.notify.rota_file);
  if (!rota) return rota.error();
  // The secrets, read once: a file named but unreadable stops the start, naming its key.
  std::string secrets[2];
  for (auto [key, path, out] : {std::tuple{"notify.smtp_password_file", &config.notify.smtp_password_file, &secrets[0]},
                                std::tuple{"notify.sms_token_file", &config.notify.sms_token_file, &secrets[1]}}) {
    if (path->empty()) continue;
    auto secret = crypto::readSecret(*path);
    if (!secret) return Error::invalid("config.invalid", std::string(key) + ": cannot read " + *path);
    *out = std::move(secret).value();
  }
  return std::unique_ptr<Notifier>(new Notifier(config, pool, std::move(templates).value(), std::move(rota).value(),
                                                std::move(secrets[0]), std::move(secrets[1])));
}

Notifier::Notifier(const app::Config& config, store::PgPool& pool, Templates templates, Rota rota,
                   std::string smtp_password, std::string sms_token)
    : config_(config),
      pool_(pool),
      templates_(std::move(templates)),
      rota_(std::move(rota)),
      planner_(config.notify, rota_),
      mailer_(config.notify, std::move(smtp_password)),
      sms_(config.notify, std::move(sms_token)),
      retry_delays_(delaysOr(config.notify.retry_delays, {10000})),
      process_id_(config.gateway.instance + ":" + std::to_string(::getpid())) {}

void Notifier::start() {
  if (started_) return;
  started_ = true;
  stopping_ = false;
  auto delays = delaysOr(config_.delivery.retry_delays, {});
  auto setup = [delays](bus::AmqpConnection& c) -> Status { return bus::declare(c, bus::gatewayTopology(delays)); };
  for (const char* queue : {bus::names::kNotificationsQueue, bus::names::kAlertsQueue}) {
    consumers_.push_back(std::make_unique<flows::QueueConsumer>(
        std::string("notify:") + queue, flows::brokerSettings(config_), setup,
        [queue] { return std::vector<std::string>{queue}; }, [this](const bus::Delivery& d) { return handle(d); }, 16));
  }
  for (auto& c : consumers_) c->start();
  sender_ = std::thread([this] { senderLoop(); });
  log::info(
      "notifier started",
      {{"email", mailer_.configured()}, {"sms", sms_.configured()}, {"duty_officers", static_cast<int>(rota_.size())}});
}

void Notifier::stop() {
  if (!started_) return;
  stopping_ = true;
  for (auto& c : consumers_) c->stop();
  consumers_.clear();
  if (sender_.joinable()) sender_.join();
  started_ = false;
}

flows::Disposition Notifier::handle(const bus::Delivery& d) {
  // The event's id: the outbox row's message id (never empty for what the gateway publishes).
  const std::string event_id = d.message_id.empty() ? app::sha256Hex(d.routing_key + d.body) : d.message_id;
  auto db = pool_.acquire();
  if (!db) return flows::Disposition::Requeue;
  int planned = 0;
  Status s = store::inTransaction(**db, [&]() -> Status {
    auto n = planner_.plan(**db, event_id, d.routing_key, d.body);
    if (!n) return n.error();
    planned = *n;
    return {};
  });
  if (!s) {
    log::warn("notifier: event not planned, offered again", {{"kind", d.routing_key}, {"error", s.error().code}});
    return flows::Disposition::Requeue;
  }
  if (planned > 0) log::info("notices planned", {{"kind", d.routing_key}, {"count", planned}});
  return flows::Disposition::Ack;
}

Status Notifier::deliver(const std::string& id, const std::string& channel, const std::string& address,
                         const std::string& template_name, const std::string& data_json) {
  boost::system::error_code ec;
  auto data = json::parse(data_json, ec);
  if (ec || !data.is_object()) return Error::invalid("notify.template", "notice " + id + ": its data is unreadable");
  auto d = data.as_object();
  if (channel == "email") {
    auto mail = templates_.email(template_name, d);
    if (!mail) return mail.error();
    return mailer_.send({address, mail->subject, mail->body, id});
  }
  auto text = templates_.text(template_name, d);
  if (!text) return text.error();
  std::string digits = address;
  if (!digits.empty() && digits.front() == '+') digits.erase(0, 1);
  auto request = templates_.jsonBody("sms-request.json.mustache", json::object{{"phone", address},
                                                                               {"phone_digits", digits},
                                                                               {"sender", config_.notify.sms_sender},
                                                                               {"text", *text},
                                                                               {"notice_id", id}});
  if (!request) return request.error();
  return sms_.send(*request);
}

Result<int> Notifier::sendDue(int limit) {
  auto db = pool_.acquire();
  if (!db) return db.error();
  // Claimed in a statement of its own (committed at once): another process skips these for a while.
  auto claimed = (*db)->exec(
      "UPDATE notice SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3::int), attempts = "
      "attempts + 1 WHERE id IN (SELECT id FROM notice WHERE status = 'pending' AND not_before <= now() AND "
      "(claimed_until IS NULL OR claimed_until < now()) ORDER BY not_before LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "RETURNING id, event_kind, channel, recipient_masked, address, template, data::text AS data, attempts",
      {process_id_, std::to_string(limit), std::to_string(kClaimSeconds)});
  if (!claimed) return claimed.error();
  for (int i = 0; i < claimed->rows(); ++i) {
    const std::string id(claimed->get(i, "id"));
    const std::string channel(claimed->get(i, "channel"));
    const auto attempts = static_cast<std::size_t>(claimed->getInt(i, "attempts"));
    Status sent = deliver(id, channel, std::string(claimed->get(i, "address")),
                          std::string(claimed->get(i, "template")), std::string(claimed->get(i, "data")));
    if (sent) {
      // Delivered: the address and the data go; the masked record stays.
      auto u = (*db)->exec(
          "UPDATE notice SET status = 'sent', sent_at = now(), address = NULL, data = NULL, claimed_by = NULL, "
          "claimed_until = NULL, last_error = NULL WHERE id = $1",
          {id});
      if (!u) return u.error();
      count(channel, "sent");
      continue;
    }
    const Error& e = sent.error();
    const bool template_broken = e.code == "notify.template";
    const bool give_up = !template_broken && (e.code == "notify.refused" || attempts > retry_delays_.size());
    if (!give_up) {
      // A template fixed by a restart sends it; until then it waits as long as the last retry delay.
      const long long delay_ms = retry_delays_[std::min(attempts, retry_delays_.size()) - 1];
      auto u = (*db)->exec(
          "UPDATE notice SET not_before = now() + make_interval(secs => $2::double precision), claimed_by = NULL, "
          "claimed_until = NULL, last_error = $3 WHERE id = $1",
          {id, std::to_string(static_cast<double>(template_broken ? retry_delays_.back() : delay_ms) / 1000.0),
           e.message});
      if (!u) return u.error();
      count(channel, "retried");
      log::warn("notice not sent, will retry", {{"notice", id}, {"channel", channel}, {"error", e.code}});
      if (!template_broken) continue;
    }
    // Failed for good (or a template is broken): recorded, and the UCC is told (not about a notice that
    // is itself about a failed notice).
    const std::string kind(claimed->get(i, "event_kind"));
    Status failed = store::inTransaction(**db, [&]() -> Status {
      if (give_up) {
        auto u = (*db)->exec(
            "UPDATE notice SET status = 'failed', address = NULL, data = NULL, claimed_by = NULL, claimed_until = "
            "NULL, last_error = $2 WHERE id = $1",
            {id, e.message});
        if (!u) return u.error();
      }
      if (kind.starts_with("notify.")) return {};
      const std::string alert_kind = template_broken ? "notify.template_failed" : "notify.failed";
      return flows::enqueueOutbox(
          **db, bus::names::kAlerts, alert_kind, "notice:" + id + ":" + alert_kind,
          json::serialize(json::object{{"notice", id},
                                       {"failed_kind", kind},
                                       {"failed_channel", channel},
                                       {"failed_recipient", claimed->get(i, "recipient_masked")},
                                       {"failed_error", e.message}}));
    });
    if (!failed) return failed.error();
    if (give_up) {
      count(channel, "failed");
      log::error("notice failed for good", {{"notice", id}, {"channel", channel}, {"error", e.code}});
    }
  }
  return claimed->rows();
}

void Notifier::senderLoop() {
  using namespace std::chrono_literals;
  const auto interval = std::chrono::milliseconds(config_.notify.send_interval_ms);
  while (!stopping_) {
    auto sent = sendDue(kSendBatch);
    if (!sent) log::warn("notifier: sending round failed", {{"error", sent.error().code}});
    if (auto db = pool_.acquire()) {
      Status s = store::inTransaction(**db, [&]() -> Status {
        auto told = planner_.renotify(**db);
        return told ? Status() : Status(told.error());
      });
      if (!s) log::warn("notifier: re-notification round failed", {{"error", s.error().code}});
      if (auto age =
              (*db)->exec("SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::bigint FROM alert WHERE "
                          "acknowledged_at IS NULL")) {
        app::metrics()
            .gauge("vkhid_alert_oldest_unacknowledged_seconds", "Age of the oldest alert nobody acknowledged")
            .set(static_cast<double>(age->getInt(0, 0)));
      }
    }
    if (sent && *sent == kSendBatch) continue;  // more are due
    for (auto waited = 0ms; waited < interval && !stopping_; waited += 50ms) std::this_thread::sleep_for(50ms);
  }
}

}  // namespace vkhid::notify
