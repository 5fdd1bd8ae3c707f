#include "gateway/store/cases.hpp"

#include "gateway/store/at_rest.hpp"

namespace vkhid::store {

namespace {

std::string forUpdate(const PgConnection& db, const std::string& case_id, const char* lock = " FOR UPDATE") {
  return db.holds(heldCase(case_id)) ? "" : lock;
}

// "$n" for the n-th parameter of a change's columns (the UPDATE's own are $1 id and $2 status).
std::string param(std::size_t index) { return "$" + std::to_string(index + 3); }

// An event's row: the case's id in $1, then actor, event, from, to and detail from parameter `at` on (the
// statuses empty for none).
constexpr const char* kInsertEvents =
    "INSERT INTO case_event (case_id, actor, event, status_from, status_to, detail) VALUES ";
std::string eventRow(std::size_t at) {
  auto p = [&](std::size_t k) { return "$" + std::to_string(at + k); };
  return "($1::uuid, " + p(0) + ", " + p(1) + ", NULLIF(" + p(2) + ", ''), NULLIF(" + p(3) + ", ''), " + p(4) +
         "::jsonb)";
}

}  // namespace

Result<domain::CaseStatus> caseStatusOf(std::string_view name, const std::string& case_id) {
  if (auto s = domain::caseStatusFromName(std::string(name))) return *s;
  return Error{ErrorKind::Internal, "case.bad_status",
               "case " + case_id + " has status '" + std::string(name) + "', which the state machine does not know"};
}

Status recordEvent(PgConnection& db, const std::string& case_id, const std::string& actor, const std::string& event,
                   const std::string& from, const std::string& to, const std::string& detail_json) {
  return db.later(kInsertEvents + eventRow(2), {case_id, actor, event, from, to, detail_json});
}

CaseFields CaseFields::assignParticipant(const std::string& org_id) {
  CaseFields f;
  f.sql_ = ", participant_org_id = " + param(0) + ", route_to = NULL";
  f.params_ = {org_id};
  return f;
}

CaseFields CaseFields::leaveParticipant(const std::string& decliner, const std::string& addressee) {
  CaseFields f;
  f.sql_ = ", addressee_org_id = NULLIF(" + param(0) +
           ", ''), participant_org_id = NULL, participant_reg_number = NULL, participant_reg_date = NULL, "
           "declined_by = array_append(declined_by, " +
           param(1) + ")";
  f.params_ = {addressee, decliner};
  return f;
}

CaseFields CaseFields::recordReceipt(const PgParam& reg_number, const PgParam& reg_date, const PgParam& rejection_code,
                                     const PgParam& rejection_text) {
  CaseFields f;
  f.sql_ = ", participant_reg_number = coalesce(" + param(0) +
           ", participant_reg_number), participant_reg_date = " + "coalesce(" + param(1) +
           "::date, participant_reg_date), rejection_code = coalesce(" + param(2) +
           "::int, rejection_code), rejection_text = coalesce(" + param(3) + ", rejection_text)";
  f.params_ = {reg_number, reg_date, rejection_code, rejection_text};
  return f;
}

CaseFields CaseFields::recordAnswer(const std::string& msg_id) {
  CaseFields f;
  f.sql_ = ", answer_msg_id = " + param(0) + "::uuid";
  f.params_ = {msg_id};
  return f;
}

Result<domain::CaseStatus> transitionCase(PgConnection& db, const CaseChange& change) {
  const auto t = domain::transition(change.from, change.event, change.ack_type);
  if (!t.allowed) {
    return Error{ErrorKind::Conflict, "case.transition_refused", "case " + change.case_id + ": " + t.why};
  }
  const auto to = t.to();
  // The row's change and the events it records, one statement (issue 25: a statement each was the
  // executor's start-up and a round of the pipeline again): the UPDATE in a WITH, the events inserted
  // beside it. The events do not read the UPDATE's rows, so a case that is not there fails their
  // foreign key, as an event of its own would.
  std::vector<PgParam> params{change.case_id};
  std::string sql;
  if (to != change.from || !change.also.sql().empty()) {
    params.emplace_back(std::string(domain::caseStatusName(to)));
    params.insert(params.end(), change.also.params().begin(), change.also.params().end());
    sql = "UPDATE cases SET status = $2, updated_at = now()" + change.also.sql() + " WHERE id = $1::uuid";
  }
  // An allowed transition has a step at least (domain::transition), so there is an event to insert.
  if (!sql.empty()) sql = "WITH changed AS (" + sql + " RETURNING 1) ";
  sql += kInsertEvents;
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const auto& s = t.steps[i];
    sql += (i == 0 ? "" : ", ") + eventRow(params.size() + 1);
    // The first step carries what happened; the ones it brings with it are the gateway's.
    params.emplace_back(i == 0 ? change.actor : std::string("gateway"));
    params.emplace_back(std::string(s.event));
    params.emplace_back(std::string(domain::caseStatusName(s.from)));
    params.emplace_back(std::string(domain::caseStatusName(s.to)));
    params.emplace_back(i == 0 ? change.detail_json : std::string("{}"));
  }
  auto written = db.later(sql, std::move(params));
  if (!written) return written.error();
  return to;
}

