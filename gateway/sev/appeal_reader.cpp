#include "gateway/sev/appeal_reader.hpp"

#include <map>

#include "gateway/sev/errors.hpp"

namespace vkhid::sev {

std::string mediaTypeOfTransfer(const std::string& type) {
  static const std::map<std::string, std::string> known{
      {"txt", "text/plain"},
      {"pdf", "application/pdf"},
      {"xml", "application/xml"},
      {"html", "text/html"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"png", "image/png"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"rtf", "application/rtf"},
      {"p7s", "application/pkcs7-signature"},
  };
  std::string lower;
  for (char ch : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = known.find(lower);
  return it == known.end() ? "application/octet-stream" : it->second;
}

namespace {

// The applicant: the first private person among the authors; none means an anonymous appeal.
domain::Applicant applicantOf(const Document& d, const AppealExpansion* x) {
  domain::Applicant applicant;
  const PrivatePerson* person = nullptr;
  for (const auto& a : d.authors) {
    if (const auto* p = std::get_if<PrivatePerson>(&a.party)) {
      person = p;
      break;
    }
  }
  if (person == nullptr || (x != nullptr && x->anonymous.value_or("") == "true")) {
    applicant.anonymous = true;
  } else {
    applicant.surname = person->name.secname.value_or("");
    applicant.first_name = person->name.firstname.value_or("");
    applicant.patronymic = person->name.fathersname.value_or("");
    if (applicant.surname.empty()) {
      // Only the full name as text: the first word is the surname, the rest the given names.
      const std::string& t = person->name.text;
      auto sp = t.find(' ');
      applicant.surname = t.substr(0, sp);
      applicant.first_name = sp == std::string::npos ? std::string("-") : t.substr(sp + 1);
    }
    if (applicant.first_name.empty()) applicant.first_name = "-";
    if (person->address) applicant.address = person->address->text;
    for (const auto& e : person->econtacts) {
      std::string type = e.type.value_or("");
      if (type == "п" && e.value.find('@') != std::string::npos && applicant.email.empty()) {
        applicant.email = e.value;
      } else if ((type == "м" || type == "р" || type == "д" || type == "ф") && applicant.phone.empty()) {
        applicant.phone = e.value;
      }
    }
  }
  return applicant;
}

}  // namespace

Result<domain::Case> caseFromAppealPackage(const Header& h) {
  if (!h.document) return sevError(SevError::ElementMissing, "Document: an appeal package needs one");
  const Document& d = *h.document;
  const AppealExpansion* x = h.expansion && h.expansion->appeal ? &*h.expansion->appeal : nullptr;
  domain::Case c;

  std::optional<domain::CaseKind> kind;
  if (x != nullptr) kind = domain::caseKindFromName(x->kind);
  if (!kind) {
    if (d.attrs.kind.value_or("").find("Запит на публічну інформацію") != std::string::npos) {
      kind = domain::CaseKind::InfoRequest;
    } else if (d.attrs.kind.value_or("").find("насильств") != std::string::npos) {
      kind = domain::CaseKind::ViolenceReport;
    } else {
      kind = domain::CaseKind::Appeal;
    }
  }
  c.kind = *kind;

  c.applicant = applicantOf(d, x);
  c.applicant.collective = x != nullptr && x->collective.value_or("") == "true";
  if (x != nullptr && x->consent) {
    c.consent = {x->consent->disclose_identity, x->consent->process_personal_data};
  } else {
    // The body that received it sends the name on; the applicant's consent covers the competent body.
    c.consent = {!c.applicant.anonymous, !c.applicant.anonymous};
  }
  if (x != nullptr && x->classification) {
    const auto& k = *x->classification;
    c.classification = {k.form_of_receipt, k.sign, k.type, k.subject, k.applicant_category, k.social_status, k.topic};
  }

  bool have_text = false;
  for (const auto& t : d.transfers) {
    if (!have_text && t.type == "txt") {
      c.text = t.content;
      have_text = true;
      continue;
    }
    c.attachments.push_back(
        {t.description.empty() ? t.idnumber + "." + t.type : t.description, mediaTypeOfTransfer(t.type), t.content});
  }
  if (!have_text) c.text = d.attrs.title.value_or("");
  if (c.text.empty()) {
    return sevError(SevError::ElementMissing, "DocTransfer: the appeal's text (a txt transfer or a title) is missing");
  }
  if (d.attrs.urgent.value_or("") == "1") c.urgency = domain::Urgency::Urgent;
  if (x != nullptr) {
    if (x->urgency == "threat_to_life") c.urgency = domain::Urgency::ThreatToLife;
    c.priority = x->priority.value_or("") == "true";
    if (!x->received_at.empty()) c.received_at = x->received_at;
  }
  if (c.received_at.empty()) c.received_at = h.time;
  return c;
}

}  // namespace vkhid::sev
