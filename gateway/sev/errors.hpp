// The error codes Vkhid puts in SEV OVV rejections (AckResult errorcode/errortext) and reports from
// `vkhid package verify`. GOST R 53898 ranges where they fit (1–40), the project's own from 100.
// The numbers are stable: participants' EDMS and auditors rely on them. docs/sev-errors.md lists them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/domain/error.hpp"

namespace vkhid::sev {

enum class SevError : int {
  None = 0,
  // GOST R 53898 ranges
  BadStandart = 1,
  BadVersion = 2,
  BadMsgType = 3,
  UnknownRecipient = 10,
  WrongRecipientSystem = 11,
  BadHeaderAttribute = 12,
  ZoneMissing = 20,
  ZoneNotAllowed = 21,
  WrongRoot = 22,
  ElementMissing = 30,
  ElementUnexpected = 31,
  BadValue = 32,
  BadAttribute = 33,
  BadBase64 = 34,
  BadDateTime = 35,
  ReferenceMismatch = 40,
  // Vkhid's own range
  Malformed = 100,
  DtdForbidden = 101,
  TooLarge = 102,
  TooDeep = 103,
  BadEncoding = 104,
  SchemaInvalid = 105,
  TransferUnverified = 106,
  LimitsExceeded = 107,
  SealMissing = 110,
  SealInvalid = 111,
  SealDuplicated = 112,
  SealReferenceNotWhole = 113,
  SignerUntrusted = 114,
  SignerNotSender = 115,
  CertificateNotValidAtSigning = 116,
  SealMalformed = 117,
  SignerNotRegistered = 118,
  CertificateExpiredNoProof = 119,
  AttachmentSignatureInvalid = 120,
  AttachmentSignatureMissing = 121,
  AttachmentSignatureUnsupported = 122,
  AttachmentSignatureOrphan = 123,
  AttachmentSignatureNotCheckable = 124,
  UnknownSender = 130,
  DuplicateMsgIdDifferentContent = 131,
  NotInCompetence = 132,
  ExtensionBeyondCap = 133,
  ExtensionNoticeLate = 134,
  ExtensionNotAllowed = 135,
};

struct SevErrorInfo {
  SevError code;
  const char* id;         // short stable name, e.g. "seal_invalid"
  const char* errortext;  // Ukrainian, for AckResult/@errortext read by EDMS operators
  const char* message;    // English, for logs and the CLI
};

const SevErrorInfo& sevErrorInfo(SevError code);
// Constant-initialised: safe to call from any static initialiser.
std::span<const SevErrorInfo> allSevErrors();

// An Error whose code is "sev.<number>" and whose message is the English text plus `detail`.
Error sevError(SevError code, const std::string& detail);
// What sevError was given as `detail` (the message without its fixed English text).
std::string sevErrorDetail(const Error& error);
// The SEV code of an Error made by sevError; nullopt for any other error.
std::optional<SevError> sevErrorOf(const Error& error);

}  // namespace vkhid::sev
