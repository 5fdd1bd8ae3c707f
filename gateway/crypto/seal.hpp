// The package seal: an enveloped XML-DSig signature over the whole SEV OVV document, placed in
// Header/Expansion (one Reference URI="", enveloped-signature + exclusive C14N, SHA-256,
// ECDSA P-256 or RSA, the certificate in KeyInfo). Made and checked with xmlsec1.
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/crypto/verdict.hpp"
#include "gateway/sev/xml.hpp"

namespace vkhid::crypto {

inline constexpr const char* kDsigNs = "http://www.w3.org/2000/09/xmldsig#";

// Once per process before any xmlsec use (idempotent, thread-safe).
void initXmlSec();

// Removes any seal the document has and adds a new one made with `signer`. Creates Expansion
// (organization, exp_ver given) when the document has none.
Status seal(xmlDoc* doc, const Signer& signer, const std::string& expansion_organization = "Урядовий контактний центр",
            const std::string& expansion_version = "vkhid/1");

// Checks the seal of a parsed (untouched) package: structure, mathematics, the chain now (or at `at`,
// an auditor's choice; never at the Header's time, which is the sender's own word), and that the
// signer speaks for from_org_id. State Missing when there is no seal; ExpiredNoProof (code 119) when
// the certificate has expired and nothing proves the seal was made before.
SignatureVerdict verifySeal(xmlDoc* doc, const TrustStore& trust, std::optional<std::time_t> at = {});

}  // namespace vkhid::crypto
