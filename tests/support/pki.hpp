// The development PKI, made once per test process by certs/make-dev-pki into the test's var folder.
#pragma once

#include <string>

#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/domain/case.hpp"
#include "gateway/sev/builders.hpp"

namespace vkhid::testing {

std::string pkiDir();  // holds ca.pem, ucc-seal.{key,pem}, p1-seal…, rogue-…, expired-seal…
crypto::FileSigner signerOf(const std::string& name);  // e.g. "ucc-seal", "p1-seal"
crypto::TrustStore devTrust();                         // trusts ca.pem only

inline constexpr const char* kUccOrg = "99999901";
inline constexpr const char* kP1Org = "99999911";
inline constexpr const char* kP2Org = "99999912";

sev::EnvelopeParty uccParty();
sev::EnvelopeParty participantParty(const std::string& org_id);
domain::Case sampleCase();  // an appeal with one attachment, consent given
sev::Envelope envelopeFromUcc(const std::string& to_org = kP1Org);

}  // namespace vkhid::testing
