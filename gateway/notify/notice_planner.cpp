// Who gets what (issue 27): an event on vkhid.notifications or vkhid.alerts turned into notice rows.
#include <boost/json.hpp>
#include <chrono>

#include "gateway/app/digest.hpp"
#include "gateway/domain/contact.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/notify/notifier.hpp"
#include "gateway/store/cases.hpp"

namespace vkhid::notify {
namespace {

namespace json = boost::json;

struct Recipient {
  std::string audience;  // applicant, participant, duty
  std::string channel;   // email, sms
  std::string address;   // normalised
  std::string name;      // contacts and duty officers only
};

struct CaseFacts {
  std::string id, ucc_number, tracking_code, kind, due_date, email, phone, consent;
  bool restricted = false;
};

std::string field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64() || v->is_uint64() || v->is_double() || v->is_bool()) return json::serialize(*v);
  return {};
}

Result<std::optional<CaseFacts>> caseFacts(store::PgConnection& db, const std::string& case_id) {
  if (!isUuid(case_id)) return std::optional<CaseFacts>{};
  auto r = db.exec(
      "SELECT ucc_number, tracking_code, kind, restricted, "
      "coalesce(to_char(due_at AT TIME ZONE 'Europe/Kyiv', 'DD.MM.YYYY'), '') AS due_date, body::text AS body, "
      "personal FROM cases WHERE id = $1::uuid",
      {case_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<CaseFacts>{};
  // The applicant's contacts and consent are in the sealed case (an erased one has neither).
  auto text = store::personalBody(db, case_id, r->optional(0, r->column("personal")), r->get(0, "body"));
  if (!text) return text.error();
  boost::system::error_code ec;
  const json::value parsed = json::parse(*text, ec);
  const json::object* body = !ec && parsed.is_object() ? &parsed.as_object() : nullptr;
  auto member = [](const json::object* o, std::string_view key) -> const json::object* {
    const json::value* v = o ? o->if_contains(key) : nullptr;
    return v && v->is_object() ? &v->as_object() : nullptr;
  };
  auto text_of = [](const json::object* o, std::string_view key, std::string fallback) {
    const json::value* v = o ? o->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : fallback;
  };
  const json::object* applicant = member(body, "applicant");
  CaseFacts f;
  f.id = case_id;
  f.ucc_number = std::string(r->get(0, "ucc_number"));
  f.tracking_code = std::string(r->get(0, "tracking_code"));
  f.kind = std::string(r->get(0, "kind"));
  f.restricted = r->getBool(0, "restricted");
  f.due_date = std::string(r->get(0, "due_date"));
  f.email = text_of(applicant, "email", "");
  f.phone = text_of(applicant, "phone", "");
  f.consent = text_of(member(body, "consent"), "notify", "none");
  return std::optional<CaseFacts>{std::move(f)};
}

std::string masked(const Recipient& r) {
  return r.channel == "sms" ? domain::maskPhone(r.address) : domain::maskEmail(r.address);
}

struct NoticeRow {
  std::string event_id, kind, case_id, alert_id, template_name;
  json::object data;
  long long delay_s = 0;
};

// One notice; false when the same event already has it for this recipient and channel.
Result<bool> insertNotice(store::PgConnection& db, const NoticeRow& n, const Recipient& to) {
  json::object data = n.data;
  if (!to.name.empty()) data["recipient_name"] = to.name;
  auto r = db.exec(
      "INSERT INTO notice (event_id, event_kind, case_id, alert_id, audience, channel, recipient_key, "
      "recipient_masked, recipient_name, address, template, data, not_before) VALUES ($1, $2, "
      "NULLIF($3, '')::uuid, NULLIF($4, '')::bigint, $5, $6, $7, $8, NULLIF($9, ''), $10, $11, $12::jsonb, "
      "now() + make_interval(secs => $13::bigint)) ON CONFLICT DO NOTHING",
      {n.event_id, n.kind, n.case_id, n.alert_id, to.audience, to.channel,
       app::sha256Hex(to.audience + ":" + to.address), masked(to), to.name, to.address, n.template_name,
       json::serialize(data), std::to_string(n.delay_s)});
  if (!r) return r.error();
  return r->affected() == 1;
}

// Seconds until applicants' quiet hours end, Kyiv time (0 outside them).
long long quietDelay(const std::string& quiet_hours) {
  auto hours = parseHours(quiet_hours);
  if (!hours) return 0;
  const auto at = kyivMoment(std::chrono::system_clock::now());
  if (!withinHours(at.minute, hours->first, hours->second)) return 0;
  return static_cast<long long>((hours->second - at.minute + 1440) % 1440) * 60;
}

// How urgent an alert is: 1 the most.
int severityOf(const std::string& kind) {
  if (kind == "deadline.overdue" || kind == "audit.unsealed") return 1;
  if (kind.starts_with("deadline.") || kind == "delivery.failed" || kind == "participant.check_failed" ||
      kind.starts_with("notify.")) {
    return 2;
  }
  return 3;
}

const char* severityText(int s) { return s == 1 ? "URGENT" : s == 2 ? "high" : ""; }

// The template's flags for the kind of alert (one section each in participant/duty.email.mustache).
void alertFlags(json::object& d, const std::string& kind) {
  const bool overdue = kind == "deadline.overdue";
  const bool deadline = kind.starts_with("deadline.") && !overdue;
  const bool delivery = kind == "delivery.failed";
  const bool check = kind == "participant.check_failed";
  const bool cert = kind == "certificate.expiring";
  const bool status = kind.starts_with("participant.") && !check;
  const bool audit = kind.starts_with("audit.");
  const bool notify = kind.starts_with("notify.");
  d["is_overdue"] = overdue;
  d["is_deadline"] = deadline;
  d["is_delivery_failed"] = delivery;
  d["is_check_failed"] = check;
  d["is_certificate"] = cert;
  d["is_participant_status"] = status;
  d["is_audit"] = audit;
  d["is_notify_failed"] = notify;
  d["is_other"] = !(overdue || deadline || delivery || check || cert || status || audit || notify);
}

// A contact of a participant (from its file): e-mail only, for staff.
std::optional<Recipient> contactRecipient(const json::value& c) {
  if (!c.is_object()) return std::nullopt;
  const auto email = field(c.as_object(), "email");
  if (!domain::validEmail(email)) return std::nullopt;
  return Recipient{"participant", "email", email, field(c.as_object(), "name")};
}

// The contacts of `org_id` for an alert of `kind`: for terms and deliveries those whose role names
// escalations (all of them when none does); for the rest, all.
Result<std::vector<Recipient>> participantContacts(store::PgConnection& db, const std::string& org_id,
                                                   const std::string& kind) {
  auto r = db.exec("SELECT contacts::text FROM participant WHERE org_id = $1", {org_id});
  if (!r) return r.error();
  std::vector<Recipient> all, escalation;
  if (r->rows() == 0) return all;
  boost::system::error_code ec;
  auto contacts = json::parse(std::string(r->get(0, 0)), ec);
  if (ec || !contacts.is_array()) return all;
  for (const auto& c : contacts.as_array()) {
    auto to = contactRecipient(c);
    if (!to) continue;
    const std::string role = c.is_object() ? field(c.as_object(), "role") : "";
    if (role.find("escalation") != std::string::npos || role.find("duty") != std::string::npos) {
      escalation.push_back(*to);
    }
    all.push_back(*to);
  }
  const bool escalating = kind.starts_with("deadline.") || kind == "delivery.failed";
  return escalating && !escalation.empty() ? escalation : all;
}

// What the staff templates are rendered with: the alert's own fields, and the case's number and term.
json::object alertData(const app::NotifySettings& settings, const std::string& kind, const json::object& detail,
                       const std::string& org, int severity, const std::optional<CaseFacts>& facts) {
  json::object d;
  for (const auto& [k, v] : detail) {
    if (auto f = field(detail, std::string(k).c_str()); !f.empty()) d[k] = f;
  }
  d["kind"] = kind;
  d["org_id"] = org;
  d["restricted"] = facts && facts->restricted;
  d["severity_text"] = severityText(severity);
  d["console_link"] = settings.console_url;
  if (facts) {
    d["ucc_number"] = facts->ucc_number;
    if (!facts->due_date.empty()) d["due_date"] = facts->due_date;
  }
  alertFlags(d, kind);
  return d;
}

}  // namespace

Result<int> NoticePlanner::plan(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                                const std::string& body) const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return 0;  // nothing anyone could be told
  if (kind.starts_with("applicant.")) return planApplicant(db, event_id, kind, v.as_object());
  if (kind == "participant.report") return planReport(db, event_id, v.as_object());
  return planAlert(db, event_id, kind, v.as_object());
}

