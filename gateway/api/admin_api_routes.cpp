#include "gateway/api/admin_api_routes.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <ctime>
#include <regex>

#include "gateway/api/console_routes.hpp"
#include "gateway/flows/alerts_inbox.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/flows/case_access.hpp"
#include "gateway/flows/case_actions.hpp"
#include "gateway/flows/case_endings.hpp"
#include "gateway/flows/console.hpp"
#include "gateway/flows/console_accounts.hpp"
#include "gateway/flows/participant_reports.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/flows/violence_journal.hpp"
#include "gateway/store/case_views.hpp"

namespace vkhid::api {
namespace {

namespace json = boost::json;

Response fromError(const Error& e) {
  if (e.code == "participant.unknown") return Response::problem(404, "Not found", e.message);
  if (e.code == "participant.transition") return Response::problem(409, "Not allowed now", e.message);
  if (e.code.starts_with("participant.") || e.code.starts_with("cli.") || e.kind == ErrorKind::InvalidInput) {
    return Response::problem(422, "Invalid", e.message);
  }
  if (e.kind == ErrorKind::NotFound) return Response::problem(404, "Not found", e.message);
  if (e.kind == ErrorKind::Conflict) return Response::problem(409, "Not allowed now", e.message);
  return Response::problem(503, "Unavailable", e.message);
}

std::string jsonString(const std::string& body, const char* key) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

long long jsonInt(const std::string& body, const char* key, long long fallback) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return fallback;
  auto* f = v.as_object().if_contains(key);
  return f && f->is_int64() ? f->as_int64() : fallback;
}

// The pooled connection acts for this client until the guard ends.
class ActingAs {
 public:
  ActingAs(store::PgConnection& db, const std::string& actor) : db_(db) { ok_ = flows::setActor(db_, actor).ok(); }
  ~ActingAs() { (void)flows::setActor(db_, ""); }
  bool ok() const { return ok_; }

 private:
  store::PgConnection& db_;
  bool ok_ = false;
};

}  // namespace

AdminApiRoutes::AdminApiRoutes(flows::ExchangeContext& context, flows::Intake& intake)
    : context_(context), intake_(intake) {
  report_settings_ = flows::applyReportSettings(context_.config.reports, report_defaults_);
}

