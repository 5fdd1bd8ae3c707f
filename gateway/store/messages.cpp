#include "gateway/store/messages.hpp"

#include <cctype>

#include "gateway/app/digest.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::store {
namespace {

PgParam optionalText(const std::string& s) { return s.empty() ? PgParam() : PgParam(s); }

template <typename T>
PgParam optionalNumber(const std::optional<T>& n) {
  return n ? PgParam(std::to_string(*n)) : PgParam();
}

}  // namespace

std::string packageAad(std::string_view msg_id) {
  std::string hex;
  for (char c : msg_id) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // As PostgreSQL prints a uuid, whichever form (braces, capitals) it was given in.
  if (hex.size() == 32)
    hex = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
          hex.substr(20);
  return "message.bytes:" + hex;
}

Result<std::string> sealPackage(PgConnection& db, std::string_view msg_id, std::string_view bytes) {
  if (bytes.empty()) return std::string();
  return sealPersonal(db, bytes, packageAad(msg_id));
}

Result<std::string> openPackage(PgConnection& db, std::string_view msg_id, std::string_view stored) {
  if (stored.empty()) return std::string();  // erased, or never kept
  return openPersonal(db, stored, packageAad(msg_id));
}

Status insertMessage(PgConnection& db, const MessageRecord& m, Write how) {
  auto sealed = sealPackage(db, m.msg_id, m.bytes);
  if (!sealed) return sealed.error();
  const std::string sql =
      "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, ref_msg_id, bytes, sha256, "
      "status, seal_verdict, error_code, last_error, signatures, size_bytes, bytes_cut, receipt) VALUES ($1::uuid, $2, "
      "NULLIF($3, '')::uuid, $4, $5, $6, $7::uuid, $8::bytea, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, "
      "CASE WHEN $17::boolean THEN jsonb_strip_nulls(jsonb_build_object('reg_number', $18::text, 'reg_date', "
      "$19::date, 'error_code', $20::integer, 'error_text', $21::text)) END)";
  const ReceiptFields none;
  const ReceiptFields& said = m.receipt ? *m.receipt : none;
  std::vector<PgParam> params{m.msg_id,
                              m.direction,
                              m.case_id,
                              m.peer_org_id,
                              std::to_string(m.msg_type),
                              optionalNumber(m.ack_type),
                              uuidParam(m.ref_msg_id),
                              byteaHex(*sealed),
                              m.sha256,
                              m.status,
                              optionalText(m.seal_verdict),
                              optionalNumber(m.error_code),
                              optionalText(m.last_error),
                              optionalText(m.signatures_json),
                              std::to_string(m.size_bytes.value_or(static_cast<long long>(m.bytes.size()))),
                              m.bytes_cut ? "true" : "false",
                              m.receipt ? "true" : "false",
                              said.reg_number,
                              said.reg_date,
                              optionalNumber(said.error_code),
                              said.error_text};
  if (how == Write::Queued) return db.later(sql, std::move(params));
  auto r = db.exec(sql, params);
  return r ? Status() : Status(r.error());
}

Result<std::optional<OurMessageRow>> findOurMessage(PgConnection& db, const std::string& msg_id,
                                                    const std::string& peer_org_id) {
  // The package whatever it is, judged as a batch of arrivals judges what it read with its cases.
  auto r = db.exec(
      "SELECT coalesce(case_id::text, ''), msg_type, direction, peer_org_id FROM message WHERE msg_id = $1::uuid",
      {uuidParam(msg_id)});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<OurMessageRow>();
  return ReferredPackage{std::string(r->get(0, 0)), static_cast<int>(r->getInt(0, 1)), std::string(r->get(0, 2)),
                         std::string(r->get(0, 3))}
      .ourTo(peer_org_id);
}

Result<std::optional<std::string>> earlierDigest(PgConnection& db, const std::string& msg_id) {
  auto r = db.exec("SELECT sha256 FROM message WHERE msg_id = $1::uuid", {msg_id});
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->get(0, 0)));
}

namespace {
constexpr const char* kEarlierDigests = "SELECT msg_id::text, sha256 FROM message WHERE msg_id = ANY($1::uuid[])";
}  // namespace

