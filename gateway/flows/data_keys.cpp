#include "gateway/flows/data_keys.hpp"

#include <chrono>
#include <thread>

#include "gateway/flows/exchange_store.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/pg_pool.hpp"

namespace vkhid::flows {
namespace {

Status evidence(store::PgConnection& db, const std::string& action, const std::string& subject) {
  return store::appendEvidence(db, action, subject, sha256Hex(subject));
}

// Where sealed values live: the table, its key column, the value column, and how a row's aad is made.
struct SealedColumn {
  const char* select;  // id, value of up to 100 rows of key $1, locked
  const char* update;  // value $2 for id $1
  std::string (*aad)(std::string_view id);
};

const SealedColumn kColumns[] = {
    {"SELECT id::text, personal FROM cases WHERE vkhid_sealed_key(personal) = $1::int AND personal IS NOT NULL "
     "LIMIT 100 FOR UPDATE SKIP LOCKED",
     "UPDATE cases SET personal = $2::bytea WHERE id = $1::uuid", store::personalAad},
    {"SELECT msg_id::text, bytes FROM message WHERE vkhid_sealed_key(bytes) = $1::int LIMIT 100 FOR UPDATE SKIP "
     "LOCKED",
     "UPDATE message SET bytes = $2::bytea WHERE msg_id = $1::uuid", store::packageAad},
};

// One batch of each column moved from key `id` to the sealing key of `month`; how many were moved.
Result<long long> moveBatch(store::PgConnection& db, store::AtRest& ring, int id, const std::string& month) {
  long long moved = 0;
  auto done = store::inTransaction(db, [&]() -> Status {
    moved = 0;
    for (const auto& column : kColumns) {
      auto rows = db.exec(column.select, {std::to_string(id)});
      if (!rows) return rows.error();
      for (int i = 0; i < rows->rows(); ++i) {
        const std::string row_id(rows->get(i, 0));
        const std::string aad = column.aad(row_id);
        auto plain = ring.open(db, store::fromByteaHex(rows->get(i, 1)), aad);
        if (!plain) return plain.error();
        auto sealed = ring.seal(db, *plain, aad, month);
        if (!sealed) return sealed.error();
        if (auto u = db.exec(column.update, {row_id, store::byteaHex(*sealed)}); !u) return u.error();
        ++moved;
      }
    }
    return {};
  });
  if (!done) return done.error();
  return moved;
}

}  // namespace

Status rotateMasterKey(store::PgConnection& db, store::AtRest& current, const store::AtRest& next) {
  return store::inTransaction(db, [&]() -> Status {
    if (auto s = current.rewrap(db, next); !s) return s;
    return evidence(db, "keys.rotated", "master:" + current.masterKeyId() + " -> " + next.masterKeyId());
  });
}

Result<ReencryptOutcome> reencryptOlderThan(store::PgConnection& db, store::AtRest& ring, int older_than_days,
                                            const std::function<void(const std::string&)>& progress) {
  ReencryptOutcome out;
  // Keys retired by an earlier run that did not finish are taken up again.
  auto keys = db.exec(
      "SELECT id, to_char(month, 'YYYY-MM') FROM data_key WHERE purpose = 'data' AND destroyed_at IS NULL AND "
      "(retired_at IS NOT NULL OR created_at < now() - make_interval(days => $1::int)) ORDER BY id",
      {std::to_string(older_than_days)});
  if (!keys) return keys.error();
  for (int k = 0; k < keys->rows(); ++k) {
    const int id = static_cast<int>(keys->getInt(k, 0));
    const std::string month(keys->get(k, 1));
    if (auto r = db.exec("UPDATE data_key SET retired_at = coalesce(retired_at, now()) WHERE id = $1::int",
                         {std::to_string(id)});
        !r) {
      return r.error();
    }
    // A process may seal under the retired key until it looks the month's key up again (10 s): the
    // key goes only when none of its values is left after that.
    const auto settled = std::chrono::steady_clock::now() + std::chrono::seconds(12);
    long long moved = 0;
    for (;;) {
      auto batch = moveBatch(db, ring, id, month);
      if (!batch) return batch.error();
      moved += *batch;
      if (*batch > 0) continue;
      if (std::chrono::steady_clock::now() < settled) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      auto destroyed = store::inTransaction(db, [&]() -> Status {
        auto r = db.exec(
            "UPDATE data_key SET wrapped = NULL, destroyed_at = now() WHERE id = $1::int AND NOT EXISTS (SELECT 1 "
            "FROM cases WHERE vkhid_sealed_key(personal) = $1::int AND personal IS NOT NULL) AND NOT EXISTS "
            "(SELECT 1 FROM message WHERE vkhid_sealed_key(bytes) = $1::int)",
            {std::to_string(id)});
        if (!r) return r.error();
        if (r->affected() == 0) return Error{ErrorKind::Conflict, "keys.busy", "values came under the key meanwhile"};
        return evidence(db, "keys.reencrypted",
                        "key:" + std::to_string(id) + " month:" + month + " values:" + std::to_string(moved));
      });
      if (destroyed) break;
      if (destroyed.error().code != "keys.busy") return destroyed.error();
    }
    ++out.keys;
    out.values += moved;
    progress("data key " + std::to_string(id) + " (" + month + "): " + std::to_string(moved) +
             " values re-sealed under a new key; the old key is destroyed");
  }
  return out;
}

Result<int> destroyEmptyMonthKeys(store::PgConnection& db) {
  int destroyed = 0;
  auto done = store::inTransaction(db, [&]() -> Status {
    auto r = db.exec(
        "UPDATE data_key k SET wrapped = NULL, destroyed_at = now() WHERE purpose = 'data' AND destroyed_at IS NULL "
        "AND month < date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month' "
        "AND NOT EXISTS (SELECT 1 FROM cases WHERE vkhid_sealed_key(personal) = k.id AND personal IS NOT NULL) "
        "AND NOT EXISTS (SELECT 1 FROM message WHERE vkhid_sealed_key(bytes) = k.id) "
        "RETURNING id, to_char(month, 'YYYY-MM')",
        {});
    if (!r) return r.error();
    destroyed = r->rows();
    for (int i = 0; i < r->rows(); ++i) {
      if (auto s =
              evidence(db, "erasure.key", "key:" + std::string(r->get(i, 0)) + " month:" + std::string(r->get(i, 1)));
          !s) {
        return s;
      }
    }
    return {};
  });
  if (!done) return done.error();
  return destroyed;
}

}  // namespace vkhid::flows
