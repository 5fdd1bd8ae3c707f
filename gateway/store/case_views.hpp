// What the intake's clients and the citizens read of a case (DESIGN §7): the read side of the cases
// repository, by named rows. Times as the API shows them; a due time as seconds since the epoch (0: none).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/store/cases.hpp"
#include "gateway/store/pg.hpp"

namespace vkhid::store {

// The next UCC number of this year in Kyiv, and today's date there.
struct UccNumberRow {
  std::string year;
  long long number = 0;
  std::string today;     // YYYY-MM-DD
  std::string received;  // `received_at` (ISO 8601; empty: now) as a new case's row keeps it, in UTC
};
Result<UccNumberRow> nextUccNumber(PgConnection& db, const std::string& received_at = {});
// A case `c`'s group, for a select list: its members' ids and tracking codes (`member_ids`,
// `member_codes`), each an array in the order received; and the members so read.
extern const char* const kMembersOf;
std::vector<MemberRow> membersOf(std::string_view ids, std::string_view codes);

// The same asked ahead (PgConnection::ask): drawn with the transaction's next exchange, and given to
// nextUccNumber with the same `received_at` without one of its own.
void askNextUccNumber(PgConnection& db, const std::string& received_at);
// The row lockCaseForRouting reads of `c` once insertRegisteredCase has written it, without reading it:
// its registration's day and time of receipt as nextUccNumber gave them, the rest from the record, with
// the topic and a complaint's subject as the caller parsed them from its body (which the kept body keeps
// as they were). For routing a new case in the transaction that registers it.
RoutingCaseRow newCaseRoutingRow(const NewCaseRecord& c, const UccNumberRow& n, const std::string& topic,
                                 const std::string& complained_of);

// A case a client registered under an idempotency key.
struct IdempotentCaseRow {
  std::string id, ucc_number, tracking_code, request_sha256;
};
Result<std::optional<IdempotentCaseRow>> caseByIdempotencyKey(PgConnection& db, const std::string& client_id,
                                                              const std::string& key);

// A case as the client that registered it sees it.
struct ClientCaseRow {
  std::string id, ucc_number, tracking_code, kind, status;
  std::optional<std::string> participant_org_id, participant_reg_number, participant_reg_date;
  bool answer_available = false;
  std::optional<long long> rejection_code;
  std::string rejection_text;
  long long due_epoch = 0;
  bool overdue = false;
};
Result<std::optional<ClientCaseRow>> clientCase(PgConnection& db, const std::string& case_id,
                                                const std::string& client_id);

// The case's history, oldest first.
struct CaseEventRow {
  std::string at, actor, event, from, to;
  std::string detail;  // JSON
};
Result<std::vector<CaseEventRow>> caseHistory(PgConnection& db, const std::string& case_id);

// The answer of a case the client registered, as it came, with what its signatures are judged by.
struct StoredAnswerRow {
  std::string bytes, seal_verdict, msg_id;
  std::string trust_pem, trust_list;  // the answering participant's
  std::string signatures;             // the verdicts recorded on arrival (JSON); empty: none
};
Result<std::optional<StoredAnswerRow>> clientAnswer(PgConnection& db, const std::string& case_id,
                                                    const std::string& client_id);

// A case as its tracking code shows it to the applicant.
struct TrackedCaseRow {
  std::string kind, status, registered_on;
  long long due_epoch = 0;
  bool overdue = false, extended = false;
  std::string participant_org_id, participant_name;  // empty: none yet
  bool answer_available = false, restricted = false;
  std::string updated_at;
  int rating = 0;                    // the applicant's score, 1–5; 0: not rated
  bool answered_with_group = false;  // a mass appeal's member whose group was answered
};
Result<std::optional<TrackedCaseRow>> trackedCase(PgConnection& db, const std::string& tracking_code);

// Whether the case — or the case of our package `msg_id` — is restricted (violence, trafficking); false
// for none.
Result<bool> caseIsRestricted(PgConnection& db, const std::string& case_id);
Result<bool> packageCaseIsRestricted(PgConnection& db, const std::string& msg_id);

}  // namespace vkhid::store
