// How a detached CAdES verdict is told: `vkhid crypto verify`'s exit code and its lines for people.
#include "gateway/crypto/cades.hpp"

namespace vkhid::crypto {

int CadesVerdict::exitCode() const {
  switch (signature.state) {
    case SignatureState::Valid: return 0;
    case SignatureState::Invalid:
    case SignatureState::Malformed:
    case SignatureState::SignerNotSender:
    case SignatureState::NotValidAtSigning: return 1;
    default: return 3;
  }
}

std::string CadesVerdict::text() const {
  const SignatureVerdict& v = signature;
  std::string out = "verdict:    " + std::string(signatureStateName(v.state));
  if (!v.detail.empty()) out += " — " + v.detail;
  out += "\ndigest:     " + digest + "\n";
  out += "signature:  " + v.algorithm +
         (v.state == SignatureState::Valid || v.state == SignatureState::ExpiredNoProof ||
                  v.state == SignatureState::NotValidAtSigning || v.state == SignatureState::Untrusted ||
                  v.state == SignatureState::SignerNotSender
              ? ", valid"
              : "") +
         "\n";
  out += "chain:      " + chain + "\n";
  if (!v.signer_subject.empty()) {
    out += "signer:     " + v.signer_subject + "\n";
    if (!v.provider.empty())
      out += "provider:   " + v.provider + (v.qualified ? " (qualified certificate)" : "") + "\n";
    if (!v.key.empty()) out += "key:        " + v.key + "\n";
  }
  if (!v.signing_time.empty()) out += "signed at:  " + v.signing_time + " (as the signer states it; not relied on)\n";
  for (const auto& t : timestamps) {
    out += "time-stamp: " + t.kind + ", " +
           (t.valid ? "valid at " + t.gen_time + (t.tsa.empty() ? "" : " by " + t.tsa) : "not valid: " + t.detail) +
           "\n";
  }
  out += "judged at:  " + v.judged_at + " (" + v.judged_by + ")\n";
  return out;
}

}  // namespace vkhid::crypto
