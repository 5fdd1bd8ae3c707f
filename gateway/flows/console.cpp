#include "gateway/flows/console.hpp"

#include "gateway/store/clients.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/pg_pool.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "gateway/flows/audit.hpp"
#include "gateway/flows/exchange_store.hpp"

namespace vkhid::flows {
namespace {

std::string randomHex(int bytes) {
  std::string raw(static_cast<std::size_t>(bytes), '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// The one JSON text a query built with PostgreSQL's JSON functions returns.
Result<std::string> jsonOf(Result<store::PgResult> r) {
  if (!r) return r.error();
  if (r->rows() == 0 || r->isNull(0, 0)) return std::string("null");
  return std::string(r->get(0, 0));
}

}  // namespace

Result<std::pair<std::string, ConsoleSession>> openConsoleSession(store::PgConnection& db, const std::string& token,
                                                                  const SignInPolicy& policy,
                                                                  const std::string& cert_sha256) {
  if (token.empty() && cert_sha256.empty()) {
    return Error::invalid("console.signin",
                          "token: an admin or auditor bearer token (or a bound client certificate) is required");
  }
  if (!token.empty() && !policy.tokens) {
    return Error::invalid("console.signin",
                          "token: the console takes personal accounts (login, password and code) or a bound client "
                          "certificate; bearer tokens are for machine clients (admin.console_tokens)");
  }
  // A token, when sent, decides; the certificate is asked about only when no token came. Only an admin
  // or auditor in force (neither revoked nor expired) signs in.
  auto c = token.empty() ? store::findClient(db, store::ClientKey::CertSha256, cert_sha256)
                         : store::findClient(db, store::ClientKey::TokenSha256, sha256Hex(token));
  if (!c) return c.error();
  if (!*c || ((*c)->role != "admin" && (*c)->role != "auditor" && (*c)->role != "participant")) {
    return Error::invalid("console.signin", token.empty()
                                                ? "certificate: not bound to an admin, auditor or participant "
                                                  "(vkhid token bind-cert)"
                                                : "token: not an admin's, auditor's or participant's valid token");
  }
  return startConsoleSession(db, ConsoleSession{(*c)->id, (*c)->role, "", (*c)->restricted_access, (*c)->org_id},
                             policy, token.empty() ? "certificate" : "token");
}

Result<std::pair<std::string, ConsoleSession>> startConsoleSession(store::PgConnection& db, ConsoleSession s,
                                                                   const SignInPolicy& policy,
                                                                   const std::string& method) {
  s.csrf = randomHex(32);
  std::string id = randomHex(32);
  const std::string id_sha256 = sha256Hex(id);
  auto st = store::inTransaction(db, [&]() -> Status {
    if (auto in = store::insertConsoleSession(
            db, id_sha256, {s.client_id, s.role, s.csrf, s.restricted_access, s.org_id},
            static_cast<int>(policy.idle.count()), static_cast<int>(policy.longest.count()));
        !in) {
      return in;
    }
    // Evidence: who signed in, how; the digest names the session for whoever holds the database.
    auto logged = db.exec(
        "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ($1, 'console.signin', $2, $3)",
        {s.role + ":" + s.client_id, "client:" + s.client_id + " method:" + method, sha256Hex(id_sha256)});
    return logged ? Status() : Status(logged.error());
  });
  if (!st) return st.error();
  return std::pair{id, s};
}

std::optional<ConsoleSession> findConsoleSession(store::PgConnection& db, const std::string& id,
                                                 std::chrono::minutes idle) {
  if (id.empty()) return std::nullopt;
  // A revoked or expired client's sessions end with it.
  auto r = store::touchConsoleSession(db, sha256Hex(id), static_cast<int>(idle.count()));
  if (!r || !*r) return std::nullopt;
  return ConsoleSession{(*r)->client_id, (*r)->role, (*r)->csrf, (*r)->restricted_access, (*r)->org_id};
}

Status closeConsoleSession(store::PgConnection& db, const std::string& id, const ConsoleSession& s) {
  const std::string id_sha256 = sha256Hex(id);
  return store::inTransaction(db, [&]() -> Status {
    if (auto d = store::deleteConsoleSession(db, id_sha256); !d) return d;
    auto logged = db.exec(
        "INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ($1, 'console.signout', $2, $3)",
        {s.role + ":" + s.client_id, "client:" + s.client_id, sha256Hex(id_sha256)});
    return logged ? Status() : Status(logged.error());
  });
}

bool clientHasRestrictedAccess(store::PgConnection& db, const std::string& client_id) {
  auto r = store::clientRestrictedAccess(db, client_id);
  return r && *r;
}

Result<std::string> listCases(store::PgConnection& db, const CaseQuery& q, bool restricted_access) {
  return jsonOf(
      db.exec("SELECT coalesce(json_agg(t), '[]')::text FROM ("
              "SELECT c.id, c.ucc_number, c.tracking_code, c.kind, c.status, c.restricted, c.priority, c.urgency, "
              "c.participant_org_id AS participant, p.name AS participant_name, c.registered_at, c.due_at, c.due_kind, "
              "c.overdue, c.body->'classification'->>'topic' AS topic, c.review_note, c.review_at, "
              "(SELECT count(*) FROM message m WHERE m.case_id = c.id AND m.direction = 'out' AND m.status = 'dead') "
              "AS dead_packages "
              "FROM cases c LEFT JOIN participant p ON p.org_id = c.participant_org_id "
              "WHERE ($1::boolean OR NOT c.restricted) AND ($2 = '' OR c.ucc_number ILIKE '%' || $2 || '%' "
              "OR c.tracking_code ILIKE '%' || $2 || '%' OR c.id::text LIKE lower($2) || '%') "
              "AND ($3 = '' OR c.status = $3) AND (NOT $4::boolean OR c.overdue) "
              "AND (NOT $6::boolean OR c.review_at IS NOT NULL) "
              "ORDER BY c.overdue DESC, c.due_at ASC NULLS LAST, c.registered_at DESC LIMIT $5) t",
              {restricted_access ? "true" : "false", q.text, q.status, q.overdue_only ? "true" : "false",
               std::to_string(std::clamp(q.limit, 1, 500)), q.review_only ? "true" : "false"}));
}

Result<std::string> showCase(store::PgConnection& db, const std::string& case_id, bool restricted_access) {
  auto c = db.exec("SELECT restricted FROM cases WHERE id = vkhid_uuid($1)", {case_id});
  if (!c) return c.error();
  if (c->rows() == 0 || (c->getBool(0, "restricted") && !restricted_access)) {
    return Error{ErrorKind::NotFound, "case.unknown", "no case " + case_id};
  }
  return jsonOf(db.exec(
      "SELECT json_build_object("
      "'case', (SELECT row_to_json(t) FROM (SELECT c.id, c.ucc_number, c.tracking_code, c.kind, c.status, "
      "c.restricted, c.priority, c.urgency, c.channel, c.received_at, c.registered_at, "
      "c.participant_org_id AS participant, p.name AS participant_name, c.participant_reg_number, "
      "c.participant_reg_date, c.rejection_code, c.rejection_text, c.due_kind, c.due_at, c.due_rule, "
      "c.extended_at, c.overdue, c.body->'classification'->>'topic' AS topic, c.declined_by, c.review_note, "
      "c.review_at, c.repeat_of AS likely_repeat_of, r.ucc_number AS likely_repeat_of_ucc_number, "
      "c.merged_into, g.ucc_number AS merged_into_ucc_number, "
      "(SELECT count(*) FROM cases mm WHERE mm.merged_into = c.id) AS members, "
      "c.body->>'complained_of_org_id' AS complained_of_org_id "
      "FROM cases c LEFT JOIN participant p ON p.org_id = c.participant_org_id "
      "LEFT JOIN cases r ON r.id = c.repeat_of LEFT JOIN cases g ON g.id = c.merged_into "
      "WHERE c.id = vkhid_uuid($1)) t), "
      "'events', (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM (SELECT id, at, actor, event, status_from, "
      "status_to, detail FROM case_event WHERE case_id = vkhid_uuid($1)) e), "
      "'packages', (SELECT coalesce(json_agg(m ORDER BY m.created_at, m.msg_id), '[]') FROM (SELECT m.msg_id, "
      "m.direction, m.peer_org_id, m.msg_type, m.ack_type, m.ref_msg_id, vkhid_message_status(m.status, m.claimed_by) "
      "AS status, "
      "m.attempts, m.last_error, "
      "m.seal_verdict, m.signatures, m.error_code, m.created_at, m.updated_at, m.sha256, "
      "m.size_bytes AS size "  // sealed (and deflated): the bytes' own length
      "FROM message m WHERE m.case_id = vkhid_uuid($1)) m), "
      "'timers', (SELECT coalesce(json_agg(x ORDER BY x.fire_at), '[]') FROM (SELECT kind, fire_at, fired_at, "
      "outcome, cancelled_at FROM timer WHERE case_id = vkhid_uuid($1) UNION ALL SELECT step, step_at, NULL, NULL, "
      "NULL FROM case_open WHERE case_id = vkhid_uuid($1) AND step IS NOT NULL) x))::text",
      {case_id}));
}

Result<std::string> listDeliveries(store::PgConnection& db, bool restricted_access) {
  return jsonOf(db.exec(
      "SELECT json_build_object("
      "'participants', (SELECT coalesce(json_agg(t ORDER BY t.org_id), '[]') FROM (SELECT p.org_id, p.name, "
      "p.status, count(m.msg_id) FILTER (WHERE vkhid_message_status(m.status, m.claimed_by) = 'queued') AS queued, "
      "count(m.msg_id) FILTER (WHERE vkhid_message_status(m.status, m.claimed_by) = 'sending') AS sending, "
      "count(m.msg_id) FILTER (WHERE vkhid_message_status(m.status, m.claimed_by) = 'waiting_retry') AS waiting_retry, "
      "count(m.msg_id) FILTER (WHERE m.status = 'dead') AS dead, "
      "count(m.msg_id) FILTER (WHERE m.status = 'sent') AS sent "
      "FROM participant p LEFT JOIN message m ON m.peer_org_id = p.org_id AND m.direction = 'out' "
      "GROUP BY p.org_id, p.name, p.status) t), "
      "'dead', (SELECT coalesce(json_agg(d ORDER BY d.updated_at DESC), '[]') FROM (SELECT m.msg_id, m.case_id, "
      "c.ucc_number, m.peer_org_id, m.msg_type, m.attempts, m.last_error, m.updated_at FROM message m "
      "LEFT JOIN cases c ON c.id = m.case_id WHERE m.direction = 'out' AND m.status = 'dead' "
      "AND ($1::boolean OR c.restricted IS NOT TRUE) ORDER BY m.updated_at DESC LIMIT 200) d))::text",
      {restricted_access ? "true" : "false"}));
}

Result<std::string> listAudit(store::PgConnection& db, int limit, bool restricted_access) {
  // An entry that names a restricted case (its registration, routing, the participant, every receipt)
  // is left out for a client without restricted access, as the case itself is. An entry's seq is its
  // place in its batch (migration 0018): the batches of the entries shown are numbered once, in chain
  // order; entries chained before that migration carry theirs.
  return jsonOf(db.exec(
      "WITH s AS (SELECT e.xid, e.id, e.seq, e.at, e.actor, e.action, e.subject FROM audit_entry e WHERE "
      "$2::boolean OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = vkhid_uuid(substring(e.subject FROM "
      "'case:([0-9a-f-]{36})')) AND c.restricted) ORDER BY e.xid DESC, e.id DESC LIMIT $1), "
      "nb AS (SELECT * FROM audit_batch WHERE id IN (SELECT (SELECT b.id FROM audit_batch b WHERE s.seq IS NULL AND "
      "(b.last_xid, b.last_id) >= (s.xid, s.id) ORDER BY b.last_xid, b.last_id LIMIT 1) FROM s)), "
      "numbered AS (SELECT x.xid, x.id, nb.id AS batch_id, nb.first_seq + row_number() OVER (PARTITION BY nb.id "
      "ORDER BY x.xid, x.id) - 1 AS seq FROM nb JOIN audit_entry x ON x.seq IS NULL AND (x.xid, x.id) >= "
      "(nb.first_xid, nb.first_id) AND (x.xid, x.id) <= (nb.last_xid, nb.last_id)), "
      "tail AS ((SELECT coalesce(last_xid, '0'::xid8) AS x, coalesce(last_id, 0::bigint) AS i FROM audit_batch ORDER "
      "BY id DESC LIMIT 1) UNION ALL (SELECT '0'::xid8, 0::bigint) LIMIT 1) "
      "SELECT json_build_object("
      "'batches', (SELECT coalesce(json_agg(b ORDER BY b.id DESC), '[]') FROM (SELECT id, first_seq, last_seq, "
      "entries, root, closed_at, stamped_at, timestamp_token IS NOT NULL AS stamped FROM audit_batch "
      "ORDER BY id DESC LIMIT $1) b), "
      "'entries', (SELECT coalesce(json_agg(json_build_object('id', s.id, 'seq', coalesce(s.seq, n.seq), 'at', s.at, "
      "'actor', s.actor, 'action', s.action, 'subject', s.subject, 'batch_id', coalesce(n.batch_id, (SELECT b.id FROM "
      "audit_batch b WHERE b.last_seq >= s.seq AND b.first_seq <= s.seq ORDER BY b.last_seq LIMIT 1))) ORDER BY s.xid "
      "DESC, s.id DESC), '[]') FROM s LEFT JOIN numbered n ON n.xid = s.xid AND n.id = s.id), "
      "'unsealed', (SELECT count(*) FROM audit_entry a, tail WHERE a.seq IS NULL AND (a.xid, a.id) > (tail.x, tail.i)))"
      "::text",
      {std::to_string(std::clamp(limit, 1, 500)), restricted_access ? "true" : "false"}));
}

}  // namespace vkhid::flows
