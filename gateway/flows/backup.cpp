#include "gateway/flows/backup.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "gateway/app/digest.hpp"
#include "gateway/bus/amqp.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/pg_pool.hpp"

extern char** environ;

namespace vkhid::flows {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kFormat = "vkhid-backup-1";

Error failed(const std::string& what) { return Error::unavailable("backup.failed", what); }

// Runs `argv` (found on PATH) with its output to `log`; an error names the command and the log's end.
Status run(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return failed(argv[0] + ": cannot be run");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  auto logged = crypto::readFile(log);
  std::string tail = logged ? *logged : "";
  if (tail.size() > 600) tail = tail.substr(tail.size() - 600);
  return failed(argv[0] + " failed (" + log + "): " + tail);
}

std::string shellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A configured command line with {file} replaced by `file`, run by /bin/sh.
Status runTemplate(const std::string& command, const std::string& file, const std::string& log) {
  std::string line = command;
  if (auto at = line.find("{file}"); at != std::string::npos) line.replace(at, 6, shellQuoted(file));
  return run({"/bin/sh", "-c", line}, log);
}

Result<std::string> fileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed(path.string() + ": cannot be read");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return hexEncode(std::string(reinterpret_cast<char*>(md), len));
}

// Every file under `dir` but the manifest, by its path relative to `dir`, with its SHA-256.
Result<json::object> digestsUnder(const fs::path& dir) {
  json::object files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), dir).string();
    if (rel == "manifest.json") continue;
    auto digest = fileSha256(entry.path());
    if (!digest) return digest.error();
    files[rel] = *digest;
  }
  return files;
}

Result<std::string> scalar(store::PgConnection& db, const std::string& sql,
                           const std::vector<store::PgParam>& params = {}) {
  auto r = db.exec(sql, params);
  if (!r) return r.error();
  return std::string(r->rows() > 0 ? r->get(0, 0) : "");
}

const char* kIsoNow = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

// What a backup's manifest.json says, checked for shape: a backup folder comes from storage someone
// else may have touched, so a damaged or forged manifest is a named error, never a thrown exception, and
// it names no file outside its folder.
struct Manifest {
  std::string text;  // as written: its digest is the evidence entries' (backup.taken, backup.restored)
  std::string label, taken_at, end_lsn, broker_vhost;
  std::vector<std::pair<std::string, std::string>> files;  // path in the folder, SHA-256
  bool has(const std::string& path) const {
    return std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == path; });
  }
};

Result<Manifest> readManifest(const std::string& from) {
  auto text = crypto::readFile(from + "/manifest.json");
  if (!text) return Error::invalid("restore.from", "--from " + from + ": no manifest.json (not a vkhid backup)");
  auto bad = [&](const std::string& what) {
    return Error::invalid("restore.from", "--from " + from + "/manifest.json: " + what);
  };
  boost::system::error_code ec;
  auto parsed = json::parse(*text, ec);
  if (ec || !parsed.is_object() || parsed.as_object().if_contains("format") == nullptr ||
      parsed.at("format") != json::value(kFormat)) {
    return bad(std::string("expected format ") + kFormat);
  }
  const auto& m = parsed.as_object();
  auto field = [&](const json::object& o, const char* key) -> const json::string* {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? &v->as_string() : nullptr;
  };
  const auto* wal = m.if_contains("wal");
  const auto* files = m.if_contains("files");
  if (!field(m, "label") || !field(m, "taken_at") || !field(m, "broker_vhost") || !wal || !wal->is_object() ||
      !field(wal->as_object(), "end_lsn") || !files || !files->is_object()) {
    return bad("expected label, taken_at, broker_vhost, wal.end_lsn and files");
  }
  Manifest out{*text,
               std::string(*field(m, "label")),
               std::string(*field(m, "taken_at")),
               std::string(*field(wal->as_object(), "end_lsn")),
               std::string(*field(m, "broker_vhost")),
               {}};
  for (const auto& [path, digest] : files->as_object()) {
    const fs::path rel{std::string(path)};
    const bool inside =
        rel.is_relative() && std::none_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; });
    if (!inside || !digest.is_string()) return bad("files: " + std::string(path) + ": not a file of the backup");
    out.files.emplace_back(std::string(path), std::string(digest.as_string()));
  }
  return out;
}

