// A case: one appeal, public-information request or violence report, as the UCC registered it
// (DESIGN §4). Pure data; the store persists it, the codec packages it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vkhid::domain {

enum class CaseKind { Appeal, InfoRequest, ViolenceReport };

const char* caseKindName(CaseKind k);  // "appeal", "info_request", "violence_report"
std::optional<CaseKind> caseKindFromName(const std::string& name);

struct Applicant {
  bool anonymous = false;
  bool collective = false;
  std::string surname, first_name, patronymic;
  std::string address, email, phone;
};

struct Consent {
  bool disclose_identity = false;  // Law 393 art. 10: may the name go to the participant
  bool process_personal_data = false;
  std::string notify = "none";  // the applicant's notices about the case: none, email or sms (issue 27)
};

// Класифікатор звернень (Постанова КМУ 858/2008): codes are data (config), never constants.
struct ClassificationCodes {
  std::optional<std::string> form_of_receipt, sign, type, subject, applicant_category, social_status, topic;
};

struct Attachment {
  std::string file_name;
  std::string media_type;
  std::string content;  // the bytes
};

struct Deadline {
  std::string kind;  // answer, forward, …
  std::string due;   // ISO 8601 with offset
  std::string rule;  // legal citation
};

// A violence report's facts for the journal of annex 6 to the Procedure of CMU resolution No 658
// (flows/violence_journal.hpp): the forms of violence (Law 2229-VIII art. 1: physical, sexual,
// psychological, economic), who suffered it and who committed it, as the report gave them.
struct ViolenceFacts {
  std::vector<std::string> forms;
  std::string victim, offender;  // free text: name, age, where they live, as told
  bool child_involved = false;   // a child suffered or saw it: the children's service is told too (п. 39)
};

enum class Urgency { None, Urgent, ThreatToLife };
const char* urgencyName(Urgency u);  // "none", "urgent", "threat_to_life"

struct Case {
  std::string id;             // UUID
  std::string ucc_number;     // e.g. УКЦ-2026-0000123
  std::string registered_on;  // YYYY-MM-DD (Kyiv date)
  CaseKind kind = CaseKind::Appeal;
  Applicant applicant;
  Consent consent;
  ClassificationCodes classification;
  std::string text;
  std::vector<Attachment> attachments;
  std::string channel;      // web, hotline, email, post, participant:<org_id>, …
  std::string received_at;  // ISO 8601 UTC
  Urgency urgency = Urgency::None;
  bool priority = false;  // art. 20 of Law 393: served first
  // An appeal the UCC classified as needing no further study: answered without delay, within 15 days
  // (Law 393 art. 20) instead of a month.
  bool no_further_study = false;
  std::string addressee_org_id;
  // A complaint's subject: the body whose decision or act it complains of. Law 393 art. 7 forbids
  // sending the complaint there: routing never chooses it, whatever a rule or the addressee says.
  std::string complained_of_org_id;
  // Minutes a person spent taking the case in (an operator's call, a letter's entry), as the channel
  // recorded them: the cost per appeal counts them (config/costs.toml). 0: not recorded.
  int handling_minutes = 0;
  ViolenceFacts violence;  // a violence report only
  std::vector<Deadline> deadlines;

  // Violence and trafficking reports are restricted (Confident flag 1, minimum data, role-limited).
  bool restricted() const { return kind == CaseKind::ViolenceReport; }
};

}  // namespace vkhid::domain