Result<std::optional<domain::CaseStatus>> lockCaseStatus(PgConnection& db, const std::string& case_id) {
  auto c = db.exec("SELECT status FROM cases WHERE id = $1::uuid" + forUpdate(db, case_id), {uuidParam(case_id)});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<domain::CaseStatus>{};
  db.hold(heldCase(case_id));
  auto s = caseStatusOf(c->get(0, 0), case_id);
  if (!s) return s.error();
  return std::optional<domain::CaseStatus>{*s};
}

Result<std::optional<RoutingCaseRow>> lockCaseForRouting(PgConnection& db, const std::string& case_id) {
  auto c = db.exec(
      "SELECT status, kind, body::text, ucc_number, to_char(registered_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD'), "
      "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(addressee_org_id, ''), "
      "priority, coalesce(body->'classification'->>'topic', ''), declined_by::text, coalesce(due_kind, ''), "
      "coalesce(extract(epoch FROM due_at)::bigint, 0), coalesce(due_rule, ''), coalesce(route_to, ''), "
      "coalesce(body->>'complained_of_org_id', ''), personal FROM cases WHERE id = $1" +
          forUpdate(db, case_id),
      {case_id});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<RoutingCaseRow>{};
  db.hold(heldCase(case_id));
  auto status = caseStatusOf(c->get(0, 0), case_id);
  if (!status) return status.error();
  RoutingCaseRow r;
  r.status = *status;
  r.kind = c->get(0, 1);
  auto body = personalBody(db, case_id, c->optional(0, 15), c->get(0, 2));
  if (!body) return body.error();
  r.body_json = std::move(*body);
  r.ucc_number = c->get(0, 3);
  r.registered_on = c->get(0, 4);
  r.received_at = c->get(0, 5);
  r.addressee_org_id = c->get(0, 6);
  r.topic = c->get(0, 8);
  r.declined_by = textArrayItems(c->get(0, 9));
  r.due_kind = c->get(0, 10);
  r.due_epoch = c->getInt(0, 11);
  r.due_rule = c->get(0, 12);
  r.route_to = c->get(0, 13);
  r.complained_of = c->get(0, 14);
  return std::optional<RoutingCaseRow>{std::move(r)};
}

Result<std::optional<ReceiptCaseRow>> lockCaseForReceipt(PgConnection& db, const std::string& case_id) {
  auto c = db.exec(
      "SELECT status, coalesce(participant_org_id, ''), coalesce(participant_reg_number, '') FROM cases "
      "WHERE id = $1::uuid" +
          forUpdate(db, case_id),
      {uuidParam(case_id)});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ReceiptCaseRow>{};
  db.hold(heldCase(case_id));
  auto status = caseStatusOf(c->get(0, 0), case_id);
  if (!status) return status.error();
  return std::optional<ReceiptCaseRow>{ReceiptCaseRow{*status, std::string(c->get(0, 1)), std::string(c->get(0, 2))}};
}