// An ISO 8601 instant as PostgreSQL's recovery_target_time takes it: with a numeric offset, since it
// refuses zone abbreviations ("Z" among them).
Result<std::string> recoveryTime(const std::string& iso) {
  static const std::regex instant(
      R"((\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}(?::?\d{2})?))");
  std::smatch m;
  if (!std::regex_match(iso, m, instant)) {
    return Error::invalid("restore.until", "--until " + iso + ": expected an ISO 8601 instant with its zone, e.g. " +
                                               "2026-12-04T10:00:00Z");
  }
  return m[1].str() + " " + m[2].str() + (m[3].str() == "Z" ? std::string("+00") : m[3].str());
}

}  // namespace

Result<std::string> definitionsOfVhost(const std::string& definitions_json, const std::string& vhost) {
  boost::system::error_code ec;
  auto parsed = json::parse(definitions_json, ec);
  if (ec || !parsed.is_object()) return failed("the broker's definitions are not JSON");
  const auto& all = parsed.as_object();
  auto ofVhost = [&](const char* key) {
    json::array kept;
    if (auto* items = all.if_contains(key); items && items->is_array()) {
      for (const auto& item : items->as_array()) {
        if (item.is_object() && item.as_object().contains("vhost") && item.at("vhost") == json::value(vhost)) {
          kept.push_back(item);
        }
      }
    }
    return kept;
  };
  json::object out;
  if (auto* v = all.if_contains("rabbit_version")) out["rabbit_version"] = *v;
  json::array permissions = ofVhost("permissions");
  json::array users;
  if (auto* items = all.if_contains("users"); items && items->is_array()) {
    for (const auto& user : items->as_array()) {
      for (const auto& p : permissions) {
        if (user.is_object() && user.as_object().contains("name") && p.at("user") == user.at("name")) {
          users.push_back(user);
          break;
        }
      }
    }
  }
  out["users"] = std::move(users);
  out["vhosts"] = json::array{json::object{{"name", vhost}}};
  out["permissions"] = std::move(permissions);
  for (const char* key : {"topic_permissions", "queues", "exchanges", "bindings", "policies", "parameters"}) {
    out[key] = ofVhost(key);
  }
  return json::serialize(out);
}

