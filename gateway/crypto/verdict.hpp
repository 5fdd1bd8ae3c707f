// The outcome of checking one signature (a package seal or an attachment's CMS), as people read it.
#pragma once

#include <string>

#include "gateway/sev/errors.hpp"

namespace vkhid::crypto {

enum class SignatureState {
  Valid,
  Invalid,               // the mathematics fail: content changed, or another key
  UnsupportedAlgorithm,  // parsed but not checkable here (DSTU 4145); never counted as valid
  Untrusted,             // no chain to a trusted CA
  NotValidAtSigning,     // the certificate was not valid when it signed
  SignerNotSender,       // the signer speaks for another organisation than the sender
  Missing,
  Malformed,
};

const char* signatureStateName(SignatureState s);  // "valid", "unsupported-algorithm", …

struct SignatureVerdict {
  SignatureState state = SignatureState::Missing;
  sev::SevError code = sev::SevError::None;
  std::string detail;
  std::string signer_subject;
  std::string signer_org_id;
  std::string signer_sha256;  // the signer certificate's fingerprint (hex), when it was found
  std::string algorithm;      // e.g. "ecdsa-with-SHA256", or the OID
  std::string signing_time;   // ISO 8601 when known

  bool valid() const { return state == SignatureState::Valid; }
};

}  // namespace vkhid::crypto
