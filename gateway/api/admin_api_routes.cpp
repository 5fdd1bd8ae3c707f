#include "gateway/api/admin_api_routes.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <ctime>

#include "gateway/api/console_routes.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/flows/case_actions.hpp"
#include "gateway/flows/console.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/flows/routing.hpp"

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

std::optional<Response> AdminApiRoutes::handle(const Request& request) const {
  const std::string prefix = "/api/v1/admin/";
  const std::string path = request.path();
  if (!path.starts_with(prefix)) return std::nullopt;

  // Who: a bearer token or a registered client certificate, of role admin or auditor — or, with
  // neither, a web console session (its cookie), whose changes must carry its CSRF token.
  std::string auth = request.header("authorization");
  std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
  std::optional<std::string> client;
  std::string role = "admin";
  std::optional<flows::ConsoleSession> session;
  std::string session_id = cookieValue(request, kSessionCookie);
  if (token.empty() && !session_id.empty()) {
    auto db = context_.pool.acquire();
    if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
    session = flows::findConsoleSession(**db, session_id,
                                        std::chrono::minutes(context_.config.admin.console_session_minutes));
    if (!session) return Response::problem(401, "Unauthorized", "the console session has ended; sign in again");
    client = session->client_id;
    role = session->role;
    if (request.method != "GET" && request.header("x-csrf-token") != session->csrf) {
      return Response::problem(403, "Forbidden", "X-CSRF-Token: the session's token is required for a change");
    }
  }
  if (!client) {
    auto who = intake_.identify(token, request.client_cert_sha256);
    // The database cannot say now: 503, never 401 (a client told 401 stops and pages a person).
    if (!who) return Response::problem(503, "Unavailable", "the credentials cannot be checked now; try again");
    if (!*who) {
      auto r = Response::problem(401, "Unauthorized", "an admin or auditor bearer token or client certificate");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    if ((*who)->role != "admin" && (*who)->role != "auditor") {
      return Response::problem(403, "Forbidden", "this client's role may not use the administration API");
    }
    client = (*who)->id;
    role = (*who)->role;
  }
  // A dry run and an evidence export change nothing: reading, for both roles.
  const bool reads = request.method == "GET" || path == prefix + "routes/dry-run" || path == prefix + "audit/exports";
  if (!reads && role != "admin") {
    return Response::problem(403, "Forbidden", "the auditor role may read, not act");
  }

  auto db = context_.pool.acquire();
  if (!db) return Response::problem(503, "Unavailable", "the database is not reachable; try again");
  ActingAs acting(**db, "admin:" + *client);
  if (!acting.ok()) return Response::problem(503, "Unavailable", "try again");
  const bool restricted = session ? session->restricted_access : flows::clientHasRestrictedAccess(**db, *client);

  std::string rest = path.substr(prefix.size());
  std::vector<std::string> parts;
  for (std::size_t at = 0; at <= rest.size();) {
    auto slash = rest.find('/', at);
    parts.push_back(rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  if (!parts.empty() && parts[0] == "routes") {
    if (parts.size() == 1 && reads) {
      auto list = flows::listRoutes(**db);
      return list ? Response::json(200, *list) : fromError(list.error());
    }
    if (parts.size() == 2 && parts[1] == "dry-run" && request.method == "POST") {
      auto where = flows::routeDryRun(**db, request.body);
      return where ? Response::json(200, *where) : fromError(where.error());
    }
    if (parts.size() == 1 && request.method == "POST") {
      std::string target = jsonString(request.body, "target");
      if (target.empty()) return Response::problem(422, "Invalid", "target (an org_id) is required");
      auto id = flows::addRoute(**db, target, jsonString(request.body, "kind"), jsonString(request.body, "topic"),
                                jsonString(request.body, "addressee_org_id"), jsonInt(request.body, "priority", 100));
      if (!id) return Response::problem(422, "Invalid", id.error().message);
      return Response::json(201, json::serialize(json::object{{"id", *id}}));
    }
    return Response::problem(405, "Method not allowed", "GET or POST /routes, POST /routes/dry-run");
  }
  if (parts.size() == 1 && parts[0] == "reports") {
    if (request.method != "GET") return Response::problem(405, "Method not allowed", "GET");
    if (!report_settings_) return fromError(report_settings_.error());
    flows::ReportOptions o = report_defaults_;
    o.from = request.query("from");
    o.to = request.query("to");
    o.by = request.query("by");
    o.as_of = request.query("as_of");
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
  // A restricted case does not exist for a client without restricted access.
  auto hidden = [&](const std::string& sql, const std::string& id) {
    if (restricted) return false;
    auto r = (*db)->exec(sql, {id});
    return r && r->rows() > 0 && r->get(0, 0) == "t";
  };
  const std::string case_restricted = "SELECT restricted FROM cases WHERE id = vkhid_uuid($1)";
  if (!parts.empty() && parts[0] == "cases") {
    if (parts.size() == 1 && request.method == "GET") {
      flows::CaseQuery q;
      q.text = request.query("q");
      q.status = request.query("status");
      q.overdue_only = request.query("overdue") == "1" || request.query("overdue") == "true";
      q.review_only = request.query("review") == "1" || request.query("review") == "true";
      if (!request.query("limit").empty()) q.limit = std::atoi(request.query("limit").c_str());
      auto list = flows::listCases(**db, q, restricted);
      return list ? Response::json(200, *list) : fromError(list.error());
    }
    if (parts.size() == 2 && request.method == "GET") {
      auto shown = flows::showCase(**db, parts[1], restricted);
      return shown ? Response::json(200, *shown) : fromError(shown.error());
    }
  }
  if (parts.size() == 1 && parts[0] == "deliveries" && request.method == "GET") {
    auto list = flows::listDeliveries(**db, restricted);
    return list ? Response::json(200, *list) : fromError(list.error());
  }
  if (parts.size() == 3 && parts[0] == "messages" && parts[2] == "replay") {
    if (request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
    if (hidden("SELECT c.restricted FROM message m JOIN cases c ON c.id = m.case_id WHERE m.msg_id = vkhid_uuid($1)",
               parts[1])) {
      return Response::problem(404, "Not found", "no dead outbound message " + parts[1]);
    }
    if (auto done = flows::replayMessage(context_, parts[1], "admin:" + *client); !done) return fromError(done.error());
    return Response::json(202, json::serialize(json::object{{"msg_id", parts[1]}, {"status", "queued"}}));
  }
  if (!parts.empty() && parts[0] == "audit") {
    if (parts.size() == 1 && request.method == "GET") {
      int limit = request.query("limit").empty() ? 50 : std::atoi(request.query("limit").c_str());
      auto list = flows::listAudit(**db, limit, restricted);
      return list ? Response::json(200, *list) : fromError(list.error());
    }
    if (parts.size() == 2 && parts[1] == "exports" && request.method == "POST") {
      // A bundle holds every package byte for byte, restricted cases' too.
      if (!restricted) {
        return Response::problem(403, "Forbidden",
                                 "an evidence bundle holds restricted cases' packages: restricted access is needed");
      }
      return exportEvidence(request, *client);
    }
    return Response::problem(404, "Not found", "GET /audit, POST /audit/exports");
  }
  if (parts.size() == 3 && parts[0] == "cases") {
    if (request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
    if (hidden(case_restricted, parts[1])) return Response::problem(404, "Not found", "no case " + parts[1]);
    const std::string& act = parts[2];
    const std::string actor = "admin:" + *client;
    Status done;
    if (act == "resend") {
      done = flows::resendCase(**db, parts[1], actor, jsonString(request.body, "reason"),
                               jsonString(request.body, "topic"));
    } else if (act == "reroute") {
      done =
          flows::rerouteCase(**db, parts[1], actor, jsonString(request.body, "to"), jsonString(request.body, "reason"));
    } else if (act == "review") {
      done = flows::markForReview(**db, parts[1], actor, jsonString(request.body, "note"));
      if (!done) return fromError(done.error());
      return Response::json(200, json::serialize(json::object{{"case_id", parts[1]}, {"review", true}}));
    } else {
      return Response::problem(404, "Not found", "no such action: " + act + " (resend, reroute, review)");
    }
    if (!done) return fromError(done.error());
    return Response::json(202, json::serialize(json::object{{"case_id", parts[1]}, {"status", "registered"}}));
  }
  if (parts.empty() || parts[0] != "participants") return Response::problem(404, "Not found", "no such endpoint");

  if (parts.size() == 1) {
    if (reads) {
      auto list = flows::listParticipants(**db);
      return list ? Response::json(200, *list) : fromError(list.error());
    }
    if (request.method != "POST") return Response::problem(405, "Method not allowed", "GET or POST");
    auto status = flows::saveParticipant(**db, request.body, "request body", {});
    if (!status) return fromError(status.error());
    return Response::json(201, json::serialize(json::object{{"status", *status}}));
  }
  const std::string& id = parts[1];
  if (parts.size() == 2) {
    if (!reads) return Response::problem(405, "Method not allowed", "GET");
    auto shown = flows::showParticipant(**db, id);
    return shown ? Response::json(200, *shown) : fromError(shown.error());
  }
  if (parts.size() != 3) return Response::problem(404, "Not found", "no such endpoint");
  if (request.method != "POST") return Response::problem(405, "Method not allowed", "POST");
  const std::string& act = parts[2];
  Status done;
  if (act == "activate") {
    done = flows::activateParticipant(**db, id, request.target.find("force=1") != std::string::npos);
  } else if (act == "suspend") {
    done = flows::suspendParticipant(**db, id, jsonString(request.body, "reason"));
  } else if (act == "retire") {
    done = flows::retireParticipant(**db, id, jsonString(request.body, "reason"));
  } else if (act == "rotate-cert") {
    auto purpose = jsonString(request.body, "purpose");
    auto fingerprint =
        flows::rotateCertificate(**db, id, jsonString(request.body, "cert_pem"), purpose.empty() ? "seal" : purpose,
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
  auto shown = flows::showParticipant(**db, id);
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
