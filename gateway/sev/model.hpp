// The SEV OVV 1.5 message as typed values: every zone, element and attribute of the format
// (schemas/sev-ovv-1.5.xsd), plus Vkhid's expansion. Values, not XML: comparable, copyable, pure.
// Optional attributes are std::optional so that what was absent stays absent on the way back out;
// integer-typed attributes that are identifiers (ogrn, inn) stay strings so "00000003" survives.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vkhid::sev {

using Opt = std::optional<std::string>;

// ---- building blocks ----

struct Address {
  std::string text;
  Opt street, house, building, flat, settlement, district, region, country, postcode, postbox, nontypical;
  bool operator==(const Address&) const = default;
};

struct Econtact {
  std::string value;
  Opt type;  // р д м ф п і s c
  bool operator==(const Econtact&) const = default;
};

struct Name {
  std::string text;
  Opt secname, firstname, fathersname;
  bool operator==(const Name&) const = default;
};

struct Official {
  std::string text;
  Opt department, post, separator;
  bool operator==(const Official&) const = default;
};

struct Rank {
  std::string text;
  Opt privilege, socialposition, sex;
  bool operator==(const Rank&) const = default;
};

struct RegNumber {
  std::string value;
  std::string regdate;  // xs:date
  Opt regpoint;
  bool operator==(const RegNumber&) const = default;
};

struct TaskNumber {
  std::string value;
  std::string task_date;
  bool operator==(const TaskNumber&) const = default;
};

struct Confident {
  std::string text;
  int flag = 0;
  bool operator==(const Confident&) const = default;
};

struct OfficialPerson {
  Name name;
  std::vector<Official> officials;
  std::vector<Rank> ranks;
  std::optional<Address> address;
  std::vector<Econtact> econtacts;
  Opt sign_date;  // only in the _Sign variants
  bool operator==(const OfficialPerson&) const = default;
};

struct Organization {
  std::optional<Address> address;
  std::vector<Econtact> econtacts;
  std::vector<OfficialPerson> official_persons;
  Opt fullname, shortname, ownership;
  std::string ogrn;  // the EDRPOU code
  Opt inn;
  bool operator==(const Organization&) const = default;
};

struct PrivatePerson {
  Name name;
  std::vector<Rank> ranks;
  std::optional<Address> address;
  std::vector<Econtact> econtacts;
  Opt sign_date;
  Opt inn, pas_ser, pas_num, pas_org, pas_date;
  bool operator==(const PrivatePerson&) const = default;
};

// xs:choice minOccurs="0" between Organization and PrivatePerson.
using Party = std::variant<std::monostate, Organization, PrivatePerson>;

struct DocNumber {
  std::optional<Organization> organization;
  RegNumber reg_number;
  std::string kind;
  bool operator==(const DocNumber&) const = default;
};

// A file: the decoded bytes, not the base64 text.
struct DocTransfer {
  std::string content;
  Opt os;
  std::string type;  // file type, e.g. "pdf", "txt"
  Opt type_ver, char_set;
  std::string description;  // usually the file name
  std::string idnumber;
  bool operator==(const DocTransfer&) const = default;
};

struct Reghistory {
  std::optional<Organization> organization;
  RegNumber reg_number;
  Opt idnumber;
  bool operator==(const Reghistory&) const = default;
};

struct Referred {
  std::variant<RegNumber, TaskNumber> number;
  Opt idnumber;
  std::string retype;  // "д" document, "з" task
  bool operator==(const Referred&) const = default;
};

// ---- Document ----

struct Author {
  Party party;
  std::optional<RegNumber> out_number;
  bool operator==(const Author&) const = default;
};

struct Validator {
  Party party;
  std::optional<DocNumber> doc_number;
  std::string attestation;
  bool operator==(const Validator&) const = default;
};

struct Addressee {
  Party party;
  std::vector<Referred> referred;
  int type = 0;
  bool operator==(const Addressee&) const = default;
};

struct Writer {
  Party party;
  bool operator==(const Writer&) const = default;
};

struct Approver {
  Party party;
  std::vector<std::string> referred_approvers;  // ReferredApprover/@idnumber
  std::string idnumber;
  std::string deadline;
  bool operator==(const Approver&) const = default;
};

struct InitiativeDocumentSender {
  Party party;
  std::vector<Referred> referred;  // exactly two
  bool operator==(const InitiativeDocumentSender&) const = default;
};

struct ApprovalRequest {
  std::optional<InitiativeDocumentSender> sender;
  std::vector<Approver> approvers;
  bool operator==(const ApprovalRequest&) const = default;
};

struct ApprovalResponse {
  std::string attestation;
  Opt comment;
  bool operator==(const ApprovalResponse&) const = default;
};

using Approval = std::variant<ApprovalRequest, ApprovalResponse>;

struct DocumentAttributes {
  std::string idnumber;
  int type = 0;
  Opt kind, idnumber_ext, pages, title, annotation, collection;
  int purpose_type = 0;  // 0 information, 1 approval, 2 generalisation, 3 execution, 4 reporting, …
  Opt urgent;            // "0" / "1"
  bool operator==(const DocumentAttributes&) const = default;
};

struct Document {
  DocumentAttributes attrs;
  RegNumber reg_number;
  Confident confident;
  std::optional<DocNumber> doc_number;
  std::vector<DocTransfer> transfers;
  std::vector<Reghistory> reghistory;
  std::vector<Author> authors;
  std::vector<Validator> validators;
  std::vector<Addressee> addressees;
  std::optional<Writer> writer;
  std::optional<Approval> approval;
  bool operator==(const Document&) const = default;
};