void askEarlierDigests(PgConnection& db, const std::vector<std::string>& msg_ids) {
  if (!msg_ids.empty()) db.ask(kEarlierDigests, {textArrayLiteral(msg_ids)});
}

Result<std::map<std::string, std::optional<std::string>, std::less<>>> earlierDigests(
    PgConnection& db, const std::vector<std::string>& msg_ids) {
  std::map<std::string, std::optional<std::string>, std::less<>> out;
  for (const auto& id : msg_ids) out.emplace(id, std::nullopt);
  if (msg_ids.empty()) return out;
  auto r = db.exec(kEarlierDigests, {textArrayLiteral(msg_ids)});
  if (!r) return r.error();
  for (int i = 0; i < r->rows(); ++i) out[std::string(r->get(i, 0))] = std::string(r->get(i, 1));
  return out;
}

namespace {
// The rows of `m` that refer to package $1: a reply is recorded with the case of the package it refers to,
// or with none (refused, or to a package of no case), so both are asked for through message_by_case_ref
// (migration 0037) — never by reference alone, which no index serves.
constexpr const char* kRepliesToPackage =
    "m.ref_msg_id = $1::uuid AND (m.case_id = (SELECT o.case_id FROM message o WHERE o.msg_id = $1::uuid) OR "
    "m.case_id IS NULL)";
}  // namespace

Result<std::vector<std::string>> requeueReceiptsFor(PgConnection& db, const std::string& their_msg_id) {
  auto r = db.exec(std::string("UPDATE message m SET status = 'queued', updated_at = now(), claimed_by = NULL, "
                               "claimed_at = NULL WHERE ") +
                       kRepliesToPackage +
                       " AND m.direction = 'out' AND m.status IN ('sent', 'dead') RETURNING "
                       "m.msg_id::text",
                   {their_msg_id});
  if (!r) return r.error();
  std::vector<std::string> ids;
  for (int i = 0; i < r->rows(); ++i) ids.emplace_back(r->get(i, 0));
  return ids;
}

namespace {

// One of our packages waiting, unclaimed, as a condition on `m`. Ours are those not `in` (the table's check
// allows two directions): said as `direction = 'out'`, the conditions imply the predicate of the index of
// waiting packages (migration 0026), which the statistics call small, and PostgreSQL read that index
// beside the packages' keys — between two vacuums it also holds an entry for every package sent since,
// and each claim read them all (8 % of PostgreSQL's CPU in the bench). Said so, each package is found by
// its key alone.
constexpr const char* kWaitingUnclaimed =
    "m.direction <> 'in' AND m.status IN ('queued', 'waiting_retry') AND m.claimed_by IS NULL";

// The claim's update: what is claimed is given as a condition on `m` (with $2 the process).
// Runs `f` (statements with an array of keys) with the generic plans of its prepared statements, in the
// current transaction: a plan that sees how many keys the array holds always looks cheaper, so
// PostgreSQL would plan every call anew, where the generic plan finds the rows by their keys as well.
// The setting is the transaction's; `set_back` when the transaction goes on after `f`.
template <class F>
Status withGenericPlans(PgConnection& db, bool set_back, F&& f) {
  if (auto s = db.later("SET LOCAL plan_cache_mode = force_generic_plan", {}); !s) return s;
  if (auto s = f(); !s) return s;
  return set_back ? db.later("SET LOCAL plan_cache_mode = DEFAULT", {}) : Status();
}

std::string claimSql(const std::string& which) {
  // The claim changes no indexed column (migration 0031): the status stays until the outcome, so the row
  // is updated in place when its page has room.
  return std::string(
             "UPDATE message m SET claimed_by = $2, claimed_at = now(), attempts = attempts + 1 "
             "FROM participant p LEFT JOIN LATERAL (SELECT e.adapter, e.settings::text AS settings FROM endpoint e "
             "WHERE e.org_id = p.org_id AND e.active ORDER BY e.id LIMIT 1) ep ON true "
             "WHERE p.org_id = m.peer_org_id AND p.status = 'active' AND ") +
         which + " AND " + kWaitingUnclaimed +
         " RETURNING m.msg_id::text AS msg_id, m.bytes, m.peer_org_id, m.attempts, coalesce(m.case_id::text, '') AS "
         "case_id, m.msg_type, ep.adapter, ep.settings";
}

Result<DeliveryClaimRow> claimRow(PgConnection& db, const PgResult& r, int i) {
  DeliveryClaimRow row;
  row.msg_id = std::string(r.get(i, "msg_id"));
  auto bytes = openPackage(db, row.msg_id, fromByteaHex(r.get(i, "bytes")));
  if (!bytes) return bytes.error();
  row.bytes = std::move(*bytes);
  row.peer_org_id = std::string(r.get(i, "peer_org_id"));
  row.attempts = static_cast<int>(r.getInt(i, "attempts"));
  row.case_id = std::string(r.get(i, "case_id"));
  row.msg_type = static_cast<int>(r.getInt(i, "msg_type"));
  row.adapter = r.isNull(i, "adapter") ? std::nullopt : std::optional<std::string>(std::string(r.get(i, "adapter")));
  row.settings_json = r.isNull(i, "settings") ? "{}" : std::string(r.get(i, "settings"));
  return row;
}

}  // namespace

