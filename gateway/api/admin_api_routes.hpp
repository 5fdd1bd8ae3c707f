// The administration API on the admin listener (docs/api/admin.openapi.yaml): participants and routing
// rules, the twin of `vkhid participant …` and `vkhid route …`. Roles: `admin` may read and act,
// `auditor` may read; anyone else gets 403, no credentials 401. Every act runs as "admin:<client>", so
// the evidence log names who did it.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gateway/flows/console.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/flows/intake.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/http/message.hpp"

namespace vkhid::api {

using http::Request;
using http::Response;

class AdminApiRoutes {
 public:
  // Reads the report settings (the classifier's topic names) once, here, not per request.
  AdminApiRoutes(flows::ExchangeContext& context, flows::Intake& intake);
  // nullopt when the path is not under /api/v1/admin/.
  std::optional<Response> handle(const Request& request) const;

 private:
  // Who asks, and what they may do (from their credentials).
  struct Caller {
    std::string client;
    std::string role = "admin";
    std::string org_id;  // role participant: its body
    std::optional<flows::ConsoleSession> session;
  };
  // One request under /api/v1/admin/, authenticated, on a connection acting for its caller.
  struct Call {
    const Request& request;
    std::vector<std::string> parts;  // the path after the prefix, split at '/'
    store::PgConnection& db;
    const std::string& client;
    bool reads;               // changes nothing: either role may
    bool restricted;          // the caller may see restricted cases
    std::string org_id = {};  // a participant's client: the only body whose figures it reads
    std::string role = {};    // admin, auditor or participant
  };
  // The caller of a request, or the response that refuses it (401, 403, 503).
  std::variant<Caller, Response> authenticate(const Request& request) const;
  Response routes(const Call& c) const;
  Response access(const Call& c) const;
  Response accounts(const Call& c) const;
  Response journal(const Call& c) const;
  Response alerts(const Call& c) const;
  Response monthlyReport(const Call& c)
      const;  // a participant's stored monthly report  // the violence reports' journal (flows/violence_journal.hpp)
  Response reports(const Call& c) const;
  std::optional<Response> cases(const Call& c) const;  // nullopt: no such endpoint
  Response caseAction(const Call& c) const;
  Response messages(const Call& c) const;
  Response audit(const Call& c) const;
  Response participants(const Call& c) const;
  Response participantAction(const Call& c) const;
  // True when the caller may not see a case the store found `restricted` (a case, or a package's case).
  bool hidden(const Call& c, const Result<bool>& restricted) const;

  // POST /audit/exports: a bundle written under audit.export_dir, then verified as an auditor would.
  Response exportEvidence(const Request& request, const std::string& client) const;

  flows::ExchangeContext& context_;
  flows::Intake& intake_;
  flows::ReportOptions report_defaults_;
  Status report_settings_;  // why the report settings could not be read, if they could not
};

}  // namespace vkhid::api
