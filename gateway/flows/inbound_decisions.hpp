// What a participant's notice does, and whether a package is new, decided from what the store holds
// before anything is written. The inbound flow (inbound.cpp, inbound_apply.cpp) carries the decisions
// out; the unit tests hold the rows in memory.
#pragma once

#include <optional>
#include <string>

#include "gateway/domain/case_status.hpp"
#include "gateway/domain/kyiv_time.hpp"
#include "gateway/sev/model.hpp"
#include "gateway/store/inbound_rows.hpp"

namespace vkhid::flows {

// A package under a msg_id: never seen, the same bytes again, or other bytes under a known id.
enum class Repeat { None, SameBytes, OtherBytes };
// A msg_id that is no UUID is never looked up: the package is refused for it later.
Result<Repeat> decideRepeat(store::InboundRows& rows, const std::string& msg_id, const std::string& sha256);

struct NoticeDecision {
  enum class Kind {
    Refuse,          // `refusal`: not a case of this participant's, a forward of a case that cannot move, or no date
    Forward,         // not in its competence: the case leaves it, for `competent_org_id` (empty: none named)
    Extend,          // an extension to `new_due`, to be judged against the legal cap (judgeExtension)
    Return,          // returned to the applicant with `reason` under `article` (Law 393 art. 5)
    NoFurtherStudy,  // the appeal needs no further study: its term becomes 15 days (Law 393 art. 20)
  };
  Kind kind = Kind::Refuse;
  std::optional<Error> refusal;
  std::string case_id;                                     // all but an unknown case's Refuse
  domain::CaseStatus from = domain::CaseStatus::Received;  // the case's status, when found
  std::string competent_org_id;
  domain::Instant new_due{};
  std::string reason, article;  // Return
};

// Our notice expansion from `peer_org_id`: a forward to the competent body, an extension of the term, or
// a return to the applicant. A withdrawal is the UCC's to send, never a participant's: refused.
Result<NoticeDecision> decideNotice(store::InboundRows& rows, const std::string& peer_org_id,
                                    const sev::NoticeExpansion& n);

}  // namespace vkhid::flows