Result<std::string> takeBackup(store::PgConnection& db, const app::Config& config, const std::string& dir) {
  std::error_code fsec;
  if (fs::exists(dir) && !fs::is_empty(dir, fsec)) {
    return Error::invalid("backup.to", "--to " + dir + ": exists and is not empty (a backup goes to a new folder)");
  }
  fs::create_directories(dir, fsec);
  if (fsec) return Error::invalid("backup.to", "--to " + dir + ": cannot be made (" + fsec.message() + ")");
  fs::permissions(dir, fs::perms::owner_all, fsec);
  const fs::path root = fs::absolute(dir);

  auto started = scalar(db, std::string("SELECT ") + kIsoNow);
  if (!started) return started.error();
  auto previous = scalar(db,
                         "SELECT coalesce(to_char(max(started_at) AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '') FROM backup_run");
  if (!previous) return previous.error();
  std::string label = "vkhid-" + *started;
  for (char& c : label) c = (c == ':' || c == '.') ? '-' : c;

  // PostgreSQL: a base backup in tar form with the WAL it needs (consistent on its own).
  const std::string log = (root / "pg_basebackup.log").string();
  if (auto s = run({config.backup.pg_bin_dir + "/pg_basebackup", "-d", config.database.url, "-D",
                    (root / "postgresql").string(), "-Ft", "-z", "-X", "stream", "-c", "fast", "-l", label, "-w"},
                   log);
      !s) {
    return s.error();
  }
  auto pg_manifest = crypto::readFile((root / "postgresql" / "backup_manifest").string());
  if (!pg_manifest) return failed("pg_basebackup wrote no backup_manifest");
  boost::system::error_code ec;
  auto wal = json::parse(*pg_manifest, ec);
  if (ec || !wal.is_object() || !wal.as_object().contains("WAL-Ranges"))
    return failed("backup_manifest: no WAL-Ranges");
  const auto& range = wal.at("WAL-Ranges").as_array().back().as_object();
  const std::string start_lsn(range.at("Start-LSN").as_string()), end_lsn(range.at("End-LSN").as_string());

  // The broker: the gateway's virtual host only (its queues are declared again by a starting gateway;
  // the participants' users and permissions are what cannot be made again from the database).
  std::string broker_note = "broker definitions: not taken (backup.broker_export_command is empty)";
  const std::string vhost = bus::brokerVhost(config.broker.url);
  if (!config.backup.broker_export_command.empty()) {
    const std::string all = (root / "broker-all.json").string();
    if (auto s = runTemplate(config.backup.broker_export_command, all, (root / "broker-export.log").string()); !s) {
      return s.error();
    }
    auto text = crypto::readFile(all);
    if (!text) return failed("the broker export wrote nothing to " + all);
    auto kept = definitionsOfVhost(*text, vhost);
    fs::remove(all, fsec);
    if (!kept) return kept.error();
    if (auto s = crypto::writeFile((root / "broker-definitions.json").string(), *kept); !s) return s.error();
    const auto parsed = json::parse(*kept).as_object();
    broker_note = "broker definitions of virtual host " + vhost + " (" +
                  std::to_string(parsed.at("queues").as_array().size()) + " queues, " +
                  std::to_string(parsed.at("users").as_array().size()) + " users)";
  }

  // The evidence since the last backup began (all of it at the first): a bundle that verifies offline.
  ExportOptions evidence;
  evidence.from = *previous;
  evidence.out_dir = (root / "evidence").string();
  evidence.reason = "backup " + label;
  evidence.stamped_only = false;  // everything sealed since the last backup, stamped or not (the next starts later)
  auto sealed = scalar(db, "SELECT count(*) FROM audit_batch WHERE $1 = '' OR last_at >= $1::timestamptz", {*previous});
  if (!sealed) return sealed.error();
  Result<std::string> exported = std::string("no evidence sealed since then");
  if (*sealed != "0") exported = exportBundle(db, config, evidence);
  if (!exported) return exported.error();

  auto files = digestsUnder(root);
  if (!files) return files.error();
  json::object manifest{{"format", kFormat},
                        {"label", label},
                        {"taken_at", *started},
                        {"database", config.database.url.substr(config.database.url.rfind('/') + 1)},
                        {"wal", json::object{{"start_lsn", start_lsn}, {"end_lsn", end_lsn}}},
                        {"broker_vhost", vhost},
                        {"evidence_from", *previous},
                        {"files", std::move(*files)}};
  const std::string manifest_text = json::serialize(manifest);
  if (auto s = crypto::writeFile((root / "manifest.json").string(), manifest_text); !s) return s.error();

  auto recorded = store::inTransaction(db, [&]() -> Status {
    auto r = db.exec(
        "INSERT INTO backup_run (label, started_at, end_lsn, dir) VALUES ($1, $2::timestamptz, "
        "$3::pg_lsn, $4)",
        {label, *started, end_lsn, root.string()});
    if (!r) return r.error();
    return store::appendEvidence(db, "backup.taken", "backup:" + label + " lsn:" + end_lsn,
                                 app::sha256Hex(manifest_text));
  });
  if (!recorded) return recorded.error();
  return "backup " + label + ": PostgreSQL to WAL " + end_lsn + "; " + broker_note + "; evidence from " +
         (previous->empty() ? std::string("the start") : *previous) + ": " + *exported;
}

Result<std::string> prepareRestore(const RestorePlan& plan) {
  auto manifest = readManifest(plan.from);
  if (!manifest) return manifest.error();
  // Every file as the backup wrote it: a changed or missing one stops the restore, named.
  for (const auto& [rel, digest] : manifest->files) {
    auto actual = fileSha256(fs::path(plan.from) / rel);
    if (!actual) return Error::invalid("restore.from", "the backup's " + rel + " is missing");
    if (*actual != digest) return Error::invalid("restore.from", "the backup's " + rel + " differs from its manifest");
  }
  // Every argument checked before anything is written: a bad one leaves the data folder as it was.
  std::string until;
  if (!plan.until.empty()) {
    if (plan.wal_archive.empty()) return Error::invalid("restore.until", "--until needs --wal-archive");
    auto parsed = recoveryTime(plan.until);
    if (!parsed) return parsed.error();
    until = *parsed;
  }
  if (!plan.wal_archive.empty() && !fs::is_directory(plan.wal_archive)) {
    return Error::invalid("restore.wal_archive", "--wal-archive " + plan.wal_archive + ": not a folder");
  }
  std::error_code fsec;
  if (fs::exists(plan.pgdata) && !fs::is_empty(plan.pgdata, fsec)) {
    return Error::invalid("restore.pgdata", "--pgdata " + plan.pgdata + ": not empty (restore onto an empty server)");
  }
  fs::create_directories(plan.pgdata, fsec);
  if (fsec) return Error::invalid("restore.pgdata", "--pgdata " + plan.pgdata + ": " + fsec.message());
  fs::permissions(plan.pgdata, fs::perms::owner_all, fsec);
  const std::string log = plan.pgdata + "/../vkhid-restore.log";
  const std::string pg = plan.from + "/postgresql";
  if (auto s = run({"tar", "-xzf", pg + "/base.tar.gz", "-C", plan.pgdata}, log); !s) return s.error();
  if (auto s = run({"tar", "-xzf", pg + "/pg_wal.tar.gz", "-C", plan.pgdata + "/pg_wal"}, log); !s) return s.error();
  // Always a recovery, so that the server leaves it on a new timeline: what it writes from then on never
  // takes the name of a segment the archive holds from before the loss.
  std::string conf = "\n# vkhid restore: recovery from backup " + manifest->label + "\n";
  std::string recovery = "to the backup's point (WAL " + manifest->end_lsn + ", " + manifest->taken_at + ")";
  if (plan.wal_archive.empty()) {
    conf += "restore_command = 'false'\nrecovery_target = 'immediate'\nrecovery_target_action = 'promote'\n";
  } else {
    conf += "restore_command = 'cp \"" + fs::absolute(plan.wal_archive).string() + "/%f\" \"%p\"'\n";
    if (!until.empty()) conf += "recovery_target_time = '" + until + "'\nrecovery_target_action = 'promote'\n";
    recovery = plan.until.empty() ? "through the WAL archive to its end" : "through the WAL archive to " + plan.until;
  }
  std::ofstream(plan.pgdata + "/postgresql.auto.conf", std::ios::app) << conf;
  std::ofstream(plan.pgdata + "/recovery.signal");
  if (::geteuid() == 0 && !plan.pg_user.empty()) {
    if (auto s = run({"chown", "-R", plan.pg_user + ":", plan.pgdata}, log); !s) return s.error();
  }
  return "PostgreSQL's data folder " + plan.pgdata + " is laid out from backup " + manifest->label + ", to recover " +
         recovery + ". Start PostgreSQL on it, then: vkhid restore --from " + plan.from + " --finish";
}

