#include "gateway/flows/receipt_decision.hpp"

#include <cctype>

#include "gateway/domain/text.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::flows {

std::string competentBodyOf(const sev::Header& h) {
  if (h.expansion && h.expansion->notice && h.expansion->notice->competent_org_id) {
    return *h.expansion->notice->competent_org_id;
  }
  if (!h.acknowledgement || h.acknowledgement->results.empty()) return {};
  const std::string& text = h.acknowledgement->results.front().errortext;
  std::string found;
  int codes = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i == 8) {
      found = text.substr(i, 8);
      ++codes;
    }
    i = j;
  }
  return codes == 1 ? found : std::string();
}

Result<ReceiptDecision> decideReceipt(store::ReceiptRepository& store, const std::string& peer_org_id,
                                      const sev::Header& h) {
  using Kind = ReceiptDecision::Kind;
  const auto& ack = *h.acknowledgement;
  ReceiptDecision d;
  auto ours = store.ourMessage(ack.msg_id, peer_org_id);
  if (!ours) return ours.error();
  if (!*ours) {
    d.refusal = sev::sevError(sev::SevError::ReferenceMismatch, "Acknowledgement msg_id " + ack.msg_id);
    return d;
  }
  if (ack.ack_type == 3 && ack.reg_number && !isRegistrationNumber(ack.reg_number->value)) {
    d.refusal = sev::sevError(sev::SevError::BadValue,
                              "RegNumber: expected 1 to 64 letters, digits, spaces and the separators / - . _ , : ( ) "
                              "№");
    return d;
  }
  d.case_id = (*ours)->case_id;
  d.kind = Kind::OfNoCase;
  if ((*ours)->msg_type != 1 || d.case_id.empty()) return d;

  auto row = store.lockCase(d.case_id);
  if (!row) return row.error();
  d.kind = Kind::UnknownCase;
  if (!*row) return d;
  d.from = (*row)->status;
  d.reg_number = ack.ack_type == 3 && ack.reg_number ? ack.reg_number->value : std::string();
  d.kind = Kind::MovedOn;
  if ((*row)->participant_org_id != peer_org_id) return d;

  auto effect = domain::receiptEffect(d.from, ack.ack_type, (*row)->participant_reg_number, d.reg_number);
  if (effect.kind == domain::ReceiptEffect::Kind::Conflict) {
    d.kind = Kind::Conflict;
    d.conflict = effect.why;
  } else if (effect.kind == domain::ReceiptEffect::Kind::Record) {
    d.kind = Kind::Late;
  } else if (ack.ack_type == 4 && !ack.results.empty() &&
             ack.results.front().errorcode == static_cast<int>(sev::SevError::NotInCompetence)) {
    d.kind = Kind::Forward;
    d.competent_org_id = competentBodyOf(h);
  } else {
    d.kind = Kind::Apply;
  }
  return d;
}

}  // namespace vkhid::flows
