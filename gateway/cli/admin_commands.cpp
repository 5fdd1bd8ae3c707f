#include "gateway/cli/admin_commands.hpp"

#include <toml++/toml.h>
#include <boost/json.hpp>
#include <cstdio>

#include "gateway/app/config.hpp"
#include "gateway/cli/case_show.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/crypto/pkcs11_signer.hpp"
#include "gateway/flows/case_actions.hpp"
#include "gateway/flows/conformance.hpp"
#include "gateway/flows/exchange.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/flows/retention.hpp"
#include "gateway/flows/routing.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::cli {
namespace {

struct Options {
  std::string file;
  std::string target, kind, topic, addressee;
  int priority = 100;
  std::string client_id, role = "channel", cert;
  std::string org_id, reason, purpose = "seal";
  bool skip_check = false, force = false, json = false, restricted_access = false;
  int overlap_days = 30, timeout_s = 30, answer_timeout_s = 120, valid_days = 365, overlap_hours = 24;
  bool deep = false;
  std::string msg_id, case_id;
  std::string ground;  // case erase: the legal ground of a data subject's request
  bool dry_run = false;
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid: %s\n", what.c_str());
  return 2;
}

// The configuration a command runs with: the file given (or none) and the environment.
Result<app::Config> cliConfig(const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  return app::loadConfig(path, app::processEnvironment());
}

Result<store::PgConnection> database(const std::string& config_path) {
  auto config = cliConfig(config_path);
  if (!config) return config.error();
  auto db =
      store::PgConnection::connect({config->database.url, config->database.connect_timeout_s, 30000, "vkhid-cli"});
  if (!db) return db.error();
  if (auto m = store::migrate(*db, store::embeddedMigrations()); !m) return m.error();
  // Personal data at rest: a command that seals or opens it fails, naming the key, when this could not
  // load the master key; the others do not need it.
  (void)store::loadAtRest(*config, *db);
  // Who acts, for the evidence log: every change this command makes is recorded with it.
  if (auto s = flows::setActor(*db, cliActor()); !s) return s.error();
  return db;
}

// A participant from TOML (docs/onboarding.md).
int participantAdd(const Options& o, const std::string& config_path) {
  auto text = crypto::readFile(o.file);
  if (!text) return complain(text.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto status = flows::saveParticipant(*db, *text, o.file, {o.skip_check});
  if (!status) return complain(status.error().message);
  std::printf("participant saved: %s\n", status->c_str());
  return 0;
}

int participantList(const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto list = flows::listParticipants(*db);
  if (!list) return complain(list.error().message);
  auto v = boost::json::parse(*list);
  std::printf("%-10s %-14s %-8s %-6s %s\n", "org_id", "status", "adapters", "ready", "name");
  for (const auto& p : v.as_array()) {
    const auto& o = p.as_object();
    std::printf("%-10s %-14s %-8s %-6s %s\n", std::string(o.at("org_id").as_string()).c_str(),
                std::string(o.at("status").as_string()).c_str(), std::string(o.at("adapters").as_string()).c_str(),
                o.at("ready_for_activation").as_bool() ? "yes" : "no", std::string(o.at("name").as_string()).c_str());
  }
  return 0;
}

int participantShow(const Options& o, const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto shown = flows::showParticipant(*db, o.org_id);
  if (!shown) return complain(shown.error().message);
  std::printf("%s\n", shown->c_str());
  return 0;
}

int participantAct(const Options& o, const std::string& config_path, const std::string& act) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  Status s = act == "activate"  ? flows::activateParticipant(*db, o.org_id, o.force)
             : act == "suspend" ? flows::suspendParticipant(*db, o.org_id, o.reason)
                                : flows::retireParticipant(*db, o.org_id, o.reason);
  if (!s) return complain(s.error().message);
  std::printf("participant %s: %s\n", o.org_id.c_str(),
              act == "activate"  ? "active"
              : act == "suspend" ? "suspended"
                                 : "retired");
  return 0;
}

int participantRotate(const Options& o, const std::string& config_path) {
  auto pem = crypto::readFile(o.cert);
  if (!pem) return complain(pem.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto fingerprint = flows::rotateCertificate(*db, o.org_id, *pem, o.purpose, o.overlap_days);
  if (!fingerprint) return complain(fingerprint.error().message);
  std::printf("participant %s: %s certificate %s registered; the previous one is accepted for %d more day(s)\n",
              o.org_id.c_str(), o.purpose.c_str(), fingerprint->c_str(), o.overlap_days);
  return 0;
}

// `vkhid participant check [--deep]` and `vkhid conformance`: the participant's endpoint driven from here
// (a running gateway takes in what it sends back). Exit 0 passed, 1 failed.
int participantCheck(const Options& o, const std::string& config_path, bool check, bool conformance) {
  auto config = cliConfig(config_path);
  if (!config) return complain(config.error().message);
  auto signer = crypto::openSealSigner(config->gateway.seal_key, config->gateway.seal_cert,
                                       config->gateway.pkcs11_module, config->gateway.seal_pin_file);
  if (!signer) return complain(signer.error().message);
  {
    auto db = database(config_path);  // migrations
    if (!db) return complain(db.error().message);
  }
  store::PgPool pool({config->database.url, config->database.connect_timeout_s, 30000, "vkhid-cli"}, 2);
  flows::ExchangeContext context(*config, pool, **signer);
  bool passed = true;
  auto show = [&](const char* what, const Result<flows::CheckReport>& report) {
    if (!report) return complain(report.error().message);
    if (o.json) {
      std::printf("%s\n", report->json().c_str());
    } else {
      std::printf("%s of %s\n%s", what, o.org_id.c_str(), report->text().c_str());
    }
    passed = passed && report->passed;
    return 0;
  };
  int rc = 0;
  if (check)
    rc = show("connectivity check", flows::checkParticipant(context, o.org_id, std::chrono::seconds(o.timeout_s)));
  if (rc == 0 && conformance && passed) {
    flows::ConformanceOptions options;
    options.receipt_timeout = std::chrono::seconds(o.timeout_s);
    options.answer_timeout = std::chrono::seconds(o.answer_timeout_s);
    rc = show("conformance run", flows::runConformance(context, o.org_id, options));
  }
  context.stopAdapters();
  if (rc != 0) return rc;
  return passed ? 0 : 1;
}

int routeAdd(const Options& o, const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto id = flows::addRoute(*db, o.target, o.kind, o.topic, o.addressee, o.priority);
  if (!id) return complain(id.error().message);
  std::printf("route %lld saved\n", *id);
  return 0;
}

int routeList(const std::string& config_path) {
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto list = flows::listRoutes(*db);
  if (!list) return complain(list.error().message);
  std::printf("%-5s %-8s %-16s %-8s %-10s %-10s %s\n", "id", "priority", "kind", "topic", "addressee", "target",
              "source");
  boost::json::value rules = boost::json::parse(*list);
  for (const auto& v : rules.as_array()) {
    const auto& r = v.as_object();
    auto str = [&](const char* k) {
      std::string s(r.at(k).as_string());
      return s.empty() ? std::string("*") : s;
    };
    std::printf("%-5lld %-8lld %-16s %-8s %-10s %-10s %s\n", static_cast<long long>(r.at("id").as_int64()),
                static_cast<long long>(r.at("priority").as_int64()), str("kind").c_str(), str("topic").c_str(),
                str("addressee_org_id").c_str(), str("target").c_str(), str("source").c_str());
  }
  return 0;
}

int routeDryRun(const Options& o, const std::string& config_path) {
  auto text = crypto::readFile(o.file);
  if (!text) return complain(text.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  auto where = flows::routeDryRun(*db, *text);
  if (!where) return complain(where.error().message);
  std::printf("%s\n", where->c_str());
  return 0;
}

int messageReplay(const Options& o, const std::string& config_path) {
  auto config = cliConfig(config_path);
  if (!config) return complain(config.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  if (auto s = flows::CaseActions(*db, flows::brokerSettings(*config), "admin:cli").replay(o.msg_id); !s) {
    std::fprintf(stderr, "vkhid message replay: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("message %s queued for delivery again\n", o.msg_id.c_str());
  return 0;
}

// `vkhid case resend|reroute|review`: a person's hand on one case.
int caseAct(const Options& o, const std::string& config_path, const std::string& act) {
  auto config = cliConfig(config_path);
  if (!config) return complain(config.error().message);
  auto db = database(config_path);
  if (!db) return complain(db.error().message);
  flows::CaseActions acts(*db, flows::brokerSettings(*config), "admin:cli");
  Status s = act == "resend"    ? acts.resend(o.case_id, o.reason, o.topic)
             : act == "reroute" ? acts.reroute(o.case_id, o.target, o.reason)
                                : acts.review(o.case_id, o.reason);
  if (!s) {
    std::fprintf(stderr, "vkhid case %s: %s\n", act.c_str(), s.error().message.c_str());
    return s.error().kind == ErrorKind::InvalidInput ? 2 : 1;
  }
  if (act == "review") {
    std::printf("case %s is marked for review\n", o.case_id.c_str());
  } else {
    std::printf("case %s goes to routing again: a new signed package follows\n", o.case_id.c_str());
  }
  return 0;
}

// `vkhid report`: the experiment's criteria for a period (docs/reports.md).
int report(const flows::ReportOptions& requested, const std::string& format, const std::string& out,
           const std::string& config_path) {
  auto config = cliConfig(config_path);
  if (!config) return complain(config.error().message);
  flows::ReportOptions o = requested;
  int window = o.repeat_window_days;
  if (auto s = flows::applyReportSettings(config->reports, o); !s) return complain(s.error().message);
  if (window != 0) o.repeat_window_days = window;
  if (auto s = flows::checkReportOptions(o); !s) return complain(s.error().message);
  if (format != "table" && format != "csv" && format != "json" && format != "html") {
    return complain("--format: expected table, csv, json or html, not '" + format + "'");
  }
  // Read-only: from the replica when database.read_url names one.
  auto db = config->database.read_url.empty()
                ? database(config_path)
                : store::PgConnection::connect(
                      {config->database.read_url, config->database.connect_timeout_s, 30000, "vkhid-cli-report"});
  if (!db) return complain(db.error().message);
  auto built = flows::buildReport(*db, o);
  if (!built) return complain(built.error().message);
  auto text = flows::renderReport(*built, format);
  if (!text) return complain(text.error().message);
  if (out.empty()) {
    std::fwrite(text->data(), 1, text->size(), stdout);
    return 0;
  }
  if (auto s = crypto::writeFile(out, *text); !s) return complain(s.error().message);
  std::printf("report written to %s\n", out.c_str());
  return 0;
}

}  // namespace

Result<store::PgConnection> adminDatabase(const std::string& config_path) { return database(config_path); }

std::string cliActor() {
  const char* user = std::getenv("SUDO_USER") ? std::getenv("SUDO_USER") : std::getenv("USER");
  return std::string("admin:cli:") + (user ? user : "unknown");
}

namespace {

using OptionsPtr = std::shared_ptr<Options>;

// participant add|list|show|check|activate|suspend|retire|rotate-cert, and conformance.
void addParticipantCommands(CLI::App& app, const OptionsPtr& o, int& exit_code, std::string& config_path) {
  auto* participant = app.add_subcommand("participant", "Participants of the exchange");
  participant->require_subcommand(1);
  auto* add = participant->add_subcommand("add", "Add or update a participant from a TOML file");
  add->add_option("FILE", o->file, "participant TOML (see docs/onboarding.md)")->required();
  add->add_option("--config", config_path, "gateway configuration");
  add->add_flag("--skip-check", o->skip_check, "development and tests only: active at once, without a check");
  add->callback([o, &exit_code, &config_path] { exit_code = participantAdd(*o, config_path); });
  auto* list = participant->add_subcommand("list", "All participants, their status and adapters");
  list->add_option("--config", config_path, "gateway configuration");
  list->callback([&exit_code, &config_path] { exit_code = participantList(config_path); });
  auto* show = participant->add_subcommand("show", "One participant (JSON): endpoints, certificates, last check");
  show->add_option("ID", o->org_id, "org_id")->required();
  show->add_option("--config", config_path, "gateway configuration");
  show->callback([o, &exit_code, &config_path] { exit_code = participantShow(*o, config_path); });
  auto* check = participant->add_subcommand("check", "Send a signed test package and wait for the signed receipt");
  check->add_option("ID", o->org_id, "org_id")->required();
  check->add_option("--timeout", o->timeout_s, "seconds to wait for the receipt")->default_val(30);
  check->add_flag("--json", o->json, "the report as JSON");
  check->add_flag("--deep", o->deep, "then, when it passes, the conformance run (vkhid conformance)");
  check->add_option("--answer-timeout", o->answer_timeout_s, "--deep: seconds to wait for the answer")
      ->default_val(120);
  check->add_option("--config", config_path, "gateway configuration");
  check->callback([o, &exit_code, &config_path] { exit_code = participantCheck(*o, config_path, true, o->deep); });

  auto* conformance = app.add_subcommand(
      "conformance", "Drive a participant's EDMS through the exchange profile, each step pass or fail (for vendors)");
  conformance->add_option("--participant", o->org_id, "the participant's org_id")->required();
  conformance->add_option("--timeout", o->timeout_s, "seconds to wait for each receipt")->default_val(30);
  conformance->add_option("--answer-timeout", o->answer_timeout_s, "seconds to wait for the answer")->default_val(120);
  conformance->add_flag("--json", o->json, "the report as JSON");
  conformance->add_option("--config", config_path, "gateway configuration");
  conformance->callback([o, &exit_code, &config_path] { exit_code = participantCheck(*o, config_path, false, true); });
  auto* activate = participant->add_subcommand("activate", "pending_check or suspended -> active (after a check)");
  activate->add_option("ID", o->org_id, "org_id")->required();
  activate->add_flag("--force", o->force, "without a passed check (recorded)");
  activate->add_option("--config", config_path, "gateway configuration");
  activate->callback([o, &exit_code, &config_path] { exit_code = participantAct(*o, config_path, "activate"); });
  auto* suspend =
      participant->add_subcommand("suspend", "active -> suspended: its deliveries wait; the UCC is alerted");
  suspend->add_option("ID", o->org_id, "org_id")->required();
  suspend->add_option("--reason", o->reason, "why (recorded, sent to the UCC and the participant)")->required();
  suspend->add_option("--config", config_path, "gateway configuration");
  suspend->callback([o, &exit_code, &config_path] { exit_code = participantAct(*o, config_path, "suspend"); });
  auto* retire = participant->add_subcommand("retire", "-> retired, for good");
  retire->add_option("ID", o->org_id, "org_id")->required();
  retire->add_option("--reason", o->reason, "why");
  retire->add_option("--config", config_path, "gateway configuration");
  retire->callback([o, &exit_code, &config_path] { exit_code = participantAct(*o, config_path, "retire"); });
  auto* rotate = participant->add_subcommand("rotate-cert", "Register a new certificate; the old one overlaps");
  rotate->add_option("ID", o->org_id, "org_id")->required();
  rotate->add_option("--cert", o->cert, "the new certificate (PEM)")->required();
  rotate->add_option("--purpose", o->purpose, "seal or tls")->default_val("seal");
  rotate->add_option("--overlap-days", o->overlap_days, "days the old certificate stays valid for inbound")
      ->default_val(30);
  rotate->add_option("--config", config_path, "gateway configuration");
  rotate->callback([o, &exit_code, &config_path] { exit_code = participantRotate(*o, config_path); });
}

// route add|list|dry-run.
void addRouteCommands(CLI::App& app, const OptionsPtr& o, int& exit_code, std::string& config_path) {
  auto* route = app.add_subcommand("route", "Routing rules");
  route->require_subcommand(1);
  auto* radd = route->add_subcommand("add", "Add a rule: kind, topic, addressee -> participant");
  radd->add_option("--target", o->target, "the participant's org_id")->required();
  radd->add_option("--kind", o->kind, "appeal, info_request or violence_report (any when absent)");
  radd->add_option("--topic", o->topic, "topic code (any when absent)");
  radd->add_option("--addressee", o->addressee, "addressee org_id (any when absent)");
  radd->add_option("--priority", o->priority, "lower wins")->default_val(100);
  radd->add_option("--config", config_path, "gateway configuration");
  radd->callback([o, &exit_code, &config_path] { exit_code = routeAdd(*o, config_path); });

  auto* rlist = route->add_subcommand("list", "Every routing rule, in the order they are tried");
  rlist->add_option("--config", config_path, "gateway configuration");
  rlist->callback([&exit_code, &config_path] { exit_code = routeList(config_path); });
  auto* dry = route->add_subcommand("dry-run", "Where a sample case (intake JSON) would go, and why");
  dry->add_option("FILE", o->file, "a case as the intake API takes it")->required();
  dry->add_option("--config", config_path, "gateway configuration");
  dry->callback([o, &exit_code, &config_path] { exit_code = routeDryRun(*o, config_path); });
}

// retention run: the daily erasure of personal data past its period.
void addRetentionCommand(CLI::App& app, const OptionsPtr& o, int& exit_code, std::string& config_path) {
  auto* retention = app.add_subcommand("retention", "Retention of personal data (docs/privacy.md)");
  retention->require_subcommand(1);
  auto* run = retention->add_subcommand("run", "Erase the personal data of every case past its retention period");
  run->add_flag("--dry-run", o->dry_run, "count the cases due, erase nothing");
  run->add_option("--config", config_path, "gateway configuration");
  run->callback([o, &exit_code, &config_path] {
    auto config = cliConfig(config_path);
    if (!config) return void(exit_code = complain(config.error().message));
    auto db = database(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    auto done = flows::runRetention(*db, config->retention, o->dry_run);
    if (!done) return void(exit_code = complain(done.error().message));
    if (done->busy) return void(exit_code = complain("another retention run is in progress (a gateway's); try later"));
    std::printf(
        "retention: %d case(s) %s, %d package(s) erased, %d month key(s) destroyed, %d failed (named in the log)\n",
        done->cases, o->dry_run ? "due (dry run)" : "erased", done->packages, done->keys, done->failed);
    exit_code = done->failed > 0 ? 1 : 0;
  });
}

// report: the single entry's criteria for a period.
void addReportCommand(CLI::App& app, const OptionsPtr& /*o*/, int& exit_code, std::string& config_path) {
  auto ro = std::make_shared<flows::ReportOptions>();
  ro->repeat_window_days = 0;  // 0: the configured window
  auto format = std::make_shared<std::string>("table");
  auto out = std::make_shared<std::string>();
  auto* rep = app.add_subcommand("report", "Reports on the single entry's criteria for a period");
  rep->add_option("--from", ro->from, "first day, YYYY-MM-DD (Kyiv), of cases received")->required();
  rep->add_option("--to", ro->to, "last day, YYYY-MM-DD (Kyiv), inclusive")->required();
  rep->add_option("--by", ro->by, "breakdown: participant, kind, topic or channel");
  rep->add_option("--participant", ro->participant,
                  "one participant's own report (its EDRPOU code): its cases and packages only");
  rep->add_option("--format", *format, "table, csv, json or html")->default_val("table");
  rep->add_option("--out", *out, "write to this file instead of standard output");
  rep->add_option("--as-of", ro->as_of, "judge 'overdue now' at this ISO 8601 instant (default: now)");
  rep->add_option("--repeat-window", ro->repeat_window_days, "days within which an appeal counts as repeated");
  rep->add_option("--config", config_path, "gateway configuration");
  rep->callback([ro, format, out, &exit_code, &config_path] { exit_code = report(*ro, *format, *out, config_path); });
}

// case show|resend|reroute|review, and message replay.
void addCaseCommands(CLI::App& app, const OptionsPtr& o, int& exit_code, std::string& config_path) {
  auto* kase = app.add_subcommand("case", "Cases");
  kase->require_subcommand(1);
  auto* case_show = kase->add_subcommand("show", "A case in words: status, deadline, timeline, packages and receipts");
  case_show->add_option("CASE", o->case_id, "the case's id, UCC number or tracking code")->required();
  case_show->add_flag("--json", o->json, "print the case as JSON (what the console's case page reads)");
  case_show->add_option("--reason", o->reason,
                        "why you read it: required for a restricted case (recorded in the evidence log)");
  case_show->add_option("--config", config_path, "gateway configuration");
  case_show->callback([o, &exit_code, &config_path] {
    auto db = database(config_path);
    exit_code = db ? caseShow(*db, o->case_id, o->json, o->reason) : complain(db.error().message);
  });
  auto* resend = kase->add_subcommand("resend", "Send a rejected or undelivered case again, as a new signed package");
  resend->add_option("ID", o->case_id, "the case's id")->required();
  resend->add_option("--reason", o->reason, "why (recorded on the case)")->required();
  resend->add_option("--topic", o->topic, "a corrected classification topic code (e.g. 004)");
  resend->add_option("--config", config_path, "gateway configuration");
  resend->callback([o, &exit_code, &config_path] { exit_code = caseAct(*o, config_path, "resend"); });
  auto* reroute = kase->add_subcommand(
      "reroute", "Send a rejected, undelivered or unrouted case to a participant of your choice (before any rule)");
  reroute->add_option("ID", o->case_id, "the case's id")->required();
  reroute->add_option("--to", o->target, "the participant's org_id")->required();
  reroute->add_option("--reason", o->reason, "why (recorded on the case)")->required();
  reroute->add_option("--config", config_path, "gateway configuration");
  reroute->callback([o, &exit_code, &config_path] { exit_code = caseAct(*o, config_path, "reroute"); });
  auto* review = kase->add_subcommand("review", "Mark a case for a person's review");
  review->add_option("ID", o->case_id, "the case's id")->required();
  review->add_option("--note", o->reason, "what is to be reviewed (recorded on the case)")->required();
  review->add_option("--config", config_path, "gateway configuration");
  review->callback([o, &exit_code, &config_path] { exit_code = caseAct(*o, config_path, "review"); });
  auto* erase = kase->add_subcommand(
      "erase", "Erase an ended case's personal data at the data subject's request (before its retention period)");
  erase->add_option("ID", o->case_id, "the case's id")->required();
  erase->add_option("--reason", o->reason, "the request: who asked, when, by what letter (recorded)")->required();
  erase->add_option("--ground", o->ground, "the legal ground, a short code, e.g. zpd-art8-p2-8")->required();
  erase->add_option("--config", config_path, "gateway configuration");
  erase->callback([o, &exit_code, &config_path] {
    auto db = database(config_path);
    if (!db) return void(exit_code = complain(db.error().message));
    auto erased = flows::eraseOnRequest(*db, o->case_id, o->reason, o->ground);
    if (!erased) return void(exit_code = complain(erased.error().message));
    std::printf("case %s erased under rule %s: its personal data and %d package(s); its figures and evidence stay\n",
                erased->case_id.c_str(), erased->rule.c_str(), erased->packages);
  });

  auto* message = app.add_subcommand("message", "Messages exchanged");
  message->require_subcommand(1);
  auto* replay = message->add_subcommand("replay", "Send a dead delivery again");
  replay->add_option("ID", o->msg_id, "the message's msg_id")->required();
  replay->add_option("--config", config_path, "gateway configuration");
  replay->callback([o, &exit_code, &config_path] { exit_code = messageReplay(*o, config_path); });
}

}  // namespace

void addAdminCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<Options>();
  addParticipantCommands(app, o, exit_code, config_path);
  addRouteCommands(app, o, exit_code, config_path);
  addCredentialCommands(app, exit_code, config_path);
  addKeyCommands(app, exit_code, config_path);
  addBackupCommands(app, exit_code, config_path);
  addRetentionCommand(app, o, exit_code, config_path);
  addReportCommand(app, o, exit_code, config_path);
  addCaseCommands(app, o, exit_code, config_path);
}

}  // namespace vkhid::cli
