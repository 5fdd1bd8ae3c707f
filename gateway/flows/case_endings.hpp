// Cases that end before an answer (issue 30): returned to the applicant because the appeal lacks what
// the law requires (Law 393 art. 5), or withdrawn by the applicant. Each is a status change through the
// domain state machine, with its event, its evidence entry, the applicant's notice and — when a
// participant has the case — a notice to that participant, so its EDMS stops work on it.
#pragma once

#include <string>

#include "gateway/domain/error.hpp"
#include "gateway/flows/context.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::flows {

// A return: why, and the article of the law it rests on (both required, both shown to the applicant).
struct ReturnGround {
  std::string article;  // e.g. "ст. 5 Закону № 393/96-ВР"
  std::string reason;   // what the appeal lacks, in words for the applicant
};

// The outcome of a withdrawal by tracking code.
struct Withdrawal {
  std::string case_id, ucc_number;
  bool repeated = false;  // the case was withdrawn already: nothing more was done
};

class CaseEndings {
 public:
  explicit CaseEndings(ExchangeContext& context) : context_(context) {}

  // The UCC returns case `case_id` (its own transaction). Refused: a case that is answered or ended
  // (`case.not_now`), a kind other than an appeal (`case.return_not_for_kind`), no article or reason.
  Status returnByUcc(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                     const ReturnGround& ground);

  // The applicant withdraws the case whose tracking code a channel passes on (its own transaction).
  // A repeat is answered as the first; an answered or otherwise ended case is refused (`case.not_now`);
  // an unknown code is `case.unknown`.
  Result<Withdrawal> withdraw(store::PgConnection& db, const std::string& tracking_code, const std::string& actor,
                              const std::string& reason);

  // The UCC decides the case is not considered (Law 393 art. 8: a repeat on a question already decided,
  // an anonymous appeal, a complaint filed late …), citing the article (its own transaction). A likely
  // repeat's earlier case is recorded with it. Refused as returnByUcc is, for any kind.
  Status notConsidered(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                       const ReturnGround& ground);

  // Inside the caller's transaction, the case locked (`c`): the case ends `returned`. The return is
  // judged against the 10-day term (Law 393 art. 5) from the receipt; a participant other than the
  // one returning it (`by_participant`) is told.
  Status applyReturn(store::PgConnection& db, const store::EndingCaseRow& c, const std::string& actor,
                     const ReturnGround& ground, const std::string& by_participant = {});

 private:
  // A person at the UCC ends the case by `event` (its own transaction), after checking the ground.
  Status endByUcc(store::PgConnection& db, const std::string& case_id, const std::string& actor,
                  const ReturnGround& ground, domain::CaseEvent event);
  // The case ends by `event` (Returned, NotConsidered): the event with the article and reason, its timers
  // cancelled, the applicant notified, the participant that holds it (other than `by_participant`) told.
  Status endEarly(store::PgConnection& db, const store::EndingCaseRow& c, domain::CaseEvent event,
                  const std::string& actor, const ReturnGround& ground, const std::string& by_participant);
  // A mass appeal's first case `ended` unanswered: its members are not left waiting. The earliest goes on
  // as a case of its own (its term from its own receipt, routed like a new case) and the others join it.
  Status carryOnGroup(store::PgConnection& db, const std::string& ended, const std::string& actor);
  // A signed notice of `kind` to the participant that has the case, queued for delivery.
  Status noticeToParticipant(store::PgConnection& db, const store::EndingCaseRow& c, const std::string& kind,
                             const ReturnGround* ground);
  ExchangeContext& context_;
};

}  // namespace vkhid::flows
