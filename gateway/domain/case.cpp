#include "gateway/domain/case.hpp"

namespace vkhid::domain {

const char* caseKindName(CaseKind k) {
  switch (k) {
    case CaseKind::Appeal: return "appeal";
    case CaseKind::InfoRequest: return "info_request";
    case CaseKind::ViolenceReport: return "violence_report";
  }
  return "appeal";
}

std::optional<CaseKind> caseKindFromName(const std::string& name) {
  if (name == "appeal") return CaseKind::Appeal;
  if (name == "info_request") return CaseKind::InfoRequest;
  if (name == "violence_report") return CaseKind::ViolenceReport;
  return std::nullopt;
}

const char* urgencyName(Urgency u) {
  switch (u) {
    case Urgency::None: return "none";
    case Urgency::Urgent: return "urgent";
    case Urgency::ThreatToLife: return "threat_to_life";
  }
  return "none";
}

}  // namespace vkhid::domain
