#include "gateway/flows/deadlines.hpp"

#include <boost/json.hpp>

#include "gateway/app/legal_config.hpp"
#include "gateway/app/logging.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/bus/topology.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/sev/errors.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

domain::Instant realNow() { return std::chrono::time_point_cast<seconds>(std::chrono::system_clock::now()); }

std::string epoch(domain::Instant t) { return std::to_string(t.time_since_epoch().count()); }

Status insertTimer(store::PgConnection& db, const std::string& case_id, const char* kind, domain::Instant at,
                   const std::string& msg_id = {}) {
  return db.later(
      "INSERT INTO timer (case_id, kind, msg_id, fire_at) VALUES ($1::uuid, $2, NULLIF($3, '')::uuid, "
      "to_timestamp($4::double precision))",
      {case_id, kind, msg_id, epoch(at)});
}

// A case whose answer is in: nothing about the answer can be late any more.
bool answerSettled(const std::string& status) {
  return status == "answered" || status == "closed" || status == "withdrawn" || status == "not_considered" ||
         status == "merged";
}

}  // namespace

Result<LegalClock> LegalClock::load(const app::DeadlineSettings& settings) {
  auto calendar = app::loadCalendar(settings.calendar_file);
  if (!calendar) return calendar.error();
  auto rules = app::loadDeadlineRules(settings.rules_file);
  if (!rules) return rules.error();
  return LegalClock(domain::Calendar(std::move(calendar).value()), std::move(rules).value(), settings.clock_offset_s,
                    settings.delivery_receipt_within_s);
}

std::string LegalClock::answerKind(domain::CaseKind kind, domain::Urgency urgency) {
  switch (kind) {
    case domain::CaseKind::Appeal: return "appeal";
    case domain::CaseKind::InfoRequest:
      return urgency == domain::Urgency::None ? "info_request" : "info_request_urgent";
    case domain::CaseKind::ViolenceReport:
      return urgency == domain::Urgency::ThreatToLife ? "violence_report_threat" : "violence_report";
  }
  return "appeal";
}

std::optional<domain::Due> LegalClock::due(const std::string& kind, domain::Instant from) const {
  const auto* rule = rules_.find(kind);
  if (rule == nullptr) return std::nullopt;
  return domain::computeDue(*rule, from, calendar_, rules_.policy);
}

domain::Instant LegalClock::now() const { return realNow() + seconds(offset_s_); }

LegalClock LegalClock::loadOrShipped(const app::DeadlineSettings& settings) {
  auto loaded = load(settings);
  if (loaded) return std::move(loaded).value();
  log::error("deadline configuration refused; using the shipped calendar and rules",
             {{"error", loaded.error().message}});
  app::DeadlineSettings shipped = settings;
  shipped.calendar_file.clear();
  shipped.rules_file.clear();
  return std::move(load(shipped)).value();
}

namespace {

Status applyAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                           const std::string& kind, const domain::Due* due, const domain::DeadlineRule* rule,
                           domain::Instant from, const std::string& actor, const std::string& reason) {
  auto u = db.later(
      "UPDATE cases SET due_kind = $2, due_at = to_timestamp($3::double precision), due_rule = $4, "
      "clock_from = to_timestamp($5::double precision), overdue = false, updated_at = now() WHERE id = $1::uuid",
      {case_id, kind, epoch(due->at), rule->citation, epoch(from)});
  if (!u) return u;
  if (reason != "registered") {  // a new case has no earlier plan (the predicate: cancelTransportTimers)
    auto cancel = db.later(
        "UPDATE timer SET cancelled_at = now() WHERE id IN (SELECT id FROM timer WHERE case_id = $1::uuid AND "
        "coalesce(fired_at, cancelled_at) IS NULL AND kind IN ('warning_3wd', 'warning_1d', 'overdue') FOR UPDATE "
        "SKIP LOCKED)",
        {case_id});
    if (!cancel) return cancel;
  }
  const domain::Instant now = realNow();
  const domain::Instant warn3 = domain::kyivStartOfDay(clock.calendar().nthWorkingDayBefore(due->date, 3));
  const domain::Instant warn1 = due->at - std::chrono::hours(24);
  const domain::Instant over = due->at + seconds(1);
  if (warn3 > now && warn3 < warn1) {
    if (auto s = insertTimer(db, case_id, "warning_3wd", warn3); !s) return s;
  }
  if (warn1 > now) {
    if (auto s = insertTimer(db, case_id, "warning_1d", warn1); !s) return s;
  }
  if (auto s = insertTimer(db, case_id, "overdue", over); !s) return s;
  json::object detail{{"kind", kind}, {"due", domain::formatKyiv(due->at)}, {"reason", reason}};
  std::string status = "registered";  // a new case's, in the transaction that registers it
  if (reason != "registered") {
    auto st = db.exec("SELECT status FROM cases WHERE id = $1::uuid", {case_id});
    if (!st) return st.error();
    status = std::string(st->get(0, 0));
  }
  return recordEvent(db, case_id, actor, reason == "extended" ? "extended" : "deadline_set", status, status,
                     json::serialize(detail));
}

}  // namespace

