#include "gateway/flows/signature_json.hpp"

namespace vkhid::flows {

boost::json::object signatureJson(const std::string& idnumber, const crypto::SignatureVerdict& v) {
  boost::json::object o;
  if (!idnumber.empty()) o["idnumber"] = idnumber;
  o["state"] = crypto::signatureStateName(v.state);
  if (v.code != sev::SevError::None) o["code"] = static_cast<int>(v.code);
  if (!v.detail.empty()) o["detail"] = v.detail;
  if (!v.signer_subject.empty()) o["signer"] = v.signer_subject;
  if (!v.signer_org_id.empty()) o["signer_org_id"] = v.signer_org_id;
  if (!v.provider.empty()) o["provider"] = v.provider;
  if (!v.key.empty()) o["key"] = v.key;
  if (!v.signer_subject.empty()) o["qualified"] = v.qualified;
  if (!v.algorithm.empty()) o["algorithm"] = v.algorithm;
  if (!v.signing_time.empty()) o["signing_time"] = v.signing_time;
  if (!v.judged_at.empty()) {
    o["judged_at"] = v.judged_at;
    o["judged_by"] = v.judged_by;
  }
  return o;
}

}  // namespace vkhid::flows