// ---- TaskList ----

struct Executor {
  Organization organization;
  Opt responsible, task_specified;
  std::string deadline;
  bool operator==(const Executor&) const = default;
};

struct Task {
  TaskNumber task_number;
  Confident confident;
  std::vector<Referred> referred;
  std::vector<Organization> authors;
  std::vector<DocTransfer> transfers;
  std::vector<Executor> executors;
  std::string idnumber;
  int task_reg = 0;
  int task_copy = 0;
  Opt kind;
  std::string task_text;
  Opt deadline;
  int referred_control = 0;
  bool operator==(const Task&) const = default;
};

struct TaskList {
  std::vector<Task> tasks;
  bool operator==(const TaskList&) const = default;
};

// ---- AddDocuments ----

struct DocumentLink {
  std::optional<RegNumber> reg_number;
  DocumentAttributes attrs;
  bool operator==(const DocumentLink&) const = default;
};

struct Folder {
  std::vector<DocTransfer> transfers;
  std::vector<std::string> notes;
  std::vector<DocumentLink> documents;
  int add_type = 0;
  bool operator==(const Folder&) const = default;
};

struct AddDocuments {
  std::vector<Folder> folders;
  bool operator==(const AddDocuments&) const = default;
};

// ---- Expansion ----

// One detached signature of one DocTransfer (SEV OVV puts DSTU 4145 CMS here; Vkhid puts CAdES-BES).
struct SignInfo {
  std::optional<std::string> certificate_data;  // DER bytes
  Opt signing_time;
  std::string sign_data;  // DER bytes of the CMS SignedData
  std::string doc_transfer_idnumber;
  bool operator==(const SignInfo&) const = default;
};

// Vkhid's expansion (schemas/vkhid-appeal-1.xsd, namespace urn:vkhid:appeal:1).
inline constexpr const char* kAppealNs = "urn:vkhid:appeal:1";

struct Classification {
  Opt form_of_receipt, sign, type, subject, applicant_category, social_status, topic;
  bool operator==(const Classification&) const = default;
};

struct DeadlineInfo {
  std::string kind;  // answer, forward, …
  std::string due;   // xs:dateTime with offset
  std::string rule;  // the legal citation
  bool operator==(const DeadlineInfo&) const = default;
};

struct Consent {
  bool disclose_identity = false;
  bool process_personal_data = false;
  bool operator==(const Consent&) const = default;
};

struct AppealExpansion {
  std::string kind;  // appeal | info_request | violence_report
  std::string case_id;
  std::string channel;
  std::string received_at;
  bool restricted = false;
  Opt priority;  // "true"/"false" as written
  Opt urgency;   // none | urgent | threat_to_life
  Opt anonymous, collective;
  std::optional<Classification> classification;
  std::vector<DeadlineInfo> deadlines;
  std::optional<Consent> consent;
  bool operator==(const AppealExpansion&) const = default;
};

struct NoticeExpansion {
  std::string kind;  // extension | forwarding | return | withdrawal
  std::string case_id;
  Opt ref_msg_id, new_due, competent_org_id;
  Opt reason;
  Opt article;  // return: the article of the law it rests on
  bool operator==(const NoticeExpansion&) const = default;
};

struct Expansion {
  std::vector<Econtact> econtacts;
  std::vector<SignInfo> sign_infos;
  std::optional<AppealExpansion> appeal;
  std::optional<NoticeExpansion> notice;
  // Any other element an EDMS put here, serialised as it came (kept so nothing is lost).
  std::vector<std::string> other_xml;
  // The package seal (ds:Signature), serialised as it came; verification works on the original bytes.
  std::optional<std::string> seal_xml;
  std::string organization;
  std::string exp_ver;
  bool operator==(const Expansion&) const = default;
};

// ---- Acknowledgement ----

enum class AckType : int { Delivered = 1, Accepted = 2, Registered = 3, Rejected = 4, Other = 5 };

struct AckResult {
  int errorcode = 0;
  std::string errortext;
  bool operator==(const AckResult&) const = default;
};

struct Acknowledgement {
  std::optional<RegNumber> reg_number;
  std::vector<AckResult> results;
  std::optional<DocTransfer> transfer;
  std::string msg_id;  // the message acknowledged
  int ack_type = 1;
  bool operator==(const Acknowledgement&) const = default;
};

// ---- the envelope ----

enum class MsgType : int { Notification = 0, Document = 1, Additions = 2, Reply = 3, ReplyAdditions = 4 };

struct Header {
  std::string standart = "1207";
  std::string version = "1.5";
  std::string charset = "UTF-8";
  std::string time;  // xs:dateTime
  int msg_type = 0;
  std::string msg_id;
  std::optional<int> msg_acknow;  // absent means 0
  std::string from_org_id, from_organization;
  Opt from_department;
  std::string from_sys_id, from_system;
  Opt from_system_details;
  std::string to_org_id, to_organization;
  Opt to_department;
  std::string to_sys_id, to_system;
  Opt to_system_details;

  std::optional<Document> document;
  std::optional<TaskList> task_list;
  std::optional<AddDocuments> add_documents;
  std::optional<Expansion> expansion;
  std::optional<Acknowledgement> acknowledgement;

  bool operator==(const Header&) const = default;
};

}  // namespace vkhid::sev