Result<int> NoticePlanner::planApplicant(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                                         const json::object& event) const {
  auto facts = caseFacts(db, field(event, "case_id"));
  if (!facts) return facts.error();
  if (!*facts) return 0;
  const CaseFacts& c = **facts;
  // What the applicant consented to, and nothing else.
  std::optional<Recipient> to;
  if (c.consent == "email" && domain::validEmail(c.email)) {
    to = Recipient{"applicant", "email", c.email, ""};
  } else if (c.consent == "sms") {
    if (auto phone = domain::normalisePhone(c.phone)) to = Recipient{"applicant", "sms", *phone, ""};
  }
  if (!to) return 0;
  const std::string what = kind.substr(std::string("applicant.").size());
  NoticeRow n{event_id, kind, c.id, "", "applicant." + to->channel + ".mustache", {}, 0};
  n.data = {{"ucc_number", c.ucc_number},
            {"tracking_code", c.tracking_code},
            {"tracking_link", settings_.tracking_url + c.tracking_code}};
  bool known = false;
  for (const char* k :
       {"registered", "forwarded", "extended", "answered", "overdue", "returned", "withdrawn", "not_considered"}) {
    if (what == k) known = true;
    n.data[k] = what == k;
  }
  n.data["other"] = !known;
  const bool ended = what == "answered" || what == "returned" || what == "withdrawn" || what == "not_considered";
  if (!ended && !c.due_date.empty()) n.data["due_date"] = c.due_date;
  for (const char* k : {"article", "merged_into"}) {
    if (auto f = field(event, k); !f.empty()) n.data[k] = f;
  }
  // Applicants' SMS wait out the quiet hours, except about violence and trafficking reports.
  if (to->channel == "sms" && !c.restricted) n.delay_s = quietDelay(settings_.quiet_hours);
  auto inserted = insertNotice(db, n, *to);
  if (!inserted) return inserted.error();
  return *inserted ? 1 : 0;
}

