// Signing and checking whole SEV OVV packages: every attachment's detached CMS (SignInfo) and the
// package seal, with a report that names each finding by its SEV code.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/crypto/signer.hpp"
#include "gateway/crypto/trust.hpp"
#include "gateway/crypto/verdict.hpp"
#include "gateway/sev/model.hpp"
#include "gateway/sev/xml.hpp"

namespace vkhid::crypto {

// Adds a SignInfo (CAdES-BES, with CertificateData and SigningTime) for every DocTransfer that has
// none; creates Expansion when missing.
Status signAttachments(sev::Header& header, const Signer& signer);

// Model -> DOM -> seal -> bytes.
Result<std::string> sealedPackage(const sev::Header& header, const Signer& signer);

// Validated bytes -> a new seal (replacing any) -> bytes.
Result<std::string> resealPackage(std::string_view bytes, const Signer& signer, const sev::ParseLimits& limits = {});

struct VerifyOptions {
  bool require_seal = false;  // a package without a seal is a finding
  sev::ParseLimits limits;
  // Judge every certificate at this time (an auditor's choice, or a time the audit log's time-stamp
  // proves) instead of now or an attachment signature's own time-stamp.
  std::optional<std::time_t> at;
};

struct AttachmentReport {
  std::string idnumber;
  std::string description;
  std::string type;
  std::size_t size = 0;
  SignatureVerdict verdict;
};

struct PackageReport {
  std::optional<sev::Header> header;  // empty when the bytes did not parse or validate
  std::vector<Error> findings;        // each Error's code is "sev.<n>"; empty = everything holds
  SignatureVerdict seal;
  std::vector<AttachmentReport> attachments;
  bool ok() const { return findings.empty(); }
};

PackageReport verifyPackage(std::string_view bytes, const TrustStore& trust, const VerifyOptions& options = {});

// Every DocTransfer of a package (Document, TaskList, AddDocuments, Acknowledgement), in order.
std::vector<const sev::DocTransfer*> allTransfers(const sev::Header& header);

}  // namespace vkhid::crypto
