#include "gateway/store/case_views.hpp"

#include "gateway/store/cases.hpp"
#include "gateway/store/messages.hpp"

namespace vkhid::store {

namespace {

// A sequence per year (migration 0009): registrations never wait on one another for their number.
// The zone as a parameter: a statement with one is prepared once a connection, where one without is
// parsed and planned at every registration. The time of receipt as insertRegisteredCase writes it and
// lockCaseForRouting reads it (the transaction's now() when none is given): what routing a new case
// in its registration's transaction needs of it.
constexpr const char* kNextUccNumber =
    "SELECT y, ucc_next_number(y), to_char(now() AT TIME ZONE $1, 'YYYY-MM-DD'), "
    "to_char(coalesce(NULLIF($2, '')::timestamptz, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
    "FROM (SELECT extract(year FROM now() AT TIME ZONE $1)::integer AS y) t";

std::vector<PgParam> nextUccNumberParams(const std::string& received_at) {
  return {std::string("Europe/Kyiv"), received_at};
}

}  // namespace

void askNextUccNumber(PgConnection& db, const std::string& received_at) {
  db.ask(kNextUccNumber, nextUccNumberParams(received_at));
}

Result<UccNumberRow> nextUccNumber(PgConnection& db, const std::string& received_at) {
  auto n = db.exec(kNextUccNumber, nextUccNumberParams(received_at));
  if (!n) return n.error();
  return UccNumberRow{std::string(n->get(0, 0)), n->getInt(0, 1), std::string(n->get(0, 2)), std::string(n->get(0, 3))};
}

RoutingCaseRow newCaseRoutingRow(const NewCaseRecord& c, const UccNumberRow& n, const std::string& topic,
                                 const std::string& complained_of) {
  RoutingCaseRow r;
  r.status = domain::CaseStatus::Registered;
  r.kind = c.kind;
  r.body_json = c.body_json;  // what `personal` seals, and personalBody opens
  r.ucc_number = c.ucc_number;
  r.registered_on = n.today;
  r.received_at = n.received;
  r.addressee_org_id = c.addressee_org_id;
  r.topic = topic;
  r.due_kind = c.due_kind;
  r.due_epoch = c.due_kind.empty() ? 0 : c.due_epoch;  // due_at is written only with a kind
  r.due_rule = c.due_rule;
  r.complained_of = complained_of;
  return r;
}

Result<std::optional<IdempotentCaseRow>> caseByIdempotencyKey(PgConnection& db, const std::string& client_id,
                                                              const std::string& key) {
  auto r = db.exec(
      "SELECT id, ucc_number, tracking_code, request_sha256 FROM cases WHERE client_id = $1 AND idempotency_key = $2",
      {client_id, key});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<IdempotentCaseRow>();
  return std::optional<IdempotentCaseRow>(IdempotentCaseRow{std::string(r->get(0, 0)), std::string(r->get(0, 1)),
                                                            std::string(r->get(0, 2)), std::string(r->get(0, 3))});
}

Result<std::optional<ClientCaseRow>> clientCase(PgConnection& db, const std::string& case_id,
                                                const std::string& client_id) {
  auto c = db.exec(
      "SELECT id, ucc_number, tracking_code, kind, status, participant_org_id, participant_reg_number, "
      "participant_reg_date, answer_msg_id IS NOT NULL, rejection_code, rejection_text, "
      "coalesce(extract(epoch FROM due_at)::bigint, 0), overdue FROM cases WHERE id = vkhid_uuid($1) AND client_id = "
      "$2",
      {case_id, client_id});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ClientCaseRow>();
  auto optional = [&](int col) {
    return c->isNull(0, col) ? std::optional<std::string>() : std::optional<std::string>(c->get(0, col));
  };
  ClientCaseRow row;
  row.id = c->get(0, 0);
  row.ucc_number = c->get(0, 1);
  row.tracking_code = c->get(0, 2);
  row.kind = c->get(0, 3);
  row.status = c->get(0, 4);
  row.participant_org_id = optional(5);
  row.participant_reg_number = optional(6);
  row.participant_reg_date = optional(7);
  row.answer_available = c->get(0, 8) == "t";
  if (!c->isNull(0, 9)) row.rejection_code = c->getInt(0, 9);
  row.rejection_text = c->get(0, 10);
  row.due_epoch = c->getInt(0, 11);
  row.overdue = c->get(0, 12) == "t";
  return std::optional<ClientCaseRow>(std::move(row));
}

Result<std::vector<CaseEventRow>> caseHistory(PgConnection& db, const std::string& case_id) {
  auto ev = db.exec(
      "SELECT at, actor, event, coalesce(status_from, ''), coalesce(status_to, ''), detail::text FROM case_event "
      "WHERE case_id = vkhid_uuid($1) ORDER BY id",
      {case_id});
  if (!ev) return ev.error();
  std::vector<CaseEventRow> out;
  for (int i = 0; i < ev->rows(); ++i) {
    out.push_back({std::string(ev->get(i, 0)), std::string(ev->get(i, 1)), std::string(ev->get(i, 2)),
                   std::string(ev->get(i, 3)), std::string(ev->get(i, 4)), std::string(ev->get(i, 5))});
  }
  return out;
}

Result<std::optional<StoredAnswerRow>> clientAnswer(PgConnection& db, const std::string& case_id,
                                                    const std::string& client_id) {
  auto r = db.exec(
      "SELECT m.bytes, coalesce(m.seal_verdict, ''), m.msg_id, p.trust_pem, coalesce(p.trust_list, ''::bytea), "
      "coalesce(m.signatures::text, '') FROM cases c "
      "JOIN message m ON m.msg_id = c.answer_msg_id JOIN participant p ON p.org_id = m.peer_org_id "
      "WHERE c.id = vkhid_uuid($1) AND c.client_id = $2 AND m.erased_at IS NULL",  // erased: none to give
      {case_id, client_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<StoredAnswerRow>();
  auto bytes = openPackage(db, r->get(0, 2), fromByteaHex(r->get(0, 0)));
  if (!bytes) return bytes.error();
  return std::optional<StoredAnswerRow>(StoredAnswerRow{std::move(*bytes), std::string(r->get(0, 1)),
                                                        std::string(r->get(0, 2)), std::string(r->get(0, 3)),
                                                        fromByteaHex(r->get(0, 4)), std::string(r->get(0, 5))});
}

Result<std::optional<TrackedCaseRow>> trackedCase(PgConnection& db, const std::string& tracking_code) {
  auto c = db.exec(
      "SELECT c.kind, c.status, to_char(c.registered_at AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD'), "
      "coalesce(extract(epoch FROM c.due_at)::bigint, 0), c.overdue, c.extended_at IS NOT NULL, "
      "coalesce(c.participant_org_id, ''), coalesce(p.name, ''), c.answer_msg_id IS NOT NULL, c.restricted, "
      "to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "(SELECT r.score FROM case_rating r WHERE r.case_id = c.id), "
      "EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id AND e.event = 'answered_with_group') "
      "FROM cases c LEFT JOIN participant p ON p.org_id = c.participant_org_id WHERE c.tracking_code = $1",
      {tracking_code});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<TrackedCaseRow>();
  TrackedCaseRow row;
  row.kind = c->get(0, 0);
  row.status = c->get(0, 1);
  row.registered_on = c->get(0, 2);
  row.due_epoch = c->getInt(0, 3);
  row.overdue = c->get(0, 4) == "t";
  row.extended = c->get(0, 5) == "t";
  row.participant_org_id = c->get(0, 6);
  row.participant_name = c->get(0, 7);
  row.answer_available = c->get(0, 8) == "t";
  row.restricted = c->get(0, 9) == "t";
  row.updated_at = c->get(0, 10);
  row.rating = c->isNull(0, 11) ? 0 : static_cast<int>(c->getInt(0, 11));
  row.answered_with_group = c->get(0, 12) == "t";
  return std::optional<TrackedCaseRow>(std::move(row));
}

Result<bool> caseIsRestricted(PgConnection& db, const std::string& case_id) {
  auto r = db.exec("SELECT restricted FROM cases WHERE id = vkhid_uuid($1)", {case_id});
  if (!r) return r.error();
  return r->rows() > 0 && r->getBool(0, "restricted");
}

Result<bool> packageCaseIsRestricted(PgConnection& db, const std::string& msg_id) {
  auto r = db.exec(
      "SELECT c.restricted FROM message m JOIN cases c ON c.id = m.case_id WHERE m.msg_id = vkhid_uuid($1)", {msg_id});
  if (!r) return r.error();
  return r->rows() > 0 && r->getBool(0, "restricted");
}

const char* const kMembersOf =
    "(SELECT array_agg(m.id::text ORDER BY m.received_at, m.id) FROM cases m WHERE m.merged_into = c.id) AS "
    "member_ids, "
    "(SELECT array_agg(m.tracking_code ORDER BY m.received_at, m.id) FROM cases m WHERE m.merged_into = c.id) AS "
    "member_codes";

std::vector<MemberRow> membersOf(std::string_view ids, std::string_view codes) {
  std::vector<MemberRow> out;
  auto i = textArrayItems(ids), t = textArrayItems(codes);
  for (std::size_t k = 0; k < i.size() && k < t.size(); ++k) out.push_back({i[k], t[k]});
  return out;
}

Result<std::vector<MemberRow>> mergedMembers(PgConnection& db, const std::string& primary_id) {
  auto r =
      db.exec(std::string("SELECT ") + kMembersOf + " FROM cases c WHERE c.id = $1::uuid", {uuidParam(primary_id)});
  if (!r) return r.error();
  if (r->rows() == 0) return std::vector<MemberRow>{};
  return membersOf(r->get(0, 0), r->get(0, 1));
}

namespace {

Result<std::optional<ParticipantCaseRow>> lockParticipantCase(PgConnection& db, bool by_id, const std::string& key,
                                                              const std::string& org_id) {
  // By number (a reply's case), its group's members come with it: a statement fewer for an answer.
  auto c = db.exec("SELECT id::text AS id, status, tracking_code, answer_msg_id IS NOT NULL AS answered" +
                       std::string(by_id ? "" : ", " + std::string(kMembersOf)) + " FROM cases c WHERE " +
                       (by_id ? "id = $1::uuid" : "ucc_number = $1") + " AND participant_org_id = $2" +
                       (by_id && db.holds(heldCase(key)) ? "" : " FOR UPDATE OF c"),
                   {by_id ? uuidParam(key) : PgParam(key), org_id});
  if (!c) return c.error();
  if (c->rows() == 0) return std::optional<ParticipantCaseRow>();
  ParticipantCaseRow row;
  row.id = c->get(0, "id");
  db.hold(heldCase(row.id));
  auto status = caseStatusOf(c->get(0, "status"), row.id);
  if (!status) return status.error();
  row.status = *status;
  row.tracking_code = c->get(0, "tracking_code");
  row.answered = c->getBool(0, "answered");
  if (!by_id) row.members = membersOf(c->get(0, "member_ids"), c->get(0, "member_codes"));
  return std::optional<ParticipantCaseRow>(std::move(row));
}

}  // namespace

Result<std::optional<ParticipantCaseRow>> lockParticipantCaseById(PgConnection& db, const std::string& case_id,
                                                                  const std::string& participant_org_id) {
  return lockParticipantCase(db, true, case_id, participant_org_id);
}

Result<std::optional<ParticipantCaseRow>> lockParticipantCaseByNumber(PgConnection& db, const std::string& ucc_number,
                                                                      const std::string& participant_org_id) {
  return lockParticipantCase(db, false, ucc_number, participant_org_id);
}

}  // namespace vkhid::store
