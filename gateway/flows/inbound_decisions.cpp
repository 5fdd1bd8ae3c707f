#include "gateway/flows/inbound_decisions.hpp"

#include "gateway/domain/text.hpp"
#include "gateway/sev/errors.hpp"

namespace vkhid::flows {

Result<Repeat> decideRepeat(store::InboundRows& rows, const std::string& msg_id, const std::string& sha256) {
  if (!isUuid(msg_id)) return Repeat::None;
  auto earlier = rows.earlierDigest(msg_id);
  if (!earlier) return earlier.error();
  if (!*earlier) return Repeat::None;
  return **earlier == sha256 ? Repeat::SameBytes : Repeat::OtherBytes;
}

Result<NoticeDecision> decideNotice(store::InboundRows& rows, const std::string& peer_org_id,
                                    const sev::NoticeExpansion& n) {
  NoticeDecision d;
  auto c = rows.lockCase(n.case_id, peer_org_id);
  if (!c) return c.error();
  if (!*c) {
    d.refusal = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id);
    return d;
  }
  d.case_id = n.case_id;
  d.from = (*c)->status;
  if (n.kind == "forwarding") {
    // An answered or closed case is not forwarded: the notice is refused, the case left as it is.
    if (auto t = domain::transition(d.from, domain::CaseEvent::Forwarded); !t.allowed) {
      d.refusal = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id + ": " + t.why);
      return d;
    }
    d.kind = NoticeDecision::Kind::Forward;
    d.competent_org_id = n.competent_org_id.value_or("");
    return d;
  }
  if (n.kind == "withdrawal") {
    d.refusal = sev::sevError(sev::SevError::BadAttribute,
                              "Notice/@kind: a withdrawal comes from the applicant through the UCC, not a participant");
    return d;
  }
  if (n.kind == "return") {
    if (auto t = domain::transition(d.from, domain::CaseEvent::Returned); !t.allowed) {
      d.refusal = sev::sevError(sev::SevError::ReferenceMismatch, "notice for case " + n.case_id + ": " + t.why);
      return d;
    }
    d.reason = n.reason.value_or("");
    d.article = n.article.value_or("");
    if (d.reason.empty() || d.article.empty()) {
      d.refusal = sev::sevError(sev::SevError::BadAttribute,
                                "Notice: a return needs its Reason and @article (the law's requirement it fails)");
      return d;
    }
    d.kind = NoticeDecision::Kind::Return;
    return d;
  }
  if (n.kind == "no_further_study") {
    if (domain::isFinal(d.from) || d.from == domain::CaseStatus::Answered) {
      d.refusal = sev::sevError(sev::SevError::ReferenceMismatch,
                                "notice for case " + n.case_id + ": it is " + domain::caseStatusName(d.from));
      return d;
    }
    d.kind = NoticeDecision::Kind::NoFurtherStudy;
    return d;
  }
  auto new_due = n.new_due ? domain::parseInstant(*n.new_due) : std::nullopt;
  if (!new_due) {
    d.refusal = sev::sevError(sev::SevError::BadAttribute, "Notice/@new_due: a date-time is required");
    return d;
  }
  d.kind = NoticeDecision::Kind::Extend;
  d.new_due = *new_due;
  return d;
}

}  // namespace vkhid::flows