Result<std::vector<DeliveryClaimRow>> claimAllForDelivery(PgConnection& db, const std::vector<std::string>& msg_ids,
                                                          const std::string& process_id) {
  std::vector<std::string> ids;
  for (const auto& id : msg_ids) {
    // Only what can be a uuid goes into the array literal (no quotes, no backslashes).
    if (id.size() == 36 && id.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos) ids.push_back(id);
  }
  std::vector<DeliveryClaimRow> out;
  if (ids.empty()) return out;
  // With its generic plan, made once a connection: PostgreSQL planned the claim anew at every call (a plan
  // that sees how many packages the array holds always looked cheaper than one that does not), and the
  // planning — 0.45 ms, of a join and a lateral read of the endpoint — cost more than the claim itself.
  // Both plans find the packages by their keys (test a_claim_is_planned_once_a_connection_whatever_it_claims).
  // The setting is the transaction's, and only while the claim runs: in the caller's, or in one of its own.
  // In a transaction of its own, the claim goes with its COMMIT: one exchange.
  Result<PgResult> r = Error::internal("store.claim", "the claim did not run");
  const bool callers = db.transactionOpen();
  const std::string sql = claimSql("m.msg_id = ANY ($1::uuid[])");
  const std::vector<PgParam> params{textArrayLiteral(ids), process_id};
  if (!callers) {
    if (auto s = db.begin(); !s) return s.error();
  }
  Status claimed = withGenericPlans(db, callers, [&]() -> Status {
    r = callers ? db.exec(sql, params) : db.commitWith(sql, params);
    return r ? Status() : Status(r.error());
  });
  if (!claimed) {
    if (!callers && db.transactionOpen()) (void)db.rollback();
    return claimed.error();
  }
  for (int i = 0; i < r->rows(); ++i) {
    auto row = claimRow(db, *r, i);
    if (!row) return row.error();
    out.push_back(std::move(*row));
  }
  return out;
}

Result<UnclaimedPackage> unclaimedPackage(PgConnection& db, const std::string& msg_id) {
  auto r = db.exec(std::string("SELECT p.status <> 'active' FROM message m JOIN participant p ON p.org_id = "
                               "m.peer_org_id WHERE m.msg_id = $1::uuid AND ") +
                       kWaitingUnclaimed,
                   {uuidParam(msg_id)});
  if (!r) return r.error();
  if (r->rows() == 0) return UnclaimedPackage{};
  return UnclaimedPackage{true, r->get(0, 0) == "t"};
}

Result<bool> moveClaim(PgConnection& db, const std::string& msg_id, const std::string& to, const PgParam& error) {
  auto u = db.exec(
      "UPDATE message SET status = $2, last_error = $3, updated_at = now(), claimed_by = NULL, claimed_at = NULL "
      "WHERE msg_id = $1::uuid AND claimed_by IS NOT NULL AND status IN ('queued', 'waiting_retry')",
      {uuidParam(msg_id), to, error});
  if (!u) return u.error();
  return u->affected() > 0;
}