Result<std::optional<ActionCaseRow>> lockCaseForAction(PgConnection& db, const std::string& case_id) {
  auto c = db.exec(
      "SELECT status, kind, priority, participant_org_id IS NOT NULL, "
      "coalesce(body->>'complained_of_org_id', '') FROM cases WHERE id = $1::uuid" +
          forUpdate(db, case_id),
      {uuidParam(case_id)});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ActionCaseRow>{};
  db.hold(heldCase(case_id));
  auto status = caseStatusOf(c->get(0, 0), case_id);
  if (!status) return status.error();
  return std::optional<ActionCaseRow>{ActionCaseRow{*status, std::string(c->get(0, 1)), c->get(0, 2) == "t",
                                                    c->get(0, 3) == "t", std::string(c->get(0, 4))}};
}

Result<std::string> caseTopic(PgConnection& db, const std::string& case_id) {
  auto r = db.exec("SELECT coalesce(body->'classification'->>'topic', '') FROM cases WHERE id = $1::uuid",
                   {uuidParam(case_id)});
  if (!r) return r.error();
  return r->rows() == 0 ? std::string() : std::string(r->get(0, 0));
}

Status setCaseTopic(PgConnection& db, const std::string& case_id, const std::string& topic) {
  auto u = db.exec(
      "UPDATE cases SET body = jsonb_set(body, '{classification}', "
      "coalesce(body->'classification', '{}'::jsonb) || jsonb_build_object('topic', $2::text)) "
      "WHERE id = $1::uuid",
      {uuidParam(case_id), topic});
  return u ? Status() : Status(u.error());
}

Status setRouteTo(PgConnection& db, const std::string& case_id, const std::string& org_id) {
  auto u = db.exec("UPDATE cases SET route_to = $2 WHERE id = $1::uuid", {uuidParam(case_id), org_id});
  return u ? Status() : Status(u.error());
}

Result<std::optional<std::string>> setReviewNote(PgConnection& db, const std::string& case_id,
                                                 const std::string& note) {
  auto c = db.exec(
      "UPDATE cases SET review_note = $2, review_at = now(), updated_at = now() WHERE id = $1::uuid "
      "RETURNING status",
      {uuidParam(case_id), note});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(c->get(0, 0))};
}

Result<long long> countCaseEvents(PgConnection& db, const std::string& case_id, const std::string& event) {
  auto n =
      db.exec("SELECT count(*) FROM case_event WHERE case_id = $1::uuid AND event = $2", {uuidParam(case_id), event});
  if (!n) return n.error();
  return n->getInt(0, 0);
}

Result<std::optional<CaseTermRow>> readCaseTerm(PgConnection& db, const std::string& case_id) {
  auto c = db.exec(
      "SELECT kind, status, tracking_code, coalesce(extract(epoch FROM clock_from)::bigint, 0), "
      "coalesce(extract(epoch FROM due_at)::bigint, 0) FROM cases WHERE id = $1::uuid",
      {case_id});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<CaseTermRow>{};
  auto status = caseStatusOf(c->get(0, 1), case_id);
  if (!status) return status.error();
  return std::optional<CaseTermRow>{
      CaseTermRow{std::string(c->get(0, 0)), *status, std::string(c->get(0, 2)), c->getInt(0, 3), c->getInt(0, 4)}};
}

Status setAnswerTerm(PgConnection& db, const std::string& case_id, const std::string& kind, long long due_epoch,
                     const std::string& rule, long long from_epoch) {
  return db.later(
      "UPDATE cases SET due_kind = $2, due_at = to_timestamp($3::double precision), due_rule = $4, "
      "clock_from = to_timestamp($5::double precision), overdue = false, updated_at = now() WHERE id = $1::uuid",
      {case_id, kind, std::to_string(due_epoch), rule, std::to_string(from_epoch)});
}

