#include "gateway/cli/package_commands.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "gateway/crypto/package.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/text.hpp"
#include "gateway/domain/time.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/exchange_store.hpp"
#include "gateway/flows/signature_json.hpp"
#include "gateway/sev/builders.hpp"
#include "gateway/sev/codec.hpp"

namespace vkhid::cli {
namespace {

namespace json = boost::json;

struct Options {
  std::string file;
  std::string trust_dir;
  std::string at;
  bool json_output = false;
  bool require_seal = false;
  std::string key, cert;
  std::string case_file;
  std::string to_org, to_name, to_sys_id, to_system;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "vkhid package: %s\n", what.c_str());
  return 2;
}

const char* msgTypeName(int t) {
  switch (t) {
    case 0: return "повідомлення (notification)";
    case 1: return "документ (document)";
    case 2: return "доповнення до документа (additions)";
    case 3: return "документ-відповідь (reply)";
    case 4: return "доповнення до відповіді (reply additions)";
  }
  return "?";
}

std::string codeText(const Error& e) {
  auto code = sev::sevErrorOf(e);
  return code ? std::to_string(static_cast<int>(*code)) : e.code;
}

json::object verdictJson(const crypto::SignatureVerdict& v) { return flows::signatureJson("", v); }

std::string verdictText(const crypto::SignatureVerdict& v) {
  std::string s = crypto::signatureStateName(v.state);
  if (!v.signer_subject.empty()) s += " — " + v.signer_subject;
  if (!v.provider.empty()) s += ", provider " + v.provider + (v.qualified ? " (qualified)" : "");
  if (!v.key.empty()) s += ", " + v.key;
  if (!v.valid() && !v.detail.empty() && v.state != crypto::SignatureState::Missing) s += " (" + v.detail + ")";
  if (!v.judged_at.empty()) s += "; judged at " + v.judged_at + " (" + v.judged_by + ")";
  return s;
}

// --trust: folders, PKCS#7 bundles as published (CACertificates.p7b) or certificate files, comma-separated;
// none for inspect.
Result<crypto::TrustStore> trustFrom(const std::string& paths) {
  if (paths.empty()) return crypto::TrustStore();
  return crypto::TrustStore::fromPaths(paths);
}

// --at: the time an auditor judges the certificates at.
Result<std::optional<std::time_t>> atFrom(const std::string& text) {
  if (text.empty()) return std::optional<std::time_t>();
  auto at = parseIsoDateTime(text);
  if (!at) return Error::invalid("cli.at", "--at: expected an ISO 8601 time such as 2015-09-08T14:00:00Z");
  return std::optional<std::time_t>(*at);
}

// What `inspect --json` prints: the envelope, zones, document or receipt, and each signature's verdict.
json::object inspectionJson(const crypto::PackageReport& report, const std::vector<std::string>& zones) {
  const auto& h = *report.header;
  json::array zone_list(zones.begin(), zones.end());
  json::array attachments;
  for (const auto& a : report.attachments) {
    attachments.push_back(json::object{{"idnumber", a.idnumber},
                                       {"description", a.description},
                                       {"type", a.type},
                                       {"size", a.size},
                                       {"signature", verdictJson(a.verdict)}});
  }
  json::object out{{"msg_type", h.msg_type},
                   {"msg_id", h.msg_id},
                   {"time", h.time},
                   {"from", json::object{{"org_id", h.from_org_id},
                                         {"organization", h.from_organization},
                                         {"sys_id", h.from_sys_id},
                                         {"system", h.from_system}}},
                   {"to", json::object{{"org_id", h.to_org_id},
                                       {"organization", h.to_organization},
                                       {"sys_id", h.to_sys_id},
                                       {"system", h.to_system}}},
                   {"zones", std::move(zone_list)},
                   {"attachments", std::move(attachments)},
                   {"seal", verdictJson(report.seal)}};
  if (h.document) {
    out["document"] = json::object{{"kind", h.document->attrs.kind.value_or("")},
                                   {"reg_number", h.document->reg_number.value},
                                   {"reg_date", h.document->reg_number.regdate},
                                   {"purpose_type", h.document->attrs.purpose_type},
                                   {"confidential", h.document->confident.flag}};
  }
  if (h.acknowledgement) {
    out["acknowledgement"] =
        json::object{{"msg_id", h.acknowledgement->msg_id}, {"ack_type", h.acknowledgement->ack_type}};
  }
  return out;
}

// What `inspect` prints for people, one line per part.
void printInspection(const crypto::PackageReport& report, const std::vector<std::string>& zones) {
  const auto& h = *report.header;
  std::printf("package     msg_type=%d, %s\n", h.msg_type, msgTypeName(h.msg_type));
  std::printf("msg_id      %s at %s\n", h.msg_id.c_str(), h.time.c_str());
  std::printf("from        %s %s (system %s, %s)\n", h.from_org_id.c_str(), h.from_organization.c_str(),
              h.from_system.c_str(), h.from_sys_id.c_str());
  std::printf("to          %s %s (system %s, %s)\n", h.to_org_id.c_str(), h.to_organization.c_str(),
              h.to_system.c_str(), h.to_sys_id.c_str());
  std::string zone_text;
  for (const auto& z : zones) zone_text += (zone_text.empty() ? "" : ", ") + z;
  std::printf("zones       %s\n", zone_text.c_str());
  if (h.document) {
    const auto& d = *h.document;
    std::printf("document    %s, reg %s of %s, purpose %d, confidential %d\n", d.attrs.kind.value_or("-").c_str(),
                d.reg_number.value.c_str(), d.reg_number.regdate.c_str(), d.attrs.purpose_type, d.confident.flag);
  }
  if (h.acknowledgement) {
    const auto& a = *h.acknowledgement;
    std::printf("receipt     ack_type=%d for %s", a.ack_type, a.msg_id.c_str());
    if (a.reg_number)
      std::printf(", registered as %s of %s", a.reg_number->value.c_str(), a.reg_number->regdate.c_str());
    for (const auto& r : a.results) std::printf(", code %d \"%s\"", r.errorcode, r.errortext.c_str());
    std::printf("\n");
  }
  for (const auto& a : report.attachments) {
    std::printf("attachment  %s %s \"%s\" %zu bytes — signature: %s\n", a.idnumber.c_str(), a.type.c_str(),
                a.description.c_str(), a.size, verdictText(a.verdict).c_str());
  }
  std::printf("seal        %s\n", verdictText(report.seal).c_str());
}

// The package of --file judged with the trust of --trust at --at (or now): what inspect and verify
// print from; nullopt (with the error printed) when the file, the trust or the time cannot be read.
std::optional<crypto::PackageReport> judged(const Options& o, bool require_seal, crypto::VerifyOptions& vo) {
  auto refuse = [](const Error& e) {
    fail(e.message);
    return std::optional<crypto::PackageReport>();
  };
  auto bytes = crypto::readFile(o.file);
  if (!bytes) return refuse(bytes.error());
  auto trust = trustFrom(o.trust_dir);
  if (!trust) return refuse(trust.error());
  auto at = atFrom(o.at);
  if (!at) return refuse(at.error());
  vo.require_seal = require_seal;
  vo.at = *at;
  return crypto::verifyPackage(*bytes, *trust, vo);
}

int inspect(const Options& o) {
  crypto::VerifyOptions vo;
  auto judgement = judged(o, vo.require_seal, vo);
  if (!judgement) return 2;
  const auto& report = *judgement;
  if (!report.header) {
    std::fprintf(stderr, "error %s: %s\n", codeText(report.findings.front()).c_str(),
                 report.findings.front().message.c_str());
    return 1;
  }
  const auto& h = *report.header;
  std::vector<std::string> zones;
  if (h.document) zones.emplace_back("Document");
  if (h.task_list) zones.emplace_back("TaskList");
  if (h.add_documents) zones.emplace_back("AddDocuments");
  if (h.expansion) zones.emplace_back("Expansion");
  if (h.acknowledgement) zones.emplace_back("Acknowledgement");

  if (o.json_output) {
    std::cout << json::serialize(inspectionJson(report, zones)) << "\n";
    return 0;
  }
  printInspection(report, zones);
  if (o.trust_dir.empty()) std::printf("(no --trust given: no signer can be trusted)\n");
  return 0;
}

int verify(const Options& o) {
  crypto::VerifyOptions vo;
  auto judgement = judged(o, o.require_seal, vo);
  if (!judgement) return 2;
  const auto& report = *judgement;
  for (const auto& f : report.findings) std::printf("error %s: %s\n", codeText(f).c_str(), f.message.c_str());
  if (report.header) {
    if (report.seal.state != crypto::SignatureState::Missing) {
      std::printf("seal        %s\n", verdictText(report.seal).c_str());
    }
    for (const auto& a : report.attachments) {
      std::printf("attachment  %s: %s\n", a.idnumber.c_str(), verdictText(a.verdict).c_str());
    }
  }
  std::printf("judged at   %s\n", vo.at ? (formatIsoUtc(*vo.at) + " (the time asked for)").c_str()
                                        : "now, or the time a signature's own time-stamp proves");
  if (!report.ok()) {
    // Invalid (1) when something does not hold; indeterminate (3) when all that fails is what cannot be
    // decided from what is at hand (an expired certificate without a proof of time, no signer certificate).
    auto undecided = [](const crypto::SignatureVerdict& v) {
      return v.state == crypto::SignatureState::ExpiredNoProof || v.state == crypto::SignatureState::NotCheckable;
    };
    bool all_undecided = report.header.has_value();
    for (const auto& f : report.findings) {
      auto code = sev::sevErrorOf(f);
      bool from_signature =
          code == sev::SevError::CertificateExpiredNoProof || code == sev::SevError::AttachmentSignatureNotCheckable;
      all_undecided = all_undecided && from_signature;
    }
    all_undecided = all_undecided && (report.seal.state == crypto::SignatureState::Missing || report.seal.valid() ||
                                      undecided(report.seal));
    return all_undecided ? 3 : 1;
  }
  std::printf("ok: schema, %s, %zu attachment signature(s)\n",
              report.seal.state == crypto::SignatureState::Missing ? "no seal" : "seal valid",
              report.attachments.size());
  return 0;
}

int seal(const Options& o) {
  auto bytes = crypto::readFile(o.file);
  if (!bytes) return fail(bytes.error().message);
  auto signer = crypto::FileSigner::load(o.key, o.cert);
  if (!signer) return fail(signer.error().message);
  auto sealed = crypto::resealPackage(*bytes, *signer);
  if (!sealed) {
    std::fprintf(stderr, "error %s: %s\n", codeText(sealed.error()).c_str(), sealed.error().message.c_str());
    return 1;
  }
  std::fwrite(sealed->data(), 1, sealed->size(), stdout);
  return 0;
}

int build(const Options& o) {
  auto text = crypto::readFile(o.case_file);
  if (!text) return fail(text.error().message);
  auto parsed = flows::parseCaseJson(*text);
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) {
      std::fprintf(stderr, "vkhid package build: %s: expected %s\n", e.field.empty() ? "(body)" : e.field.c_str(),
                   e.expected.c_str());
    }
    return 2;
  }
  auto signer = crypto::FileSigner::load(o.key, o.cert);
  if (!signer) return fail(signer.error().message);
  auto me = crypto::describe(signer->certificate());
  if (me.org_id.empty()) return fail("the certificate carries no organizationIdentifier NTRUA-<EDRPOU>");

  domain::Case c = std::move(parsed.value);
  std::time_t now = std::time(nullptr);
  std::string now_text = formatIsoUtc(now);
  if (c.id.empty()) c.id = flows::newUuid();
  if (c.received_at.empty()) c.received_at = now_text;
  if (c.registered_on.empty()) c.registered_on = now_text.substr(0, 10);
  if (c.ucc_number.empty()) c.ucc_number = "УКЦ-" + now_text.substr(0, 4) + "-CLI";
  c.addressee_org_id = o.to_org;

  sev::Envelope env;
  env.from = {me.org_id, "Урядовий контактний центр", "vkhid-gateway", "Вхід"};
  env.to = {o.to_org, o.to_name.empty() ? "Учасник " + o.to_org : o.to_name, o.to_sys_id, o.to_system};
  env.msg_id = flows::newUuid();
  env.time = now_text;
  auto h = sev::buildAppealPackage(c, env);
  if (auto s = crypto::signAttachments(h, *signer); !s) return fail(s.error().message);
  auto sealed = crypto::sealedPackage(h, *signer);
  if (!sealed) return fail(sealed.error().message);
  std::fwrite(sealed->data(), 1, sealed->size(), stdout);
  return 0;
}

}  // namespace

void addPackageCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<Options>();
  auto* package = app.add_subcommand("package", "SEV OVV 1.5 packages: inspect, verify, seal, build");
  package->require_subcommand(1);

  auto* inspect_cmd =
      package->add_subcommand("inspect", "Show a package: ids, parties, zones, attachments, signatures");
  inspect_cmd->add_option("FILE", options->file, "the package")->required();
  inspect_cmd->add_option(
      "--trust", options->trust_dir,
      "trusted CAs: a folder, a PKCS#7 bundle (CACertificates.p7b) or a certificate; comma-separated");
  inspect_cmd->add_option("--at", options->at, "judge certificates at this time (ISO 8601) instead of now");
  inspect_cmd->add_flag("--json", options->json_output, "one JSON object");
  inspect_cmd->callback([options, &exit_code] { exit_code = inspect(*options); });

  auto* verify_cmd = package->add_subcommand(
      "verify",
      "Check schema, seal and attachment signatures; exit 0 when all hold, 1 with findings, 3 when all that fails "
      "cannot be decided (an expired certificate without proof of time), 2 on bad use");
  verify_cmd->add_option("FILE", options->file, "the package")->required();
  verify_cmd
      ->add_option("--trust", options->trust_dir,
                   "trusted CAs and TSAs: a folder, a PKCS#7 bundle (CACertificates.p7b) or a certificate; "
                   "comma-separated")
      ->required();
  verify_cmd->add_option("--at", options->at,
                         "judge the certificates at this time (ISO 8601) instead of now or a time-stamp's time");
  verify_cmd->add_flag("--require-seal", options->require_seal, "a package without a seal is a finding");
  verify_cmd->callback([options, &exit_code] { exit_code = verify(*options); });

  auto* seal_cmd = package->add_subcommand("seal", "Print FILE with a new package seal");
  seal_cmd->add_option("FILE", options->file, "the package")->required();
  seal_cmd->add_option("--key", options->key, "PEM private key")->required();
  seal_cmd->add_option("--cert", options->cert, "PEM certificate (then any intermediates)")->required();
  seal_cmd->callback([options, &exit_code] { exit_code = seal(*options); });

  auto* build_cmd = package->add_subcommand("build", "Print a signed appeal package built from a case (JSON)");
  build_cmd->add_option("--case", options->case_file, "the case, as the intake API takes it")->required();
  build_cmd->add_option("--key", options->key, "PEM private key of the seal")->required();
  build_cmd->add_option("--cert", options->cert, "PEM certificate of the seal")->required();
  build_cmd->add_option("--to", options->to_org, "the participant's EDRPOU code")->required();
  build_cmd->add_option("--to-name", options->to_name, "the participant's name");
  build_cmd->add_option("--to-sys-id", options->to_sys_id, "the participant's EDMS id")->default_val("edms");
  build_cmd->add_option("--to-system", options->to_system, "the participant's EDMS name")->default_val("СЕД");
  build_cmd->callback([options, &exit_code] { exit_code = build(*options); });
}

}  // namespace vkhid::cli