Result<int> NoticePlanner::planReport(store::PgConnection& db, const std::string& event_id,
                                      const json::object& event) const {
  NoticeRow n{event_id, "participant.report", "", "", "report.email.mustache", {}, 0};
  n.data = {{"org_id", field(event, "org_id")},
            {"month", field(event, "month")},
            {"sha256", field(event, "sha256")},
            {"console_link", settings_.console_url}};
  int planned = 0;
  if (const auto* list = event.if_contains("recipients"); list && list->is_array()) {
    for (const auto& r : list->as_array()) {
      if (!r.is_string() || !domain::validEmail(r.as_string())) continue;
      auto inserted = insertNotice(db, n, Recipient{"participant", "email", std::string(r.as_string()), ""});
      if (!inserted) return inserted.error();
      planned += *inserted ? 1 : 0;
    }
  }
  return planned;
}

Result<int> NoticePlanner::planAlert(store::PgConnection& db, const std::string& event_id, const std::string& kind,
                                     const json::object& event) const {
  auto facts = caseFacts(db, field(event, "case_id"));
  if (!facts) return facts.error();
  const bool restricted = *facts && (*facts)->restricted;
  const int severity = severityOf(kind);
  std::string org = field(event, "participant_org_id");
  if (org.empty()) org = field(event, "org_id");
  if (org.empty()) org = field(event, "participant");
  json::object detail = event;
  detail.erase("notify");  // staff contacts: they are in the notices
  auto row = db.exec(
      "INSERT INTO alert (event_id, kind, severity, case_id, org_id, restricted, detail) VALUES ($1, $2, $3, "
      "NULLIF($4, '')::uuid, NULLIF($5, ''), $6, $7::jsonb) ON CONFLICT (event_id) DO NOTHING RETURNING id",
      {event_id, kind, std::to_string(severity), *facts ? (*facts)->id : "", org, restricted ? "true" : "false",
       json::serialize(detail)});
  if (!row) return row.error();
  if (row->rows() == 0) return 0;  // planned before
  const std::string alert_id(row->get(0, 0));

  NoticeRow n{event_id, kind, *facts ? (*facts)->id : "", alert_id, "", {}, 0};
  n.data = alertData(settings_, kind, detail, org, severity, *facts);

  // Who: the event's own list (the UCC's coordinator, a participant's contacts), or the UCC's duty.
  std::vector<Recipient> staff;
  bool duty = false;
  if (const auto* list = event.if_contains("notify"); list && list->is_array()) {
    for (const auto& item : list->as_array()) {
      if (item.is_string() && item.as_string() == "ucc:coordinator") {
        duty = true;
      } else if (item.is_string() && item.as_string().starts_with("participant:")) {
        auto contacts = participantContacts(db, std::string(item.as_string()).substr(12), kind);
        if (!contacts) return contacts.error();
        staff.insert(staff.end(), contacts->begin(), contacts->end());
      } else if (auto to = contactRecipient(item)) {
        staff.push_back(*to);
      }
    }
  } else {
    duty = true;
  }
  int planned = 0;
  n.template_name = "participant.email.mustache";
  for (const auto& to : staff) {
    auto inserted = insertNotice(db, n, to);
    if (!inserted) return inserted.error();
    planned += *inserted ? 1 : 0;
  }
  if (duty) {
    if (auto officer = rota_.forStep(kyivMoment(std::chrono::system_clock::now()), restricted, 0)) {
      n.template_name = "duty.email.mustache";
      auto inserted = insertNotice(db, n, Recipient{"duty", "email", officer->email, officer->name});
      if (!inserted) return inserted.error();
      planned += *inserted ? 1 : 0;
      // An urgent one nobody acknowledges goes on to the next on duty.
      if (severity <= 2) {
        if (auto s = db.exec("UPDATE alert SET renotify_at = now() + make_interval(mins => $2::int) WHERE id = $1",
                             {alert_id, std::to_string(settings_.renotify_after_minutes)});
            !s) {
          return s.error();
        }
      }
    }
  }
  return planned;
}