Status markExtended(PgConnection& db, const std::string& case_id) {
  auto u = db.exec("UPDATE cases SET extended_at = now() WHERE id = $1::uuid", {case_id});
  return u ? Status() : Status(u.error());
}

Status markOverdue(PgConnection& db, const std::string& case_id) {
  auto u = db.exec("UPDATE cases SET overdue = true, updated_at = now() WHERE id = $1::uuid", {case_id});
  return u ? Status() : Status(u.error());
}

Status insertConformanceCase(PgConnection& db, const std::string& id, const std::string& ucc_number,
                             const std::string& tracking_code, const std::string& org_id,
                             const std::string& body_json) {
  auto personal = sealPersonal(db, body_json, personalAad(id));
  if (!personal) return personal.error();
  auto r = db.exec(
      "INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, channel, "
      "received_at, addressee_org_id, participant_org_id, body, personal, client_id) VALUES ($1, $2, $3, 'appeal', "
      "'routed', false, false, 'none', 'conformance', now(), $4, $4, vkhid_kept_body($5::jsonb), $6::bytea, "
      "'conformance')",
      {id, ucc_number, tracking_code, org_id, body_json, byteaHex(*personal)});
  return r ? Status() : Status(r.error());
}

Status insertRegisteredCase(PgConnection& db, const NewCaseRecord& c) {
  auto personal = sealPersonal(db, c.body_json, personalAad(c.id));
  if (!personal) return personal.error();
  db.hold(heldCase(c.id));  // no one else sees it before the transaction ends: routing in it need not lock it
  // With a step, the open row is written here, in the statement that inserts the case: its trigger
  // (vkhid_track_open_case), which runs after the statement, finds it written.
  const bool with_step = !c.answer_step.empty();
  const std::string sql =
      std::string(with_step ? "WITH c AS (" : "") +
      "INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, channel, "
      "received_at, addressee_org_id, body, personal, contact_keys, client_id, idempotency_key, request_sha256, "
      "applicant_key, repeat_of, text_hash, merged_into, due_kind, due_at, due_rule, clock_from) "
      "VALUES ($1, $2, $3, $4, 'registered', $5, $6, $7, $8, coalesce(NULLIF($9, '')::timestamptz, now()), "
      "NULLIF($10, ''), vkhid_kept_body($11::jsonb), $19::bytea, $20::text[], $12, NULLIF($13, ''), $14, "
      "NULLIF($15, ''), NULLIF($16, '')::uuid, NULLIF($17, ''), NULLIF($18, '')::uuid, NULLIF($21, ''), "
      "CASE WHEN $21 <> '' THEN to_timestamp($22::double precision) END, NULLIF($23, ''), "
      "CASE WHEN $21 <> '' THEN to_timestamp($24::double precision) END)" +
      (with_step ? " RETURNING id, due_at) INSERT INTO case_open (case_id, due_at, step, step_at) SELECT id, "
                   "due_at, $25, to_timestamp($26::double precision) FROM c"
                 : "");
  std::vector<PgParam> params{c.id,
                              c.ucc_number,
                              c.tracking_code,
                              c.kind,
                              c.restricted ? "true" : "false",
                              c.priority ? "true" : "false",
                              c.urgency,
                              c.channel,
                              c.received_at,
                              c.addressee_org_id,
                              c.body_json,
                              c.client_id,
                              c.idempotency_key,
                              c.request_sha256,
                              c.applicant_key,
                              c.repeat_of,
                              c.text_hash,
                              c.merged_into,
                              byteaHex(*personal),
                              textArrayLiteral(c.contact_keys),
                              c.due_kind,
                              std::to_string(c.due_epoch),
                              c.due_rule,
                              std::to_string(c.clock_from_epoch)};
  if (with_step) {
    params.emplace_back(c.answer_step);
    params.emplace_back(std::to_string(c.answer_step_epoch));
  }
  return db.later(sql, std::move(params));
}

bool openAtRegistration(std::string_view channel) { return channel != "conformance"; }

std::string personalAad(std::string_view case_id) { return "cases.personal:" + std::string(case_id); }