Status planAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                          const std::string& kind, domain::Instant from, const std::string& actor,
                          const std::string& reason) {
  auto due = clock.due(kind, from);
  if (!due) return Error::invalid("deadline.unknown_kind", "no deadline rule for '" + kind + "'");
  return applyAnswerDeadline(db, clock, case_id, kind, &*due, clock.rules().find(kind), from, actor, reason);
}

Status extendAnswerDeadline(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                            domain::Instant new_due, const std::string& actor) {
  auto c = db.exec(
      "SELECT kind, status, coalesce(extract(epoch FROM clock_from)::bigint, 0), tracking_code, "
      "coalesce(extract(epoch FROM due_at)::bigint, 0) FROM cases WHERE id = $1::uuid",
      {case_id});
  if (!c) return c.error();
  std::string kind(c->get(0, 0)), status(c->get(0, 1));
  domain::Instant from{seconds(std::stoll(std::string(c->get(0, 2))))};
  std::string cap_kind = kind == "appeal" ? "appeal_extended" : kind == "info_request" ? "info_request_extended" : "";
  if (cap_kind.empty() || answerSettled(status)) {
    return sev::sevError(sev::SevError::ExtensionNotAllowed, "a " + kind + " in status " + status + " is not extended");
  }
  if (kind == "info_request") {
    auto window = clock.due("info_request_extension_notice", from);
    if (window && realNow() > window->at) {
      return sev::sevError(sev::SevError::ExtensionNoticeLate,
                           "the notice window closed at " + domain::formatKyiv(window->at));
    }
  }
  // An extension extends: a date not after the term in force would shorten it (a participant that can
  // answer sooner simply answers).
  const domain::Instant current{seconds(std::stoll(std::string(c->get(0, 4))))};
  if (new_due <= current) {
    return sev::sevError(
        sev::SevError::ExtensionNotAllowed,
        "new_due " + domain::formatKyiv(new_due) + " is not after the term in force, " + domain::formatKyiv(current));
  }
  auto cap = clock.due(cap_kind, from);
  if (!cap) return Error::invalid("deadline.unknown_kind", "no deadline rule for '" + cap_kind + "'");
  if (new_due > cap->at) {
    return sev::sevError(sev::SevError::ExtensionBeyondCap,
                         "new_due " + domain::formatKyiv(new_due) + " is after the cap " + domain::formatKyiv(cap->at));
  }
  domain::Due due{new_due, domain::kyivDate(new_due)};
  if (auto s = applyAnswerDeadline(db, clock, case_id, cap_kind, &due, clock.rules().find(cap_kind), from, actor,
                                   "extended");
      !s) {
    return s;
  }
  auto u = db.exec("UPDATE cases SET extended_at = now() WHERE id = $1::uuid", {case_id});
  if (!u) return u.error();
  return enqueueOutbox(
      db, bus::names::kNotifications, "applicant.extended", case_id + ":extended:" + epoch(new_due),
      json::serialize(
          json::object{{"case_id", case_id}, {"tracking_code", c->get(0, 3)}, {"due", domain::formatKyiv(new_due)}}));
}

Status planTransportTimers(store::PgConnection& db, const LegalClock& clock, const std::string& case_id,
                           const std::string& msg_id) {
  const domain::Instant now = realNow();
  if (auto s = insertTimer(db, case_id, "delivery_receipt", now + seconds(clock.deliveryReceiptWithin()), msg_id); !s) {
    return s;
  }
  const domain::Date next = clock.calendar().nthWorkingDayAfter(domain::kyivDate(now), 1);
  return insertTimer(db, case_id, "registration", domain::kyivEndOfDay(next), msg_id);
}

// The cancellations run where the case's row is locked already (the receipt or answer that settles
// them), so a timer that a gateway is firing at that moment — its row locked, its transaction about to
// lock the case's row to record its event — is skipped, not waited for: waiting would deadlock with it.
// Its firing judges it as before (moot once the case is settled). A case's pending timers are named
// `coalesce(fired_at, cancelled_at) IS NULL` so that the planner finds them through the case's index
// (timer_by_case): spelt as the pending index's own predicate, it walked every pending timer of every
// case through timer_pending instead (0.48 ms a receipt in a 500-case bench, growing with them).
Status cancelTransportTimers(store::PgConnection& db, const std::string& case_id, const std::string& msg_id,
                             int ack_type) {
  // The kinds whose moot test (fireDueTimers) this receipt meets.
  const char* kinds = ack_type == 3 || ack_type == 4 ? "{delivery_receipt,registration}" : "{delivery_receipt}";
  return db.later(
      "UPDATE timer SET cancelled_at = now() WHERE id IN (SELECT id FROM timer WHERE case_id = $1::uuid AND msg_id = "
      "vkhid_uuid($2) AND kind = ANY ($3::text[]) AND coalesce(fired_at, cancelled_at) IS NULL FOR UPDATE SKIP "
      "LOCKED)",
      {case_id, msg_id, kinds});
}