Result<RestoreReport> finishRestore(store::PgConnection& db, const app::Config& config, const std::string& from,
                                    const std::vector<std::string>& known) {
  auto manifest = readManifest(from);
  if (!manifest) return manifest.error();
  const std::string &label = manifest->label, &taken_at = manifest->taken_at;
  RestoreReport report;
  // The server recovers before it takes writes.
  for (int waited = 0;; ++waited) {
    auto recovering = scalar(db, "SELECT pg_is_in_recovery()");
    if (!recovering) return recovering.error();
    if (*recovering == "f") break;
    if (waited >= 600) return failed("PostgreSQL is still recovering after 5 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (manifest->has("broker-definitions.json") && !config.backup.broker_import_command.empty()) {
    if (auto s = runTemplate(config.backup.broker_import_command, from + "/broker-definitions.json",
                             from + "/../vkhid-restore-broker.log");
        !s) {
      return s.error();
    }
    report.lines.push_back("broker: the definitions of virtual host " + manifest->broker_vhost + " imported");
  }
  auto held = db.exec(
      "SELECT (SELECT count(*) FROM cases), (SELECT coalesce(to_char(max(registered_at) AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'none') FROM cases), (SELECT count(*) FROM audit_entry), (SELECT "
      "count(*) FROM audit_batch), (SELECT count(*) FROM cases WHERE registered_at > $1::timestamptz)",
      {taken_at});
  if (!held) return held.error();
  report.lines.push_back("database: " + std::string(held->get(0, 0)) + " cases (the last registered " +
                         std::string(held->get(0, 1)) + "), " + std::string(held->get(0, 2)) + " evidence entries, " +
                         std::string(held->get(0, 3)) + " batches");
  report.lines.push_back("backup " + label + " was taken at " + taken_at + "; " + std::string(held->get(0, 4)) +
                         " cases registered after it were recovered from the WAL archive");
  // One statement for the whole list, each id found through its index (the UCC's list may be long and the
  // table a year's): what is not a uuid is looked for as a tracking code only.
  auto lost = db.exec(
      "SELECT k FROM unnest($1::text[]) WITH ORDINALITY AS l(k, n) WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE "
      "c.id = (CASE WHEN k ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN k::uuid END)) "
      "AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.tracking_code = k) ORDER BY n",
      {store::textArrayLiteral(known)});
  if (!lost) return lost.error();
  for (int i = 0; i < lost->rows(); ++i) report.lost.emplace_back(lost->get(i, 0));
  auto recorded = store::inTransaction(db, [&]() -> Status {
    return store::appendEvidence(db, "backup.restored",
                                 "backup:" + label + " lost:" + std::to_string(report.lost.size()),
                                 app::sha256Hex(manifest->text));
  });
  if (!recorded) return recorded.error();
  return report;
}

}  // namespace vkhid::flows