Result<std::string> personalBody(PgConnection& db, std::string_view case_id, const std::optional<std::string>& personal,
                                 std::string_view kept_body) {
  if (!personal) return std::string(kept_body);  // erased (or written before migration 0024)
  return openPersonal(db, fromByteaHex(*personal), personalAad(case_id));
}

namespace {
// The first row's (id, ucc_number) of a lookup, if any.
Result<std::optional<EarlierCase>> earlierCaseOf(const Result<PgResult>& r) {
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<EarlierCase>();
  return std::optional<EarlierCase>(EarlierCase{std::string(r->get(0, 0)), std::string(r->get(0, 1))});
}
}  // namespace

namespace {

constexpr const char* kLikelyRepeat =
    "SELECT id::text, ucc_number FROM cases WHERE applicant_key = $1 AND kind = 'appeal' "
    "AND received_at >= now() - make_interval(days => $4::int) AND body->'classification'->>'topic' = $2 "
    "AND contact_keys && $3::text[] ORDER BY received_at DESC LIMIT 1";

std::vector<PgParam> likelyRepeatParams(const std::string& applicant_key, const std::string& topic,
                                        const std::vector<std::string>& contact_keys, int window_days) {
  return {applicant_key, topic, textArrayLiteral(contact_keys), std::to_string(window_days)};
}

}  // namespace

void askLikelyRepeat(PgConnection& db, const std::string& applicant_key, const std::string& topic,
                     const std::vector<std::string>& contact_keys, int window_days) {
  db.ask(kLikelyRepeat, likelyRepeatParams(applicant_key, topic, contact_keys, window_days));
}

Result<std::optional<EarlierCase>> findLikelyRepeat(PgConnection& db, const std::string& applicant_key,
                                                    const std::string& topic,
                                                    const std::vector<std::string>& contact_keys, int window_days) {
  return earlierCaseOf(db.exec(kLikelyRepeat, likelyRepeatParams(applicant_key, topic, contact_keys, window_days)));
}

Result<std::optional<EarlierCase>> findMassPrimary(PgConnection& db, const std::string& text_hash,
                                                   const std::string& applicant_key, int window_days) {
  auto r = db.exec(
      "SELECT id::text, ucc_number FROM cases WHERE text_hash = $1 AND merged_into IS NULL "
      "AND applicant_key IS DISTINCT FROM $2 AND received_at >= now() - make_interval(days => $3::int) "
      "AND NOT vkhid_case_settled(status) "
      "ORDER BY received_at, id LIMIT 1",
      {text_hash, applicant_key, std::to_string(window_days)});
  return earlierCaseOf(r);
}

Status lockTextHash(PgConnection& db, const std::string& text_hash) {
  return db.later("SELECT pg_advisory_xact_lock(hashtext($1))", {"text:" + text_hash});
}

Result<long long> regroupMembers(PgConnection& db, const std::string& ended, const std::string& next) {
  auto r = db.exec(
      "UPDATE cases SET merged_into = CASE WHEN id = $2::uuid THEN NULL ELSE $2::uuid END, updated_at = "
      "now() WHERE merged_into = $1::uuid",
      {uuidParam(ended), uuidParam(next)});
  if (!r) return r.error();
  return r->affected() - 1;
}

Status lockIdempotencyKey(PgConnection& db, const std::string& client_id, const std::string& key) {
  return db.later("SELECT pg_advisory_xact_lock(hashtext($1))", {client_id + "\n" + key});
}

Status markForReviewOnce(PgConnection& db, const std::string& case_id, const std::string& note) {
  return db.later(
      "UPDATE cases SET review_note = coalesce(review_note, $2), review_at = coalesce(review_at, now()), "
      "updated_at = now() WHERE id = $1::uuid",
      {uuidParam(case_id), note});
}

