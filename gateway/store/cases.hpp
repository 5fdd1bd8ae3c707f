// The cases repository (DESIGN §5): the rows flows read by name, and the one way a case's status
// changes — `transitionCase` asks domain/case_status whether the event may move the case, and writes the
// new status together with the event it records in the case's history. No other code writes
// cases.status after the case is created.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/domain/case_status.hpp"
#include "gateway/store/pg.hpp"
#include "gateway/store/routes.hpp"

namespace vkhid::store {

// A stored status as the state machine's: one it does not know is an error (`case.bad_status`), never
// guessed.
Result<domain::CaseStatus> caseStatusOf(std::string_view name, const std::string& case_id);

// Appends to a case's history (queued: it travels with the transaction's next statement or its
// COMMIT). `detail_json` carries ids and codes only.
Status recordEvent(PgConnection& db, const std::string& case_id, const std::string& actor, const std::string& event,
                   const std::string& from, const std::string& to, const std::string& detail_json = "{}");

// Columns that change with a status, each a named change the flows ask for.
class CaseFields {
 public:
  // Routed: the participant the case is with now; an administrator's choice is used up.
  static CaseFields assignParticipant(const std::string& org_id);
  // Forwarded: the case leaves `decliner` for good; `addressee` (empty: none) is the competent body.
  static CaseFields leaveParticipant(const std::string& decliner, const std::string& addressee);
  // A receipt's registration number and date, or its rejection; each kept when not given.
  static CaseFields recordReceipt(const PgParam& reg_number, const PgParam& reg_date, const PgParam& rejection_code,
                                  const PgParam& rejection_text);
  // The answer's message.
  static CaseFields recordAnswer(const std::string& msg_id);

  const std::string& sql() const { return sql_; }  // ", col = $3, ..." (parameters from $3)
  const std::vector<PgParam>& params() const { return params_; }

