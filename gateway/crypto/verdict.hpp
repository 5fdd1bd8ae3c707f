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
  NotCheckable,    // nothing to check it with (no signer certificate anywhere): indeterminate, never valid
  ExpiredNoProof,  // judged now, the certificate has expired, and nothing proves it signed before
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
  std::string signing_time;   // ISO 8601 as the signer states it (CMS signingTime, the Header's time)
  std::string provider;       // the signer certificate's issuer organisation (its provider)
  std::string key;            // the signer's key, as "DSTU 4145 (m = 257)", "EC P-256", "RSA 2048"
  bool qualified = false;     // the certificate declares itself qualified (qcStatements QcCompliance)
  std::string judged_at;      // ISO 8601 UTC: when the certificate was judged valid or not
  std::string judged_by;      // "time-stamp", "now", or "the time asked for"

  bool valid() const { return state == SignatureState::Valid; }
};

}  // namespace vkhid::crypto
