#include "gateway/sev/builders.hpp"

namespace vkhid::sev {
namespace {

Header envelope(const Envelope& env, MsgType type, int acknow) {
  Header h;
  h.time = env.time;
  h.msg_type = static_cast<int>(type);
  h.msg_id = env.msg_id;
  h.msg_acknow = acknow;
  h.from_org_id = env.from.org_id;
  h.from_organization = env.from.organization;
  h.from_sys_id = env.from.sys_id;
  h.from_system = env.from.system;
  h.from_system_details = "vkhid/1";
  h.to_org_id = env.to.org_id;
  h.to_organization = env.to.organization;
  h.to_sys_id = env.to.sys_id;
  h.to_system = env.to.system;
  return h;
}

Organization organizationOf(const EnvelopeParty& p) {
  Organization o;
  o.fullname = p.organization;
  o.shortname = p.organization;
  o.ogrn = p.org_id;
  return o;
}

Expansion vkhidExpansion() {
  Expansion e;
  e.organization = "Урядовий контактний центр";
  e.exp_ver = "vkhid/1";
  return e;
}

const char* documentKind(domain::CaseKind k) {
  switch (k) {
    case domain::CaseKind::Appeal: return "Звернення громадянина";
    case domain::CaseKind::InfoRequest: return "Запит на публічну інформацію";
    case domain::CaseKind::ViolenceReport: return "Повідомлення про насильство";
  }
  return "Звернення громадянина";
}

DocTransfer textTransfer(const std::string& idnumber, const std::string& description, const std::string& text) {
  DocTransfer t;
  t.content = text;
  t.type = "txt";
  t.char_set = "UTF-8";
  t.description = description;
  t.idnumber = idnumber;
  return t;
}

DocTransfer fileTransfer(const std::string& idnumber, const domain::Attachment& a) {
  DocTransfer t;
  t.content = a.content;
  t.type = transferTypeOf(a.file_name);
  t.description = a.file_name;
  t.idnumber = idnumber;
  return t;
}

// Least data to each participant (Law on Personal Data Protection; Law 393 art. 10): no identity
// without consent or for an anonymous appeal; a restricted case never carries contacts.
Author applicantAuthor(const domain::Case& c) {
  Author author;
  if (c.applicant.anonymous || !c.consent.disclose_identity) return author;
  PrivatePerson p;
  p.name.secname = c.applicant.surname;
  p.name.firstname = c.applicant.first_name;
  if (!c.applicant.patronymic.empty()) p.name.fathersname = c.applicant.patronymic;
  p.name.text = c.applicant.surname + " " + c.applicant.first_name +
                (c.applicant.patronymic.empty() ? "" : " " + c.applicant.patronymic);
  if (!c.restricted()) {
    if (!c.applicant.address.empty())
      p.address = Address{c.applicant.address, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    if (!c.applicant.email.empty()) p.econtacts.push_back({c.applicant.email, "п"});
    if (!c.applicant.phone.empty()) p.econtacts.push_back({c.applicant.phone, "м"});
  }
  author.party = std::move(p);
  return author;
}

}  // namespace

std::string transferTypeOf(const std::string& file_name) {
  auto dot = file_name.rfind('.');
  if (dot == std::string::npos || dot + 1 == file_name.size()) return "bin";
  std::string ext = file_name.substr(dot + 1);
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext;
}

Header buildAppealPackage(const domain::Case& c, const Envelope& env) {
  Header h = envelope(env, MsgType::Document, 2);
  Document d;
  d.attrs.idnumber = c.id;
  d.attrs.type = 0;
  d.attrs.kind = documentKind(c.kind);
  d.attrs.title = documentKind(c.kind);
  d.attrs.purpose_type = 3;  // на виконання
  d.attrs.urgent = c.urgency == domain::Urgency::None ? "0" : "1";
  d.reg_number = {c.ucc_number, c.registered_on, std::nullopt};
  d.confident = {c.restricted() ? "Обмежений доступ" : "", c.restricted() ? 1 : 0};
  d.transfers.push_back(textTransfer("1", std::string(documentKind(c.kind)) + " " + c.ucc_number + ".txt", c.text));
  for (std::size_t i = 0; i < c.attachments.size(); ++i) {
    d.transfers.push_back(fileTransfer(std::to_string(i + 2), c.attachments[i]));
  }
  d.authors.push_back(applicantAuthor(c));
  Addressee to;
  to.party = organizationOf(env.to);
  d.addressees.push_back(std::move(to));
  h.document = std::move(d);

  Expansion e = vkhidExpansion();
  AppealExpansion a;
  a.kind = domain::caseKindName(c.kind);
  a.case_id = c.id;
  a.channel = c.channel;
  a.received_at = c.received_at;
  a.restricted = c.restricted();
  a.priority = c.priority ? "true" : "false";
  a.urgency = domain::urgencyName(c.urgency);
  if (c.applicant.anonymous) a.anonymous = "true";
  if (c.applicant.collective) a.collective = "true";
  const auto& k = c.classification;
  if (k.form_of_receipt || k.sign || k.type || k.subject || k.applicant_category || k.social_status || k.topic) {
    a.classification =
        Classification{k.form_of_receipt, k.sign, k.type, k.subject, k.applicant_category, k.social_status, k.topic};
  }
  for (const auto& dl : c.deadlines) a.deadlines.push_back({dl.kind, dl.due, dl.rule});
  a.consent = Consent{c.consent.disclose_identity, c.consent.process_personal_data};
  e.appeal = std::move(a);
  h.expansion = std::move(e);
  return h;
}

std::string receiptText(AckType type) {
  switch (type) {
    case AckType::Delivered: return "Повідомлення доставлено без помилок";
    case AckType::Accepted: return "Повідомлення прийнято";
    case AckType::Registered: return "Документ зареєстровано";
    case AckType::Rejected: return "Документ відхилено";
    case AckType::Other: return "";
  }
  return "";
}

Header buildReceipt(const Envelope& env, const std::string& acknowledged_msg_id, AckType type,
                    const std::optional<RegNumber>& registration, const std::optional<Rejection>& rejection) {
  Header h = envelope(env, MsgType::Notification, 0);
  Acknowledgement a;
  a.msg_id = acknowledged_msg_id;
  a.ack_type = static_cast<int>(type);
  if (type == AckType::Registered) a.reg_number = registration;
  if (type == AckType::Rejected && rejection) {
    a.results.push_back({rejection->code, rejection->text});
  } else {
    a.results.push_back({0, receiptText(type)});
  }
  h.acknowledgement = std::move(a);
  return h;
}

Header buildReply(const Envelope& env, const ReplyContent& reply) {
  Header h = envelope(env, MsgType::Reply, 2);
  Document d;
  d.attrs.idnumber = reply.idnumber;
  d.attrs.type = 0;
  d.attrs.kind = "Відповідь на звернення";
  d.attrs.title = "Відповідь на звернення";
  d.attrs.purpose_type = 4;  // звітність: the answer to a document "на виконання"
  d.attrs.urgent = "0";
  d.reg_number = reply.reg_number;
  d.confident = {"", 0};
  d.transfers.push_back(textTransfer("1", "Відповідь " + reply.reg_number.value + ".txt", reply.text));
  for (std::size_t i = 0; i < reply.attachments.size(); ++i) {
    d.transfers.push_back(fileTransfer(std::to_string(i + 2), reply.attachments[i]));
  }
  Author author;
  author.party = organizationOf(env.from);
  author.out_number = reply.reg_number;
  d.authors.push_back(std::move(author));
  Addressee to;
  to.party = organizationOf(env.to);
  to.referred.push_back(Referred{reply.referred, reply.referred_idnumber, "д"});
  d.addressees.push_back(std::move(to));
  h.document = std::move(d);
  h.expansion = vkhidExpansion();
  h.expansion->organization = env.from.organization;
  return h;
}

Header buildAdditions(const Envelope& env, MsgType type, const RegNumber& referred,
                      const std::vector<domain::Attachment>& files, const std::string& note) {
  Header h = envelope(env, type, 2);
  Folder f;
  f.add_type = 0;
  for (std::size_t i = 0; i < files.size(); ++i) f.transfers.push_back(fileTransfer(std::to_string(i + 1), files[i]));
  if (!note.empty()) f.notes.push_back(note);
  DocumentLink link;
  link.reg_number = referred;
  link.attrs.idnumber = referred.value;
  link.attrs.type = 0;
  link.attrs.purpose_type = type == MsgType::Additions ? 3 : 4;
  f.documents.push_back(std::move(link));
  h.add_documents = AddDocuments{{std::move(f)}};
  h.expansion = vkhidExpansion();
  return h;
}

Header buildNotice(const Envelope& env, const NoticeExpansion& notice) {
  Header h = envelope(env, MsgType::Notification, 2);
  Expansion e = vkhidExpansion();
  e.organization = env.from.organization;
  e.notice = notice;
  h.expansion = std::move(e);
  return h;
}

}  // namespace vkhid::sev