Result<int> NoticePlanner::renotify(store::PgConnection& db) const {
  auto due = db.exec(
      "SELECT id, event_id, kind, severity, coalesce(case_id::text, '') AS case_id, coalesce(org_id, '') AS org_id, "
      "rota_step, restricted, detail::text AS detail FROM alert WHERE acknowledged_at IS NULL AND renotify_at <= now() "
      "ORDER BY renotify_at LIMIT 20 FOR UPDATE SKIP LOCKED");
  if (!due) return due.error();
  int told = 0;
  const auto now = kyivMoment(std::chrono::system_clock::now());
  for (int i = 0; i < due->rows(); ++i) {
    const std::string id(due->get(i, "id"));
    const std::string kind(due->get(i, "kind"));
    const int step = static_cast<int>(due->getInt(i, "rota_step")) + 1;
    auto officer = rota_.forStep(now, due->getBool(i, "restricted"), step);
    if (officer) {
      auto facts = caseFacts(db, std::string(due->get(i, "case_id")));
      if (!facts) return facts.error();
      boost::system::error_code ec;
      auto detail = json::parse(std::string(due->get(i, "detail")), ec);
      NoticeRow n{std::string(due->get(i, "event_id")) + ":step:" + std::to_string(step),
                  kind,
                  *facts ? (*facts)->id : "",
                  id,
                  "duty.email.mustache",
                  {},
                  0};
      n.data = alertData(settings_, kind, !ec && detail.is_object() ? detail.as_object() : json::object{},
                         std::string(due->get(i, "org_id")), static_cast<int>(due->getInt(i, "severity")), *facts);
      n.data["renotify"] = true;
      auto inserted = insertNotice(db, n, Recipient{"duty", "email", officer->email, officer->name});
      if (!inserted) return inserted.error();
      told += *inserted ? 1 : 0;
    }
    auto s = db.exec(
        "UPDATE alert SET rota_step = $2, renotify_at = CASE WHEN $3::boolean THEN now() + "
        "make_interval(mins => $4::int) END WHERE id = $1",
        {id, std::to_string(step), officer ? "true" : "false", std::to_string(settings_.renotify_after_minutes)});
    if (!s) return s.error();
  }
  return told;
}

}  // namespace vkhid::notify