// The claims moved on, and the cases of the appeal packages among them locked in the order of their ids.
constexpr const char* kMoveClaims =
    "WITH moved AS (UPDATE message SET status = $2, last_error = NULL, updated_at = now(), claimed_by = NULL, "
    "claimed_at = NULL WHERE msg_id = ANY ($1::uuid[]) AND claimed_by IS NOT NULL AND status IN ('queued', "
    "'waiting_retry') RETURNING msg_id, case_id, msg_type), locked AS (SELECT c.id, c.status FROM cases c WHERE "
    "c.id IN (SELECT case_id FROM moved WHERE msg_type = 1) ORDER BY c.id FOR UPDATE OF c) "
    "SELECT m.msg_id::text, coalesce(l.id::text, ''), coalesce(l.status, '') FROM moved m LEFT JOIN locked l ON "
    "l.id = m.case_id AND m.msg_type = 1";

Result<MovedClaims> moveClaims(PgConnection& db, const std::vector<std::string>& msg_ids, const std::string& to) {
  MovedClaims out;
  if (msg_ids.empty()) return out;
  Result<PgResult> u = Error::internal("store.move_claims", "the statement did not run");
  const auto move = [&]() -> Status {
    u = db.exec(kMoveClaims, {textArrayLiteral(msg_ids), to});
    return u ? Status() : Status(u.error());
  };
  if (auto s = withGenericPlans(db, true, move); !s) return s.error();
  for (int i = 0; i < u->rows(); ++i) {
    out.moved.emplace(u->get(i, 0));
    if (const std::string case_id(u->get(i, 1)); !case_id.empty()) {
      db.hold(heldCase(case_id));
      out.case_status.insert_or_assign(case_id, std::string(u->get(i, 2)));
    }
  }
  return out;
}

Status noteDelivered(PgConnection& db, const std::string& org_id) {
  // In place when the participant's row is there (one record); inserted the first time only.
  return db.later(
      "WITH moved AS (UPDATE participant_delivery SET last_delivered_at = greatest(last_delivered_at, now()) WHERE "
      "org_id = $1 RETURNING 1) INSERT INTO participant_delivery (org_id, last_delivered_at) SELECT $1, now() WHERE "
      "NOT EXISTS (SELECT 1 FROM moved) ON CONFLICT (org_id) DO UPDATE SET last_delivered_at = "
      "greatest(participant_delivery.last_delivered_at, EXCLUDED.last_delivered_at)",
      {org_id});
}

Result<std::optional<ReplayedRow>> requeueDead(PgConnection& db, const std::string& msg_id) {
  auto m = db.exec(
      "UPDATE message SET status = 'queued', attempts = 0, updated_at = now(), claimed_by = NULL, claimed_at = NULL "
      "WHERE msg_id = $1::uuid AND direction = 'out' AND status = 'dead' RETURNING peer_org_id, "
      "coalesce(case_id::text, ''), msg_type",
      {uuidParam(msg_id)});
  if (!m) return m.error();
  if (m->rows() == 0) return std::optional<ReplayedRow>{};
  return std::optional<ReplayedRow>{
      ReplayedRow{std::string(m->get(0, 0)), std::string(m->get(0, 1)), static_cast<int>(m->getInt(0, 2))}};
}

Result<std::optional<StoredPackageRow>> storedPackage(PgConnection& db, const std::string& msg_id) {
  auto m = db.exec(
      "SELECT bytes, bytes_cut, sha256, coalesce(erased_rule, ''), coalesce(to_char(erased_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') FROM message WHERE msg_id = $1::uuid",
      {uuidParam(msg_id)});
  if (!m) return m.error();
  if (m->rows() == 0) return std::optional<StoredPackageRow>();
  auto bytes = openPackage(db, msg_id, fromByteaHex(m->get(0, 0)));
  if (!bytes) return bytes.error();
  return std::optional<StoredPackageRow>(StoredPackageRow{std::move(*bytes), m->get(0, 1) == "t",
                                                          std::string(m->get(0, 2)), std::string(m->get(0, 3)),
                                                          std::string(m->get(0, 4))});
}