Result<std::optional<EndingCaseRow>> lockCaseForEnding(PgConnection& db, CaseKey key, const std::string& value) {
  auto c =
      db.exec(std::string("SELECT c.id::text, c.kind, c.ucc_number, c.tracking_code, c.status, "
                          "coalesce(c.participant_org_id, ''), coalesce(extract(epoch FROM c.clock_from)::bigint, 0), "
                          "coalesce((SELECT e.ucc_number FROM cases e WHERE e.id = c.repeat_of), '') "
                          "FROM cases c WHERE ") +
                  (key == CaseKey::Id ? "c.id = $1::uuid" + forUpdate(db, value, " FOR UPDATE OF c")
                                      : "c.tracking_code = $1 FOR UPDATE OF c"),
              {key == CaseKey::Id ? uuidParam(value) : PgParam(value)});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<EndingCaseRow>();
  EndingCaseRow r;
  r.id = c->get(0, 0);
  db.hold(heldCase(r.id));
  auto status = caseStatusOf(c->get(0, 4), r.id);
  if (!status) return status.error();
  r.kind = c->get(0, 1);
  r.ucc_number = c->get(0, 2);
  r.tracking_code = c->get(0, 3);
  r.status = *status;
  r.participant_org_id = c->get(0, 5);
  r.clock_from_epoch = c->getInt(0, 6);
  r.repeat_of_ucc_number = c->get(0, 7);
  return std::optional<EndingCaseRow>(std::move(r));
}

Result<std::optional<ForwardTermStart>> forwardTermStart(PgConnection& db, const std::string& case_id) {
  auto c = db.exec(
      "SELECT c.kind, extract(epoch FROM coalesce(reg.at, took.at, sent.at, r.at))::bigint, "
      "CASE WHEN reg.at IS NOT NULL THEN 'receipt_3' WHEN took.at IS NOT NULL THEN took.event "
      "WHEN sent.at IS NOT NULL THEN 'delivered_to_transport' ELSE 'routed' END "
      "FROM cases c "
      "JOIN LATERAL (SELECT id, at FROM case_event WHERE case_id = c.id AND event = 'routed' "
      "ORDER BY id DESC LIMIT 1) r ON true "
      "LEFT JOIN LATERAL (SELECT at FROM case_event WHERE case_id = c.id AND id > r.id AND event = 'receipt_3' "
      "ORDER BY id LIMIT 1) reg ON true "
      "LEFT JOIN LATERAL (SELECT at, event FROM case_event WHERE case_id = c.id AND id > r.id AND event IN "
      "('receipt_1', 'receipt_2') ORDER BY id LIMIT 1) took ON true "
      "LEFT JOIN LATERAL (SELECT at FROM case_event WHERE case_id = c.id AND id > r.id AND "
      "event = 'delivered_to_transport' ORDER BY id LIMIT 1) sent ON true "
      "WHERE c.id = $1::uuid",
      {uuidParam(case_id)});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ForwardTermStart>();
  return std::optional<ForwardTermStart>(
      ForwardTermStart{std::string(c->get(0, 0)), c->getInt(0, 1), std::string(c->get(0, 2))});
}

Result<std::optional<ForwardCaseRow>> readCaseForForward(PgConnection& db, const std::string& case_id,
                                                         const std::string& competent_org_id) {
  auto c = db.exec(
      "SELECT c.channel = 'conformance' AS test_case, c.tracking_code, "
      "coalesce(c.body->>'complained_of_org_id' = $2, false) AS complained_of, EXISTS (SELECT 1 FROM participant p "
      "WHERE p.org_id = $2 AND p.status = 'active' AND NOT (p.org_id = ANY (c.declined_by)) AND c.kind = ANY (p.kinds) "
      "AND c.channel <> 'conformance') AS takes FROM cases c WHERE c.id = $1::uuid",
      {uuidParam(case_id), competent_org_id});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ForwardCaseRow>();
  const bool complained_of = c->getBool(0, "complained_of");
  return std::optional<ForwardCaseRow>(ForwardCaseRow{c->getBool(0, "takes") && !complained_of, complained_of,
                                                      c->getBool(0, "test_case"),
                                                      std::string(c->get(0, "tracking_code"))});
}

}  // namespace vkhid::store
