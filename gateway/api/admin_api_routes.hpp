// The administration API on the admin listener (docs/api/admin.openapi.yaml): participants and routing
// rules, the twin of `vkhid participant …` and `vkhid route …`. Roles: `admin` may read and act,
// `auditor` may read; anyone else gets 403, no credentials 401. Every act runs as "admin:<client>", so
// the evidence log names who did it.
#pragma once

#include <optional>

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
  // POST /audit/exports: a bundle written under audit.export_dir, then verified as an auditor would.
  Response exportEvidence(const Request& request, const std::string& client) const;

  flows::ExchangeContext& context_;
  flows::Intake& intake_;
  flows::ReportOptions report_defaults_;
  Status report_settings_;  // why the report settings could not be read, if they could not
};

}  // namespace vkhid::api