std::variant<AdminApiRoutes::Caller, Response> AdminApiRoutes::authenticate(const Request& request) const {
  // A bearer token or a registered client certificate, of role admin or auditor — or, with neither, a
  // web console session (its cookie), whose changes must carry its CSRF token.
  Caller caller;
  std::string auth = request.header("authorization");
  std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
  std::string session_id = cookieValue(request, kSessionCookie);
  if (token.empty() && !session_id.empty()) {
    auto db = context_.pool.acquire();
    if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
    caller.session = flows::findConsoleSession(**db, session_id,
                                               std::chrono::minutes(context_.config.admin.console_session_minutes));
    if (!caller.session) return Response::problem(401, "Unauthorized", "the console session has ended; sign in again");
    caller.client = caller.session->client_id;
    caller.role = caller.session->role;
    caller.org_id = caller.session->org_id;
    if (request.method != "GET" && request.header("x-csrf-token") != caller.session->csrf) {
      return Response::problem(403, "Forbidden", "X-CSRF-Token: the session's token is required for a change");
    }
    return caller;
  }
  auto who = intake_.identify(token, request.client_cert_sha256);
  // The database cannot say now: 503, never 401 (a client told 401 stops and pages a person).
  if (!who) return Response::problem(503, "Unavailable", "the credentials cannot be checked now; try again");
  if (!*who) {
    auto r = Response::problem(401, "Unauthorized", "an admin or auditor bearer token or client certificate");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if ((*who)->role != "admin" && (*who)->role != "auditor" && (*who)->role != "participant") {
    return Response::problem(403, "Forbidden", "this client's role may not use the administration API");
  }
  caller.client = (*who)->id;
  caller.role = (*who)->role;
  caller.org_id = (*who)->org_id;
  return caller;
}

std::optional<Response> AdminApiRoutes::handle(const Request& request) const {
  const std::string prefix = "/api/v1/admin/";
  const std::string path = request.path();
  if (!path.starts_with(prefix)) return std::nullopt;
  auto who = authenticate(request);
  if (auto* refused = std::get_if<Response>(&who)) return *refused;
  const auto& caller = std::get<Caller>(who);
  // A participant body's client reads its own reports and nothing else (the resolution's п. 5).
  if (caller.role == "participant" &&
      ((path != prefix + "reports" && path != prefix + "reports/monthly") || request.method != "GET")) {
    return Response::problem(403, "Forbidden", "a participant's client may read its own reports only");
  }
  // A dry run and an evidence export change nothing: reading, for both roles.
  const bool reads = request.method == "GET" || path == prefix + "routes/dry-run" || path == prefix + "audit/exports";
  if (!reads && caller.role != "admin") {
    return Response::problem(403, "Forbidden", "the auditor role may read, not act");
  }

  auto db = context_.pool.acquire();
  if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
  ActingAs acting(**db, "admin:" + caller.client);
  if (!acting.ok()) return Response::problem(503, "Unavailable", "try again");
  const bool restricted =
      caller.session ? caller.session->restricted_access : flows::clientHasRestrictedAccess(**db, caller.client);

  std::string rest = path.substr(prefix.size());
  std::vector<std::string> parts;
  for (std::size_t at = 0; at <= rest.size();) {
    auto slash = rest.find('/', at);
    parts.push_back(rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  const Call c{request, std::move(parts), **db, caller.client, reads, restricted, caller.org_id, caller.role};
  const std::string& resource = c.parts[0];
  if (resource == "routes") return routes(c);
  if (resource == "reports" && c.parts.size() == 1) return reports(c);
  if (resource == "reports" && c.parts.size() == 2 && c.parts[1] == "monthly") return monthlyReport(c);
  if (resource == "cases") {
    if (auto r = cases(c)) return r;
  }
  if (resource == "deliveries" && c.parts.size() == 1 && request.method == "GET") {
    auto list = flows::listDeliveries(c.db, restricted);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (resource == "messages" && c.parts.size() == 3 && c.parts[2] == "replay") return messages(c);
  if (resource == "audit") return audit(c);
  if (resource == "journal" && c.parts.size() == 1) return journal(c);
  if (resource == "access") return access(c);
  if (resource == "accounts") return accounts(c);
  if (resource == "alerts") return alerts(c);
  if (resource == "participants") return participants(c);
  return Response::problem(404, "Not found", "no such endpoint");
}

bool AdminApiRoutes::hidden(const Call& c, const Result<bool>& restricted) const {
  // A restricted case does not exist for a client without restricted access.
  return !c.restricted && restricted && *restricted;
}

Response AdminApiRoutes::routes(const Call& c) const {
  const auto& request = c.request;
  if (c.parts.size() == 1 && c.reads) {
    auto list = flows::listRoutes(c.db);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (c.parts.size() == 2 && c.parts[1] == "dry-run" && request.method == "POST") {
    auto where = flows::routeDryRun(c.db, request.body);
    return where ? Response::json(200, *where) : fromError(where.error());
  }
  if (c.parts.size() == 1 && request.method == "POST") {
    std::string target = jsonString(request.body, "target");
    if (target.empty()) return Response::problem(422, "Invalid", "target (an org_id) is required");
    auto id = flows::addRoute(c.db, target, jsonString(request.body, "kind"), jsonString(request.body, "topic"),
                              jsonString(request.body, "addressee_org_id"), jsonInt(request.body, "priority", 100));
    if (!id) return Response::problem(422, "Invalid", id.error().message);
    return Response::json(201, json::serialize(json::object{{"id", *id}}));
  }
  return Response::problem(405, "Method not allowed", "GET or POST /routes, POST /routes/dry-run");
}

Response AdminApiRoutes::reports(const Call& c) const {
  const auto& request = c.request;
  if (request.method != "GET") return Response::problem(405, "Method not allowed", "GET");
  if (!report_settings_) return fromError(report_settings_.error());
  flows::ReportOptions o = report_defaults_;
  o.from = request.query("from");
  o.to = request.query("to");
  o.by = request.query("by");
  o.as_of = request.query("as_of");
  // A participant's client sees its own body's figures, whatever it asks; the UCC may ask for any one.
  o.participant = c.org_id.empty() ? request.query("participant") : c.org_id;
  std::string format = request.query("format").empty() ? "json" : request.query("format");
  if (auto s = flows::checkReportOptions(o); !s) return Response::problem(422, "Invalid", s.error().message);
  auto reader = context_.readPool().acquire();  // a replica's, when there is one
  if (!reader) return fromError(reader.error());
  auto built = flows::buildReport(**reader, o);
  if (!built) return fromError(built.error());
  auto text = flows::renderReport(*built, format);
  if (!text) return Response::problem(422, "Invalid", text.error().message);
  if (format == "json") return Response::json(200, *built);
  if (format == "csv") return Response::text(200, *text, "text/csv; charset=utf-8");
  if (format == "html") return Response::text(200, *text, "text/html; charset=utf-8");
  return Response::text(200, *text);
}

Response AdminApiRoutes::monthlyReport(const Call& c) const {
  const auto& request = c.request;
  if (request.method != "GET") return Response::problem(405, "Method not allowed", "GET");
  // A participant's client reads its own body's; the UCC names the body.
  const std::string org = c.org_id.empty() ? request.query("participant") : c.org_id;
  const std::string month = request.query("month");
  static const std::regex month_re("[0-9]{4}-(0[1-9]|1[0-2])");
  if (!std::regex_match(month, month_re)) return Response::problem(422, "Invalid", "month: expected YYYY-MM");
  if (org.empty()) return Response::problem(422, "Invalid", "participant: the body's EDRPOU code is required");
  auto page = flows::monthlyReport(c.db, org, month);
  if (!page) return fromError(page.error());
  if (!*page) return Response::problem(404, "Not found", "no report of that body for " + month);
  return Response::text(200, **page, "text/html; charset=utf-8");
}

Response AdminApiRoutes::journal(const Call& c) const {
  const auto& request = c.request;
  if (request.method != "GET") return Response::problem(405, "Method not allowed", "GET");
  // Violence reports: only a client granted restricted cases reads their journal, and says why.
  if (!c.restricted) {
    return Response::problem(403, "Forbidden", "the journal of violence reports is read only with restricted access");
  }
  const std::string format = request.query("format").empty() ? "html" : request.query("format");
  auto text = flows::readJournal(c.db, {.from = request.query("from"),
                                        .to = request.query("to"),
                                        .format = format,
                                        .actor = "admin:" + c.client,
                                        .reason = request.query("reason")});
  if (!text) return fromError(text.error());
  Response r = format == "json"  ? Response::json(200, *text)
               : format == "csv" ? Response::text(200, *text, "text/csv; charset=utf-8")
                                 : Response::text(200, *text, "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// The alerts inbox: GET /alerts[?open=1] for admins and auditors; POST /alerts/{id}/ack {comment} for
// admins.
Response AdminApiRoutes::alerts(const Call& c) const {
  const auto& request = c.request;
  if (c.parts.size() == 1 && request.method == "GET") {
    const std::string open = request.query("open");
    auto list = flows::listAlerts(c.db, open == "1" || open == "true", c.restricted, 200);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (c.parts.size() == 3 && c.parts[2] == "ack" && request.method == "POST") {
    auto done = flows::acknowledgeAlert(c.db, c.parts[1], "admin:" + c.client, jsonString(request.body, "comment"));
    if (!done) return fromError(done.error());
    return Response::json(200, json::serialize(json::object{{"id", c.parts[1]}, {"acknowledged", true}}));
  }
  return Response::problem(405, "Method not allowed", "GET /alerts, POST /alerts/{id}/ack");
}

std::optional<Response> AdminApiRoutes::cases(const Call& c) const {
  const auto& request = c.request;
  if (c.parts.size() == 1 && request.method == "GET") {
    flows::CaseQuery q;
    q.text = request.query("q");
    q.status = request.query("status");
    q.overdue_only = request.query("overdue") == "1" || request.query("overdue") == "true";
    q.review_only = request.query("review") == "1" || request.query("review") == "true";
    if (!request.query("limit").empty()) q.limit = std::atoi(request.query("limit").c_str());
    auto list = flows::listCases(c.db, q, c.restricted);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (c.parts.size() == 2 && request.method == "GET") {
    // Every case page read is recorded (who, when, why); a restricted case's only with a reason.
    auto restricted = store::caseIsRestricted(c.db, c.parts[1]);
    if (!restricted) return fromError(restricted.error());
    const flows::CaseRead read{c.role + ":" + c.client, c.parts[1], "view", *restricted, request.query("reason")};
    if (auto s = flows::checkReadReason(read); !s && (!*restricted || c.restricted)) {
      if (s.error().code == "access.reason_required") {
        return Response::problem(428, "Reason required", s.error().message);
      }
      return Response::problem(422, "Invalid", s.error().message);
    }
    auto shown = flows::showCase(c.db, c.parts[1], c.restricted);
    if (!shown) return fromError(shown.error());
    // Not recorded, not shown.
    if (auto s = flows::recordCaseRead(c.db, read); !s) return Response::problem(503, "Unavailable", "try again");
    return Response::json(200, *shown);
  }
  if (c.parts.size() == 3 && c.parts[2] == "access" && request.method == "GET") {
    if (hidden(c, store::caseIsRestricted(c.db, c.parts[1]))) {
      return Response::problem(404, "Not found", "no case " + c.parts[1]);
    }
    auto history = flows::caseAccessHistory(c.db, c.parts[1]);
    return history ? Response::json(200, *history) : fromError(history.error());
  }
  if (c.parts.size() == 3) return caseAction(c);
  return std::nullopt;
}

// GET /accounts: the console's personal accounts; POST /accounts/{login}/unlock (admin).
Response AdminApiRoutes::accounts(const Call& c) const {
  if (c.parts.size() == 1 && c.request.method == "GET") {
    auto list = flows::listAccounts(c.db);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (c.parts.size() == 3 && c.parts[2] == "unlock" && c.request.method == "POST") {
    if (auto s = flows::unlockAccount(c.db, c.parts[1]); !s) return fromError(s.error());
    return Response::json(200, json::serialize(json::object{{"login", c.parts[1]}, {"locked", false}}));
  }
  return Response::problem(404, "Not found", "GET /accounts, POST /accounts/{login}/unlock");
}

// GET /access/unusual?days=1&min_cases=10: who read many restricted cases on a day.
Response AdminApiRoutes::access(const Call& c) const {
  if (c.parts.size() != 2 || c.parts[1] != "unusual" || c.request.method != "GET") {
    return Response::problem(404, "Not found", "GET /access/unusual");
  }
  auto number = [&](const char* name, int fallback) {
    const std::string v = c.request.query(name);
    return v.empty() ? fallback : std::atoi(v.c_str());
  };
  auto list = flows::unusualAccess(c.db, number("days", 1), number("min_cases", 10));
  return list ? Response::json(200, *list) : fromError(list.error());
}

Response AdminApiRoutes::caseAction(const Call& c) const {
  const auto& request = c.request;
  const std::string& id = c.parts[1];
  if (request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
  if (hidden(c, store::caseIsRestricted(c.db, id))) {
    return Response::problem(404, "Not found", "no case " + id);
  }
  const std::string& act = c.parts[2];
  const std::string actor = "admin:" + c.client;
  Status done;
  flows::CaseActions acts(c.db, context_.broker(), actor);
  if (act == "resend") {
    done = acts.resend(id, jsonString(request.body, "reason"), jsonString(request.body, "topic"));
  } else if (act == "reroute") {
    done = acts.reroute(id, jsonString(request.body, "to"), jsonString(request.body, "reason"));
  } else if (act == "return") {
    done = flows::CaseEndings(context_).returnByUcc(
        c.db, id, actor, {jsonString(request.body, "article"), jsonString(request.body, "reason")});
    if (!done) return fromError(done.error());
    return Response::json(200, json::serialize(json::object{{"case_id", id}, {"status", "returned"}}));
  } else if (act == "not-considered") {
    done = flows::CaseEndings(context_).notConsidered(
        c.db, id, actor, {jsonString(request.body, "article"), jsonString(request.body, "reason")});
    if (!done) return fromError(done.error());
    return Response::json(200, json::serialize(json::object{{"case_id", id}, {"status", "not_considered"}}));
  } else if (act == "review") {
    done = acts.review(id, jsonString(request.body, "note"));
    if (!done) return fromError(done.error());
    return Response::json(200, json::serialize(json::object{{"case_id", id}, {"review", true}}));
  } else {
    return Response::problem(404, "Not found",
                             "no such action: " + act + " (resend, reroute, review, return, not-considered)");
  }
  if (!done) return fromError(done.error());
  return Response::json(202, json::serialize(json::object{{"case_id", id}, {"status", "registered"}}));
}

Response AdminApiRoutes::messages(const Call& c) const {
  const std::string& id = c.parts[1];
  if (c.request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
  if (hidden(c, store::packageCaseIsRestricted(c.db, id))) {
    return Response::problem(404, "Not found", "no dead outbound message " + id);
  }
  if (auto done = flows::CaseActions(c.db, context_.broker(), "admin:" + c.client).replay(id); !done) {
    return fromError(done.error());
  }
  return Response::json(202, json::serialize(json::object{{"msg_id", id}, {"status", "queued"}}));
}

Response AdminApiRoutes::audit(const Call& c) const {
  if (c.parts.size() == 1 && c.request.method == "GET") {
    int limit = c.request.query("limit").empty() ? 50 : std::atoi(c.request.query("limit").c_str());
    auto list = flows::listAudit(c.db, limit, c.restricted);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (c.parts.size() == 2 && c.parts[1] == "exports" && c.request.method == "POST") {
    // A bundle holds every package byte for byte, restricted cases' too.
    if (!c.restricted) {
      return Response::problem(403, "Forbidden",
                               "an evidence bundle holds restricted cases' packages: restricted access is needed");
    }
    return exportEvidence(c.request, c.client);
  }
  return Response::problem(404, "Not found", "GET /audit, POST /audit/exports");
}

Response AdminApiRoutes::participants(const Call& c) const {
  const auto& request = c.request;
  if (c.parts.size() == 1) {
    if (c.reads) {
      auto list = flows::listParticipants(c.db);
      return list ? Response::json(200, *list) : fromError(list.error());
    }
    if (request.method != "POST") return Response::problem(405, "Method not allowed", "GET or POST");
    auto status = flows::saveParticipant(c.db, request.body, "request body", {});
    if (!status) return fromError(status.error());
    return Response::json(201, json::serialize(json::object{{"status", *status}}));
  }
  if (c.parts.size() == 2) {
    if (!c.reads) return Response::problem(405, "Method not allowed", "GET");
    auto shown = flows::showParticipant(c.db, c.parts[1]);
    return shown ? Response::json(200, *shown) : fromError(shown.error());
  }
  if (c.parts.size() != 3) return Response::problem(404, "Not found", "no such endpoint");
  if (request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
  return participantAction(c);
}

Response AdminApiRoutes::participantAction(const Call& c) const {
  const auto& request = c.request;
  const std::string& id = c.parts[1];
  const std::string& act = c.parts[2];
  Status done;
  if (act == "activate") {
    done = flows::activateParticipant(c.db, id, request.target.find("force=1") != std::string::npos);
  } else if (act == "suspend") {
    done = flows::suspendParticipant(c.db, id, jsonString(request.body, "reason"));
  } else if (act == "retire") {
    done = flows::retireParticipant(c.db, id, jsonString(request.body, "reason"));
  } else if (act == "rotate-cert") {
    auto purpose = jsonString(request.body, "purpose");
    auto fingerprint =
        flows::rotateCertificate(c.db, id, jsonString(request.body, "cert_pem"), purpose.empty() ? "seal" : purpose,
                                 static_cast<int>(jsonInt(request.body, "overlap_days", 30)));
    if (!fingerprint) return fromError(fingerprint.error());
    return Response::json(200, json::serialize(json::object{{"sha256", *fingerprint}}));
  } else if (act == "check") {
    auto report = flows::checkParticipant(context_, id, std::chrono::seconds(jsonInt(request.body, "timeout_s", 30)));
    if (!report) return fromError(report.error());
    return Response::json(200, report->json());
  } else {
    return Response::problem(404, "Not found", "no such action: " + act);
  }
  if (!done) return fromError(done.error());
  auto shown = flows::showParticipant(c.db, id);
  return shown ? Response::json(200, *shown) : fromError(shown.error());
}

Response AdminApiRoutes::exportEvidence(const Request& request, const std::string& client) const {
  flows::ExportOptions o;
  o.from = jsonString(request.body, "from");
  o.to = jsonString(request.body, "to");
  o.participant = jsonString(request.body, "participant");
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::string who;
  for (char c : client) who += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
  std::string name = std::string(stamp) + "-" + who;
  o.out_dir = context_.config.audit.export_dir + "/" + name;
  // Its own connection: an export reads the whole log, longer than the pool's statement timeout.
  auto db = store::PgConnection::connect(
      {context_.readUrl(), context_.config.database.connect_timeout_s, 300000, "vkhid-console-export"});
  if (!db) return fromError(db.error());
  if (auto s = flows::setActor(*db, "admin:" + client); !s) return fromError(s.error());
  // The reads it makes are recorded on the primary (the export may read a replica).
  auto primary = context_.pool.acquire();
  if (!primary) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
  o.recorder = &**primary;
  if (const std::string reason = jsonString(request.body, "reason"); !reason.empty()) o.reason = reason;
  auto summary = flows::exportBundle(*db, context_.config, o);
  if (!summary) return fromError(summary.error());
  auto report = flows::verifyBundle(o.out_dir, context_.config.gateway.org_id);
  return Response::json(
      201, json::serialize(json::object{
               {"name", name},
               {"dir", o.out_dir},
               {"summary", *summary},
               {"verify", json::object{{"ok", report.ok}, {"summary", report.summary}, {"failure", report.failure}}}}));
}

}  // namespace vkhid::api
