// The packages Vkhid sends (DESIGN §5): the appeal package, the four receipts, reply documents,
// additions and notices. Pure: a model out of values in; signing and sealing are the caller's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/case.hpp"
#include "gateway/sev/errors.hpp"
#include "gateway/sev/model.hpp"

namespace vkhid::sev {

// Document/@kind of the connectivity check's test package (`vkhid participant check`): an EDMS
// answers it with its receipts; the UCC registers no case for it.
inline constexpr const char* kCheckDocumentKind = "Перевірка з'єднання";

// One side of an exchange as the envelope names it.
struct EnvelopeParty {
  std::string org_id;        // EDRPOU
  std::string organization;  // name
  std::string sys_id;        // EDMS system id
  std::string system;        // EDMS name
};

// Envelope values every builder needs.
struct Envelope {
  EnvelopeParty from;
  EnvelopeParty to;
  std::string msg_id;  // UUID of the new message
  std::string time;    // xs:dateTime, UTC
};

// msg_type=1: the case as a document "на виконання", the text as the first DocTransfer, then the
// applicant's files; the applicant reduced or omitted as consent and sensitivity require; the
// structured appeal in Vkhid's expansion. msg_acknow=2.
Header buildAppealPackage(const domain::Case& c, const Envelope& env);

// msg_type=0 receipts. `registration` only for Registered; `error` only for Rejected.
struct Rejection {
  int code;
  std::string text;
};
Header buildReceipt(const Envelope& env, const std::string& acknowledged_msg_id, AckType type,
                    const std::optional<RegNumber>& registration = std::nullopt,
                    const std::optional<Rejection>& rejection = std::nullopt);

// The Ukrainian AckResult text for a receipt without error.
std::string receiptText(AckType type);

// msg_type=3: an answer to a document, Addressee/Referred retype="д" pointing at the original.
struct ReplyContent {
  std::string idnumber;  // the reply's id in the sender's EDMS
  RegNumber reg_number;  // the reply's own registration
  RegNumber referred;    // the original document's registration (the UCC number and date)
  std::string referred_idnumber;
  std::string text;  // the answer, as the first DocTransfer (txt)
  std::vector<domain::Attachment> attachments;
};
Header buildReply(const Envelope& env, const ReplyContent& reply);

// msg_type=2 (additions to a document) or 4 (additions to a reply): late files, in one Folder.
Header buildAdditions(const Envelope& env, MsgType type, const RegNumber& referred,
                      const std::vector<domain::Attachment>& files, const std::string& note = {});

// msg_type=0 with Vkhid's notice expansion: deadline extension or forwarding.
Header buildNotice(const Envelope& env, const NoticeExpansion& notice);

// The SEV DocTransfer/@type for a file name ("pdf" for "a.pdf"; "bin" when there is no extension).
std::string transferTypeOf(const std::string& file_name);

}  // namespace vkhid::sev