Result<std::vector<LostClaimRow>> requeueLostClaims(PgConnection& db, const std::string& process_id,
                                                    const std::string& in_flight) {
  auto r = db.exec(
      "UPDATE message SET status = 'queued', claimed_by = NULL, claimed_at = NULL, updated_at = now() WHERE "
      "direction = 'out' AND status IN ('queued', 'waiting_retry') AND claimed_by IS NOT NULL AND "
      "((claimed_by = $1 AND claimed_at < now() - interval '10 seconds' "
      "AND msg_id::text <> ALL ($2::text[])) OR (claimed_by <> $1 AND "
      "(claimed_at < now() - interval '2 minutes' OR claimed_by NOT IN "
      "(SELECT instance || ':' || pid FROM gateway_instance "
      "WHERE stopped_at IS NULL AND heartbeat_at > now() - interval '10 seconds')))) "
      "RETURNING msg_id::text, peer_org_id",
      {process_id, in_flight});
  if (!r) return r.error();
  std::vector<LostClaimRow> rows;
  for (int i = 0; i < r->rows(); ++i) rows.push_back({std::string(r->get(i, 0)), std::string(r->get(i, 1))});
  return rows;
}

Status recordTestPackage(PgConnection& db, const std::string& msg_id, const std::string& case_id,
                         const std::string& peer_org_id, std::string_view bytes) {
  auto sealed = sealPackage(db, msg_id, bytes);
  if (!sealed) return sealed.error();
  auto r = db.exec(
      "INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, status, attempts) "
      "VALUES ($1, 'out', NULLIF($2, '')::uuid, $3, 1, $4::bytea, $5, 'checking', 1) ON CONFLICT (msg_id) DO NOTHING",
      {msg_id, case_id, peer_org_id, byteaHex(*sealed), app::sha256Hex(bytes)});
  return r ? Status() : Status(r.error());
}

Status settleTestPackage(PgConnection& db, const std::string& msg_id, bool accepted, const std::string& error) {
  auto r = db.exec(
      "UPDATE message SET status = $2, last_error = NULLIF($3, ''), updated_at = now() WHERE msg_id = $1::uuid AND "
      "status = 'checking'",
      {msg_id, accepted ? "sent" : "check_failed", error});
  return r ? Status() : Status(r.error());
}

Result<std::vector<InboundRow>> messagesReferringTo(PgConnection& db, const std::string& ref_msg_id) {
  auto r = db.exec(
      "SELECT m.msg_id::text, m.status, coalesce(m.seal_verdict, ''), m.msg_type, coalesce(m.ack_type, 0), "
      "coalesce(m.error_code, 0), coalesce(m.last_error, ''), coalesce(m.receipt ->> 'reg_number', '') FROM message m "
      "WHERE m.direction = 'in' AND " +
          std::string(kRepliesToPackage) + " ORDER BY m.created_at",
      {ref_msg_id});
  if (!r) return r.error();
  std::vector<InboundRow> out;
  for (int i = 0; i < r->rows(); ++i) {
    InboundRow row;
    row.msg_id = r->get(i, 0);
    row.status = r->get(i, 1);
    row.seal_verdict = r->get(i, 2);
    row.msg_type = static_cast<int>(r->getInt(i, 3));
    row.ack_type = static_cast<int>(r->getInt(i, 4));
    row.error_code = static_cast<int>(r->getInt(i, 5));
    row.last_error = r->get(i, 6);
    row.reg_number = r->get(i, 7);
    out.push_back(std::move(row));
  }
  return out;
}

Result<int> replyRefusedSince(PgConnection& db, const std::string& peer_org_id, const std::string& case_id) {
  auto r = db.exec(
      "SELECT coalesce(min(error_code), 0) FROM message WHERE direction = 'in' AND peer_org_id = $2 AND msg_type = 3 "
      "AND status = 'rejected' AND created_at > (SELECT registered_at FROM cases WHERE id = $1::uuid)",
      {case_id, peer_org_id});
  if (!r) return r.error();
  return static_cast<int>(r->getInt(0, 0));
}

Result<int> extensionRefusedLately(PgConnection& db, const std::string& peer_org_id) {
  auto r = db.exec(
      "SELECT coalesce(min(error_code), 0) FROM message WHERE direction = 'in' AND peer_org_id = $1 AND "
      "error_code IN (133, 134, 135) AND created_at > now() - interval '1 hour'",
      {peer_org_id});
  if (!r) return r.error();
  return static_cast<int>(r->getInt(0, 0));
}

}  // namespace vkhid::store
