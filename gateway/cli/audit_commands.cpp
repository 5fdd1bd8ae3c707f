#include "gateway/cli/audit_commands.hpp"

#include <cstdio>
#include <iostream>
#include <iterator>

#include "gateway/app/config.hpp"
#include "gateway/cli/admin_commands.hpp"
#include "gateway/crypto/openssl.hpp"
#include "gateway/flows/audit.hpp"
#include "gateway/flows/participants.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/migrations.hpp"

namespace vkhid::cli {
namespace {

struct AuditOptions {
  flows::ExportOptions out;
  std::string dir;
  std::string ucc_org;  // verify, check-proof: whom the batches must be sealed by
  std::string proof;    // check-proof: the proof's file, or - for standard input
  std::string ca;       // check-proof: the CA certificate(s) the seal and the time-stamp chain to
  long long seq = 0;
};

int complain(const std::string& what) {
  std::fprintf(stderr, "vkhid audit: %s\n", what.c_str());
  return 2;
}

int auditExport(const AuditOptions& o, const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return complain(config.error().message);
  auto db =
      store::PgConnection::connect({config->database.url, config->database.connect_timeout_s, 300000, "vkhid-audit"});
  if (!db) return complain(db.error().message);
  // The packages are sealed at rest: opened with the master key.
  if (auto keys = store::loadAtRest(*config, *db); !keys) return complain(keys.error().message);
  // Who exports, for the evidence log: the reads of the packages' cases are recorded with it.
  if (auto s = flows::setActor(*db, cliActor()); !s) {
    return complain(s.error().message);
  }
  auto summary = flows::exportBundle(*db, *config, o.out);
  if (!summary) return complain(summary.error().message);
  std::printf("%s\n", summary->c_str());
  return 0;
}

int auditVerify(const AuditOptions& o) {
  auto report = flows::verifyBundle(o.dir, o.ucc_org);
  if (!report.ok) {
    std::printf("audit verify: FAILED at %s\n", report.failure.c_str());
    return 1;
  }
  std::printf("audit verify: OK — %s\n", report.summary.c_str());
  for (const auto& note : report.notes) std::printf("  %s\n", note.c_str());
  return 0;
}

int auditCheckProof(const AuditOptions& o) {
  std::string proof;
  if (o.proof == "-") {
    proof.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else if (auto text = crypto::readFile(o.proof)) {
    proof = *text;
  } else {
    return complain(text.error().message);
  }
  auto ca = crypto::readFile(o.ca);
  if (!ca) return complain(ca.error().message);
  auto report = flows::checkProof(proof, *ca, o.ucc_org);
  if (!report.ok) {
    std::printf("audit check-proof: FAILED at %s\n", report.failure.c_str());
    return 1;
  }
  std::printf("audit check-proof: OK — %s\n", report.summary.c_str());
  return 0;
}

int auditProve(const AuditOptions& o, const std::string& config_path) {
  std::optional<std::string> path;
  if (!config_path.empty()) path = config_path;
  auto config = app::loadConfig(path, app::processEnvironment());
  if (!config) return complain(config.error().message);
  auto db =
      store::PgConnection::connect({config->database.url, config->database.connect_timeout_s, 30000, "vkhid-audit"});
  if (!db) return complain(db.error().message);
  auto proof = flows::proveEntry(*db, o.seq);
  if (!proof) return complain(proof.error().message);
  std::printf("%s\n", proof->c_str());
  return 0;
}

}  // namespace

void addAuditCommands(CLI::App& app, int& exit_code, std::string& config_path) {
  auto o = std::make_shared<AuditOptions>();
  auto* audit = app.add_subcommand("audit", "Evidence for auditors: export, verify offline, prove an entry");
  audit->require_subcommand(1);
  auto* ex = audit->add_subcommand("export", "Write a self-contained evidence bundle");
  ex->add_option("--from", o->out.from, "ISO 8601 instant (inclusive)");
  ex->add_option("--to", o->out.to, "ISO 8601 instant (inclusive)");
  ex->add_option("--participant", o->out.participant, "only this participant's packages (org_id)");
  ex->add_option("--out", o->out.out_dir, "the bundle's directory")->required();
  ex->add_option("--reason", o->out.reason, "why (recorded as each exported case's read)");
  ex->add_option("--config", config_path, "gateway configuration");
  ex->callback([o, &exit_code, &config_path] { exit_code = auditExport(*o, config_path); });
  auto* verify = audit->add_subcommand("verify", "Check a bundle offline (no database, no network)");
  verify->add_option("DIR", o->dir, "the bundle's directory")->required();
  verify->add_option("--ucc-org", o->ucc_org,
                     "the UCC's org_id (EDRPOU) as you know it: batches sealed by anyone else fail (default: the "
                     "bundle's manifest says)");
  verify->callback([o, &exit_code] { exit_code = auditVerify(*o); });
  auto* check =
      audit->add_subcommand("check-proof", "Check one entry's proof offline, as a third party given it would");
  check->add_option("PROOF", o->proof, "the proof's file ('vkhid audit prove' output), or - for standard input")
      ->required();
  check->add_option("--ca", o->ca, "the CA certificate(s) the seal and the time-stamp chain to (PEM)")->required();
  check->add_option("--ucc-org", o->ucc_org, "the UCC's org_id (EDRPOU): a root sealed by anyone else fails");
  check->callback([o, &exit_code] { exit_code = auditCheckProof(*o); });
  auto* prove = audit->add_subcommand("prove", "An inclusion proof of one entry in its batch root (JSON)");
  prove->add_option("SEQ", o->seq, "the entry's sequence number")->required();
  prove->add_option("--config", config_path, "gateway configuration");
  prove->callback([o, &exit_code, &config_path] { exit_code = auditProve(*o, config_path); });
}

}  // namespace vkhid::cli