Status cancelTimersOfSettledCase(store::PgConnection& db, const std::string& case_id) {
  return db.later(
      "UPDATE timer SET cancelled_at = now() WHERE id IN (SELECT id FROM timer WHERE case_id = $1::uuid AND "
      "coalesce(fired_at, cancelled_at) IS NULL FOR UPDATE SKIP LOCKED)",
      {case_id});
}

Result<int> fireDueTimers(store::PgConnection& db, const LegalClock& clock, int limit) {
  int handled = 0;
  for (; handled < limit; ++handled) {
    std::string kind, outcome;
    Status done = store::inTransaction(db, [&]() -> Status {
      auto t = db.exec(
          "SELECT t.id, t.case_id::text, t.kind, coalesce(t.msg_id::text, ''), c.status, "
          "coalesce(c.participant_org_id, ''), c.tracking_code, coalesce(to_char(c.due_at AT TIME ZONE 'UTC', "
          "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), coalesce(m.peer_org_id, '') "
          "FROM timer t JOIN cases c ON c.id = t.case_id LEFT JOIN message m ON m.msg_id = t.msg_id "
          "WHERE t.fired_at IS NULL AND t.cancelled_at IS NULL "
          "AND t.fire_at <= now() + make_interval(secs => $1::double precision) "
          "ORDER BY t.fire_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED",
          {std::to_string(clock.offsetSeconds())});
      if (!t) return t.error();
      if (t->rows() == 0) return {};
      std::string id(t->get(0, 0)), case_id(t->get(0, 1)), msg_id(t->get(0, 3)), status(t->get(0, 4));
      std::string participant(t->get(0, 5)), tracking(t->get(0, 6)), due_at(t->get(0, 7)), peer(t->get(0, 8));
      kind = std::string(t->get(0, 2));

      bool moot = false;
      if (kind == "delivery_receipt" || kind == "registration") {
        auto r = db.exec("SELECT count(*) FROM receipt WHERE msg_id = $1::uuid AND ack_type = ANY ($2::int[])",
                         {msg_id, kind == "delivery_receipt" ? "{1,2,3,4}" : "{3,4}"});
        if (!r) return r.error();
        // Receipts came, the case has left that participant, or its answer is in.
        moot = r->getInt(0, 0) > 0 || peer != participant || answerSettled(status);
      } else {
        moot = answerSettled(status);
      }
      outcome = moot ? "moot" : "fired";
      auto u = db.exec("UPDATE timer SET fired_at = now(), outcome = $2 WHERE id = $1", {id, outcome});
      if (!u) return u.error();
      if (moot) return {};

      json::object detail{{"timer", kind}};
      if (!due_at.empty()) detail["due_at"] = due_at;
      if (!msg_id.empty()) detail["msg_id"] = msg_id;
      if (auto s = recordEvent(db, case_id, "gateway", "timer_" + kind, status, status, json::serialize(detail)); !s) {
        return s;
      }
      // Who must act: the participant's contacts (when the case is with one) and the UCC coordinator.
      json::array notify;
      if (!participant.empty()) notify.push_back(json::string("participant:" + participant));
      notify.push_back("ucc:coordinator");
      json::object alert{{"case_id", case_id}, {"timer", kind}, {"status", status}, {"notify", std::move(notify)}};
      if (!participant.empty()) alert["participant_org_id"] = participant;
      if (!due_at.empty()) alert["due_at"] = due_at;
      if (auto s = enqueueOutbox(db, bus::names::kAlerts, "deadline." + kind, "timer:" + id, json::serialize(alert));
          !s) {
        return s;
      }
      if (kind == "overdue") {
        auto o = db.exec("UPDATE cases SET overdue = true, updated_at = now() WHERE id = $1::uuid", {case_id});
        if (!o) return o.error();
        return enqueueOutbox(db, bus::names::kNotifications, "applicant.overdue", case_id + ":overdue:" + id,
                             json::serialize(json::object{{"case_id", case_id}, {"tracking_code", tracking}}));
      }
      return {};
    });
    if (!done) return done.error();
    if (kind.empty()) break;  // nothing due
    app::metrics()
        .counter("vkhid_timers_total", "Deadline and transport timers handled", {{"kind", kind}, {"outcome", outcome}})
        .inc();
    if (outcome == "fired") log::info("timer fired", {{"timer", kind}});
  }
  return handled;
}

}  // namespace vkhid::flows