 private:
  std::string sql_;
  std::vector<PgParam> params_;
};

// A status change asked for by a flow. The caller holds the case's row lock (it read `from` FOR UPDATE).
struct CaseChange {
  std::string case_id;
  domain::CaseStatus from = domain::CaseStatus::Received;
  domain::CaseEvent event = domain::CaseEvent::Routed;
  int ack_type = 0;  // Receipt: the SEV ack_type
  std::string actor = "gateway";
  std::string detail_json = "{}";
  CaseFields also;  // columns that change with it
};

// Moves the case as domain::transition says and records each step. Refused by the state machine: a
// Conflict error `case.transition_refused` that says why, and nothing written. The writes are queued.
Result<domain::CaseStatus> transitionCase(PgConnection& db, const CaseChange& change);

// The status of a case, read under its row lock; nullopt for an unknown case. A status the state
// machine does not know is an error (`case.bad_status`), never guessed.
Result<std::optional<domain::CaseStatus>> lockCaseStatus(PgConnection& db, const std::string& case_id);
// A case locked (or inserted) earlier in a transaction is still held (PgConnection::holds) under this
// key: read again without a lock.
inline std::string heldCase(const std::string& case_id) { return "case:" + case_id; }

// What routing reads of a case, under its row lock.
struct RoutingCaseRow {
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string kind;
  std::string body_json;
  std::string ucc_number;
  std::string registered_on;             // YYYY-MM-DD, Kyiv
  std::string received_at;               // ISO 8601 UTC
  std::string addressee_org_id;          // empty: none named
  std::string topic;                     // the classifier's topic code, empty when none
  std::vector<std::string> declined_by;  // the participants that declined it
  std::string due_kind;                  // empty: no answer term set
  long long due_epoch = 0;               // the answer term, seconds since the epoch; 0: none
  std::string due_rule;
  std::string route_to;  // an administrator's choice, empty when none
  // A complaint's subject (Law 393 art. 7): never a target. Empty: not a complaint about a body.
  std::string complained_of;
};
Result<std::optional<RoutingCaseRow>> lockCaseForRouting(PgConnection& db, const std::string& case_id);

// What a receipt is applied to, under the case's row lock.
struct ReceiptCaseRow {
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string participant_org_id;      // empty: with no participant
  std::string participant_reg_number;  // empty: none recorded
};
Result<std::optional<ReceiptCaseRow>> lockCaseForReceipt(PgConnection& db, const std::string& case_id);

// What a person's action on a case (resend, reroute) reads of it, under its row lock.
struct ActionCaseRow {
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string kind;
  bool priority = false;          // an applicant art. 20 serves first
  bool with_participant = false;  // a participant is assigned
  std::string complained_of;      // a complaint's subject, never its target; empty: none
};
Result<std::optional<ActionCaseRow>> lockCaseForAction(PgConnection& db, const std::string& case_id);

// A case handed to `participant_org_id`, as that participant's notice (by the case's id) or answer (by
// its UCC number) finds it, under the case's row lock; nullopt when it has no such case.
// A mass appeal's member: its id and tracking code.
struct MemberRow {
  std::string id, tracking_code;
};
struct ParticipantCaseRow {
  std::string id;
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string tracking_code;
  bool answered = false;  // an answer is recorded
  // Read with it when it is locked by its UCC number (a reply's case): the cases merged into it, in the
  // order received (mergedMembers), so that an answer to a mass appeal needs no read of its own.
  std::vector<MemberRow> members;
};
Result<std::optional<ParticipantCaseRow>> lockParticipantCaseById(PgConnection& db, const std::string& case_id,
                                                                  const std::string& participant_org_id);
Result<std::optional<ParticipantCaseRow>> lockParticipantCaseByNumber(PgConnection& db, const std::string& ucc_number,
                                                                      const std::string& participant_org_id);

// What ending a case before its answer (returned, withdrawn) reads, under its row lock: found by its id
// or by the applicant's tracking code; nullopt when none.
struct EndingCaseRow {
  std::string id, kind, ucc_number, tracking_code;
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string participant_org_id;    // empty: with no participant
  long long clock_from_epoch = 0;    // when its legal clock started, seconds since the epoch
  std::string repeat_of_ucc_number;  // the earlier case it likely repeats; empty: none
};
enum class CaseKey { Id, TrackingCode };
Result<std::optional<EndingCaseRow>> lockCaseForEnding(PgConnection& db, CaseKey key, const std::string& value);

// What a forward of the case to `competent_org_id` reads: whether that participant can take it (active,
// takes its kind, never declined it, is not the body a complaint is about; a conformance run's test case
// goes to no one), and whether the case is such a test case.
struct ForwardCaseRow {
  bool competent_takes_it = false;
  bool competent_is_complained_of = false;  // the named body is the one the complaint is about
  bool test_case = false;
  std::string tracking_code;
};
// When the participant the case is with took it — the term for forwarding it runs from there (Law 393
// art. 7; Law 2939-VI art. 22): its registration receipt (3) for the case's last package, else its first
// delivery or acceptance receipt, else its transport's taking the package, else the moment the package
// was routed to it. Times the gateway
// recorded as the receipts arrived, never a date the participant wrote. Seconds since the epoch, with
// the case's kind; nullopt for an unknown or never-routed case.
struct ForwardTermStart {
  std::string kind;
  long long from_epoch = 0;
  std::string from_event;  // receipt_3, receipt_1, …, routed
};
Result<std::optional<ForwardTermStart>> forwardTermStart(PgConnection& db, const std::string& case_id);

Result<std::optional<ForwardCaseRow>> readCaseForForward(PgConnection& db, const std::string& case_id,
                                                         const std::string& competent_org_id);

// A case registered by the intake, as its row is first written (status `registered`). Queued.
struct NewCaseRecord {
  std::string id, ucc_number, tracking_code, kind;
  bool restricted = false, priority = false;
  std::string urgency, channel;
  std::string received_at;       // ISO 8601; empty: now
  std::string addressee_org_id;  // empty: none named
  std::string body_json, client_id;
  std::string idempotency_key;  // empty: none
  std::string request_sha256;
  std::string applicant_key;              // see migration 0019 and 0024; empty: anonymous
  std::vector<std::string> contact_keys;  // keyed hashes of the applicant's contacts (migration 0024)
  std::string repeat_of;                  // the earlier case this appeal likely repeats; empty: none
  std::string text_hash;                  // empty: a text too short to compare
  std::string merged_into;                // a mass appeal's first case, which this one joins; empty: none
  // Its answer term, written with it (flows::answerTerm); due_kind empty: none (a mass appeal's member).
  std::string due_kind, due_rule;
  long long due_epoch = 0, clock_from_epoch = 0;
  // The term's first step (flows::firstAnswerStep), written with the case's open row; given only for a
  // case that is open (openAtRegistration), the caller's decision, which it also tells
  // planRegisteredDeadline. Empty: none.
  std::string answer_step;
  long long answer_step_epoch = 0;
};
// Its body is written as vkhid_kept_body (no one named in it) and the whole as cases.personal, sealed.
// An open case's open row is written in the same statement, with its answer step (migration 0038).
Status insertRegisteredCase(PgConnection& db, const NewCaseRecord& c);

// Whether a case registered through `channel` is open (has a case_open row): as the database's
// vkhid_case_is_open for the status 'registered' (migration 0030) — all but a conformance run's.
bool openAtRegistration(std::string_view channel);

// The case as submitted: its sealed `personal` column opened (bound to the case by personalAad), or,
// when that is NULL (erased, or written before migration 0024), the kept body. A changed value is the
// error at_rest.tampered.
std::string personalAad(std::string_view case_id);
Result<std::string> personalBody(PgConnection& db, std::string_view case_id, const std::optional<std::string>& personal,
                                 std::string_view kept_body);

// An earlier case found at intake: a likely repeat's, or a mass appeal's first.
struct EarlierCase {
  std::string id, ucc_number;
};
// The latest appeal of the same named applicant (`applicant_key`) on the same topic within `window_days`
// whose e-mail, phone digits or address is the same (each compared only when given): what Law 393 art. 8
// calls a repeated appeal, for the UCC to judge.
Result<std::optional<EarlierCase>> findLikelyRepeat(PgConnection& db, const std::string& applicant_key,
                                                    const std::string& topic,
                                                    const std::vector<std::string>& contact_keys, int window_days);
// The same asked ahead (PgConnection::ask), for findLikelyRepeat with the same arguments.
void askLikelyRepeat(PgConnection& db, const std::string& applicant_key, const std::string& topic,
                     const std::vector<std::string>& contact_keys, int window_days);
// The first open appeal of the last `window_days` with this text, from another named applicant, that is
// itself no member: the case a new one with this text joins. Callers first serialise on the text
// (lockTextHash), so two at once do not both become first.
Result<std::optional<EarlierCase>> findMassPrimary(PgConnection& db, const std::string& text_hash,
                                                   const std::string& applicant_key, int window_days);
Status lockTextHash(PgConnection& db, const std::string& text_hash);
// The members a mass appeal's first case has gathered (their ids and tracking codes).
Result<std::vector<MemberRow>> mergedMembers(PgConnection& db, const std::string& primary_id);
// The group of `ended` goes on under `next` (one of its members): `next` leaves the group, the others join
// it. Returns how many joined.
Result<long long> regroupMembers(PgConnection& db, const std::string& ended, const std::string& next);

// Serialises, until the transaction ends, the requests of one client with one idempotency key. Queued.
Status lockIdempotencyKey(PgConnection& db, const std::string& client_id, const std::string& key);

// Marks the case for a person's review with `note`, unless it is marked already. Queued.
Status markForReviewOnce(PgConnection& db, const std::string& case_id, const std::string& note);

// The classifier's topic code in the case's body; empty when none.
Result<std::string> caseTopic(PgConnection& db, const std::string& case_id);
Status setCaseTopic(PgConnection& db, const std::string& case_id, const std::string& topic);
// An administrator's choice of participant for the case's next routing.
Status setRouteTo(PgConnection& db, const std::string& case_id, const std::string& org_id);
// Marks the case for a person's review with `note`; its status, or nullopt for an unknown case.
Result<std::optional<std::string>> setReviewNote(PgConnection& db, const std::string& case_id, const std::string& note);
// How many times `event` is in the case's history.
Result<long long> countCaseEvents(PgConnection& db, const std::string& case_id, const std::string& event);

// What an extension of the answer term reads of a case (the caller holds its row lock).
struct CaseTermRow {
  std::string kind;
  domain::CaseStatus status = domain::CaseStatus::Received;
  std::string tracking_code;
  long long clock_from_epoch = 0;  // when the term started counting, seconds since the epoch; 0: never
  long long due_epoch = 0;         // the term in force; 0: none
};
Result<std::optional<CaseTermRow>> readCaseTerm(PgConnection& db, const std::string& case_id);

// A test case of a conformance run (channel `conformance`, kept out of the reports): an appeal routed to
// `org_id` already, with `body_json` as the intake would store it.
Status insertConformanceCase(PgConnection& db, const std::string& id, const std::string& ucc_number,
                             const std::string& tracking_code, const std::string& org_id, const std::string& body_json);

// The case's answer term: by rule `kind` (its legal citation `rule`), due at `due_epoch`, counted from
// `from_epoch`; no longer overdue. Queued.
Status setAnswerTerm(PgConnection& db, const std::string& case_id, const std::string& kind, long long due_epoch,
                     const std::string& rule, long long from_epoch);
// The term was extended now (by the participant's notice).
Status markExtended(PgConnection& db, const std::string& case_id);
// The term has passed without an answer.
Status markOverdue(PgConnection& db, const std::string& case_id);

}  // namespace vkhid::store
