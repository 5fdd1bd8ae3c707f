#define BOOST_TEST_MODULE integration_store
#include <zlib.h>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "gateway/app/digest.hpp"
#include "gateway/app/metrics.hpp"
#include "gateway/flows/case_json.hpp"
#include "gateway/flows/reports.hpp"
#include "gateway/store/at_rest.hpp"
#include "gateway/store/case_views.hpp"
#include "gateway/store/cases.hpp"
#include "gateway/store/evidence.hpp"
#include "gateway/store/messages.hpp"
#include "gateway/store/migrations.hpp"
#include "gateway/store/outbox.hpp"
#include "gateway/store/participants.hpp"
#include "gateway/store/pg_pool.hpp"
#include "gateway/store/routes.hpp"
#include "gateway/store/timers.hpp"
#include "tests/support/pki.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;

namespace {
store::PgConnection connectTo(const std::string& url) {
  auto c = store::PgConnection::connect({url, 5, 10000, "test"});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
}

// The key that seals personal data and packages at rest, as the gateway has it (once a test process).
void installDevKeyAtRest(testing::TestDatabase& db) {
  if (store::atRest()) return;
  auto ring = store::AtRest::fromFile(testing::pkiDir() + "/master.key", "dev-master-1", {db.url(), 5, 30000, "k"});
  BOOST_REQUIRE_MESSAGE(ring.ok(), (ring.ok() ? "" : ring.error().message));
  store::installAtRest(*ring);
}

// A new web appeal's record as the intake writes it: UCC number U-<i>, tracking code T-<i>.
store::NewCaseRecord newAppealRecord(testing::TestDatabase& db, int i, const std::string& received_at,
                                     const std::string& body_json) {
  store::NewCaseRecord record;
  record.id = db.query("SELECT gen_random_uuid()");
  record.ucc_number = "U-" + std::to_string(i);
  record.tracking_code = "T-" + std::to_string(i);
  record.kind = "appeal";
  record.urgency = "normal";
  record.channel = "web";
  record.received_at = received_at;
  record.body_json = body_json;
  record.client_id = "c";
  record.request_sha256 = "h" + std::to_string(i);
  return record;
}

// What PostgreSQL wrote to WAL for `table` and its indexes since `from` (an LSN), as "manager:record"
// words in order. Page images for hint bits and pruning are PostgreSQL's own, not a statement's, and
// are left out; pg_walinspect is created in the test's database.
std::string walOf(testing::TestDatabase& db, const std::string& table, const std::string& from) {
  BOOST_REQUIRE(db.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect") == "");
  const std::string files =
      db.query("SELECT string_agg(pg_relation_filenode(c.oid)::text, '|') FROM pg_class c WHERE c.oid = '" + table +
               "'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = '" + table + "'::regclass)");
  return db.query(
      "SELECT string_agg(resource_manager || ':' || record_type, ' ' ORDER BY start_lsn) FROM "
      "pg_get_wal_records_info('" +
      from +
      "', pg_current_wal_flush_lsn()) WHERE resource_manager IN ('Heap', 'Btree', 'BRIN') AND block_ref ~ "
      "('rel [0-9]+/[0-9]+/(" +
      files + ") ')");
}

// The plan PostgreSQL chose for `explain` (an EXPLAIN of a statement with one parameter), as text.
std::string planOf(store::PgConnection& conn, const std::string& explain, const std::string& param) {
  auto plan = conn.exec(explain, {param});
  BOOST_REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().message));
  std::string text;
  for (int i = 0; i < plan->rows(); ++i) text += std::string(plan->get(i, 0)) + "\n";
  return text;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(migrations_apply_and_a_second_run_is_a_noop) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto& all = store::embeddedMigrations();
  BOOST_REQUIRE(!all.empty());

  auto first = store::migrate(conn, all);
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  BOOST_TEST(first->applied_now == static_cast<int>(all.size()));
  BOOST_TEST(first->current_version == store::latestVersion(all));
  BOOST_TEST(db.query("SELECT to_regclass('gateway_instance') IS NOT NULL") == "t");

  auto second = store::migrate(conn, all);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(second->applied_now == 0);
  BOOST_TEST(second->current_version == first->current_version);
  BOOST_TEST(db.query("SELECT count(*) FROM schema_migrations") == std::to_string(all.size()));
}

BOOST_AUTO_TEST_CASE(concurrent_migrations_apply_each_once) {
  testing::TestDatabase db;
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto c = store::PgConnection::connect({db.url(), 5, 10000, "test"});
      if (!c) {
        failures++;
        return;
      }
      auto r = store::migrate(*c, store::embeddedMigrations());
      if (!r) {
        failures++;
        return;
      }
      applied += r->applied_now;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(applied.load() == static_cast<int>(store::embeddedMigrations().size()));
}

BOOST_AUTO_TEST_CASE(changed_migration_is_refused) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  std::vector<store::Migration> v1 = {{1, "0001_t", "CREATE TABLE t (a int)"}};
  BOOST_REQUIRE(store::migrate(conn, v1).ok());
  std::vector<store::Migration> edited = {{1, "0001_t", "CREATE TABLE t (a bigint)"}};
  auto r = store::migrate(conn, edited);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == "db.migration_changed");
  BOOST_TEST(r.error().message.find("0001_t") != std::string::npos);

  // A failing migration leaves nothing behind: its transaction rolls back.
  std::vector<store::Migration> broken = {{1, "0001_t", "CREATE TABLE t (a int)"},
                                          {2, "0002_bad", "CREATE TABLE u (b int); SELECT no_such_function()"}};
  auto b = store::migrate(conn, broken);
  BOOST_REQUIRE(!b.ok());
  BOOST_TEST(b.error().message.find("0002_bad") != std::string::npos);
  BOOST_TEST(db.query("SELECT to_regclass('u') IS NULL") == "t");
  BOOST_TEST(db.query("SELECT max(version) FROM schema_migrations") == "1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(pool_does_not_hand_out_a_connection_left_inside_a_transaction) {
  // A lease given back mid-transaction (an early return that skipped the rollback) would keep its row
  // locks while it sits idle in the pool, and the next user would run inside that transaction.
  testing::TestDatabase db;
  store::PgPool pool({db.url(), 5, 10000, "test"}, 2);
  std::string first_pid;
  {
    auto lease = pool.acquire();
    BOOST_REQUIRE(lease.ok());
    BOOST_REQUIRE((*lease)->exec("CREATE TABLE t (id int PRIMARY KEY)").ok());
    BOOST_REQUIRE((*lease)->exec("INSERT INTO t VALUES (1)").ok());
    BOOST_REQUIRE((*lease)->begin().ok());
    auto pid = (*lease)->exec("SELECT pg_backend_pid()::text");
    BOOST_REQUIRE(pid.ok());
    first_pid = std::string(pid->get(0, 0));
    BOOST_REQUIRE((*lease)->exec("SELECT id FROM t FOR UPDATE").ok());
  }  // given back inside the transaction
  auto next = pool.acquire();
  BOOST_REQUIRE(next.ok());
  BOOST_TEST((*next)->reusable());
  auto pid = (*next)->exec("SELECT pg_backend_pid()::text");
  BOOST_REQUIRE(pid.ok());
  BOOST_TEST(std::string(pid->get(0, 0)) != first_pid);
  // The row is free: the abandoned transaction was rolled back with its connection.
  auto locked = (*next)->exec("SELECT id FROM t FOR UPDATE SKIP LOCKED");
  BOOST_REQUIRE(locked.ok());
  BOOST_TEST(locked->rows() == 1);
}

BOOST_AUTO_TEST_CASE(pool_reuses_a_connection_given_back_outside_a_transaction) {
  testing::TestDatabase db;
  store::PgPool pool({db.url(), 5, 10000, "test"}, 2);
  std::string first_pid;
  {
    auto lease = pool.acquire();
    BOOST_REQUIRE(lease.ok());
    auto pid = (*lease)->exec("SELECT pg_backend_pid()::text");
    BOOST_REQUIRE(pid.ok());
    first_pid = std::string(pid->get(0, 0));
  }
  auto next = pool.acquire();
  BOOST_REQUIRE(next.ok());
  auto pid = (*next)->exec("SELECT pg_backend_pid()::text");
  BOOST_REQUIRE(pid.ok());
  BOOST_TEST(std::string(pid->get(0, 0)) == first_pid);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(statements)

BOOST_AUTO_TEST_CASE(statement_with_parameters_is_prepared_once_per_connection) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  for (int i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES ($1, $2)", {std::to_string(i), "n" + std::to_string(i)}).ok());
  }
  auto r = conn.exec("SELECT name FROM t WHERE id = $1", {std::string("2")});
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->get(0, 0) == "n2");
  // The server holds one prepared statement per distinct text, however often it ran.
  auto prepared = conn.exec(
      "SELECT count(*), count(*) FILTER (WHERE statement LIKE 'INSERT INTO t%') FROM "
      "pg_prepared_statements");
  BOOST_REQUIRE(prepared.ok());
  BOOST_TEST(prepared->get(0, 0) == "2");
  BOOST_TEST(prepared->get(0, 1) == "1");
  // NULL parameters and errors behave as before: a duplicate key is a conflict, and the connection
  // goes on.
  BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES ($1, $2)", {std::string("4"), std::nullopt}).ok());
  auto dup = conn.exec("INSERT INTO t VALUES ($1, $2)", {std::string("4"), std::string("again")});
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST((dup.error().kind == ErrorKind::Conflict));
  BOOST_TEST(conn.exec("SELECT count(*) FROM t WHERE name IS NULL AND id = $1", {std::string("4")})->get(0, 0) == "1");
}

BOOST_AUTO_TEST_CASE(the_relays_and_the_sealers_rounds_are_prepared_statements) {
  // A statement without parameters goes as a simple query, parsed and planned at every call: the relay's
  // lock and the sealer's lock and chain tail, once a round each, were 0.1 ms of planning a case
  // (pg_stat_statements with track_planning over a bench run). Each round's statements are prepared now,
  // planned at most five times a connection whatever the number of rounds.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  for (int round = 0; round < 8; ++round) {
    auto relay = store::inTransaction(conn, [&]() -> Status {
      auto rows = store::lockUnsent(conn, 100);
      return rows ? Status() : Status(rows.error());
    });
    BOOST_REQUIRE_MESSAGE(relay.ok(), (relay.ok() ? "" : relay.error().message));
    auto sealer = store::inTransaction(conn, [&]() -> Status {
      auto locked = store::tryLockSealer(conn);
      if (!locked) return locked.error();
      BOOST_TEST(*locked);
      auto tail = store::chainTail(conn);
      return tail ? Status() : Status(tail.error());
    });
    BOOST_REQUIRE_MESSAGE(sealer.ok(), (sealer.ok() ? "" : sealer.error().message));
  }
  auto plans = conn.exec(
      "SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0), coalesce(min(generic_plans + custom_plans), "
      "0) FROM pg_prepared_statements WHERE statement LIKE '%advisory_xact_lock%' OR statement LIKE 'SELECT "
      "last_seq%'");
  BOOST_REQUIRE(plans.ok());
  BOOST_TEST(plans->getInt(0, 0) == 3);   // the two locks and the tail, each prepared
  BOOST_TEST(plans->getInt(0, 2) == 8);   // each run every round
  BOOST_TEST(plans->getInt(0, 1) == 24);  // as a prepared statement, every time
}

BOOST_AUTO_TEST_CASE(statement_prepared_before_a_table_changed_works_again_after_one_failure) {
  // Another gateway's migration may change a table under this connection's prepared statements.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES (1, 'one')").ok());
  const std::string sql = "SELECT * FROM t WHERE id = $1";
  BOOST_REQUIRE(conn.exec(sql, {std::string("1")}).ok());
  auto other = connectTo(db.url());
  BOOST_REQUIRE(other.exec("ALTER TABLE t ADD COLUMN note text DEFAULT 'x'").ok());
  auto once = conn.exec(sql, {std::string("1")});  // the server refuses the old plan's result type
  if (once.ok()) {
    BOOST_TEST(once->columns() == 3);  // a server that re-plans silently is fine too
  }
  auto again = conn.exec(sql, {std::string("1")});
  BOOST_REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(again->columns() == 3);
  BOOST_TEST(again->get(0, 2) == "x");
}

BOOST_AUTO_TEST_CASE(lookup_by_id_uses_the_index_and_finds_nothing_for_a_malformed_id) {
  // Ids come from callers as text; comparing `id::text = $1` read the whole table for every lookup.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  auto u = [&](const std::string& text) {
    auto r = conn.exec("SELECT coalesce(vkhid_uuid($1)::text, 'NULL')", {text});
    BOOST_REQUIRE(r.ok());
    return std::string(r->get(0, 0));
  };
  BOOST_TEST(u("0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11") == "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11");
  BOOST_TEST(u("0B5E3B7C-4F0E-4A36-9A55-4AD4BC2F3E11") == "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11");
  BOOST_TEST(u("not-a-uuid") == "NULL");
  BOOST_TEST(u("0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e1") == "NULL");
  BOOST_TEST(u("0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11'; DROP TABLE cases; --") == "NULL");
  BOOST_TEST(u("") == "NULL");
  // The gateway's statements take the id as `$n::uuid` from store::uuidParam, which judges the text in
  // the gateway: the same verdict, and a malformed id finds nothing rather than failing the statement.
  for (const std::string text :
       {"0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11", "0B5E3B7C-4F0E-4A36-9A55-4AD4BC2F3E11", "not-a-uuid",
        "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e1", "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11 ",
        "0b5e3b7c04f0e-4a36-9a55-4ad4bc2f3e11", "{0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11}", ""}) {
    auto r = conn.exec("SELECT coalesce($1::uuid::text, 'NULL')", {store::uuidParam(text)});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    BOOST_TEST(std::string(r->get(0, 0)) == u(text), "'" << text << "'");
  }
  auto none = store::lockCaseStatus(conn, "not-a-uuid");
  BOOST_REQUIRE_MESSAGE(none.ok(), (none.ok() ? "" : none.error().message));
  BOOST_TEST(!none->has_value());
  // The plan of a lookup, once the table is too big to read whole, is the primary key's index.
  BOOST_REQUIRE(conn.exec("INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, "
                          "urgency, channel, received_at, body, client_id) SELECT gen_random_uuid(), 'U-' || i, "
                          "'T-' || i, 'appeal', 'registered', false, false, 'normal', 'web', now(), '{}', 'c' "
                          "FROM generate_series(1, 5000) i")
                    .ok());
  BOOST_REQUIRE(conn.exec("ANALYZE cases").ok());
  std::string text = planOf(conn, "EXPLAIN SELECT status FROM cases WHERE id = vkhid_uuid($1)",
                            "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11");
  BOOST_TEST_INFO(text);
  BOOST_TEST(text.find("Index Scan using cases_pkey") != std::string::npos);
  BOOST_TEST(text.find("Seq Scan") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_statement_is_compiled_by_jit_however_costly_the_planner_thinks_it) {
  // On a year's history the planner thinks some of the gateway's statements costly (a row comparison over
  // the evidence log's key), and PostgreSQL compiled each with LLVM before running it: 120-190 ms of CPU
  // for a statement that takes under a millisecond. The gateway's sessions run without JIT.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  // Every statement past the JIT thresholds, as if the tables were huge.
  BOOST_REQUIRE(conn.exec("SET jit_above_cost = 0").ok());
  BOOST_REQUIRE(conn.exec("SET jit_inline_above_cost = 0").ok());
  BOOST_REQUIRE(conn.exec("SET jit_optimize_above_cost = 0").ok());
  const std::string plan =
      planOf(conn, "EXPLAIN ANALYZE SELECT count(*) FROM generate_series(1, $1::int) i WHERE i % 7 = 3", "1000");
  BOOST_TEST_INFO(plan);
  BOOST_TEST(plan.find("JIT") == std::string::npos);
  auto jit = conn.exec("SHOW jit");
  BOOST_REQUIRE(jit.ok());
  BOOST_TEST(std::string(jit->get(0, 0)) == "off");
}

BOOST_AUTO_TEST_CASE(the_private_server_keeps_a_quarter_of_the_machines_memory_for_its_buffers) {
  // scripts/services started PostgreSQL with its default 128 MB of buffers: against a million cases of
  // history the random-keyed indexes no longer fitted, and 7,000 package inserts read 6,285 pages from
  // outside them (52 with the larger buffers). Its buffers are now a quarter of the machine's memory (or
  // of its control group's limit), between 128 MB and 8 GB.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto dir = conn.exec("SELECT current_setting('data_directory')");
  BOOST_REQUIRE(dir.ok());
  std::error_code ec;  // var/pg may be a link to /var/tmp (scripts/services, as root)
  if (!std::filesystem::equivalent(std::string(dir->get(0, 0)), testing::sourceDir() + "/var/pg/data", ec)) {
    BOOST_TEST_MESSAGE("an external PostgreSQL: its memory is its operator's");
    return;
  }
  long long kb = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string key; meminfo >> key;) {
    if (key == "MemTotal:") {
      meminfo >> kb;
      break;
    }
  }
  BOOST_REQUIRE(kb > 0);
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  if (long long limit = 0; cgroup >> limit && limit / 1024 < kb) kb = limit / 1024;
  const long long expected_mb = std::clamp(kb / 4096, 128LL, 8192LL);
  auto mb = conn.exec("SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'");
  BOOST_REQUIRE(mb.ok());
  BOOST_TEST(mb->getInt(0, 0) == expected_mb);
}

BOOST_AUTO_TEST_CASE(evidence_digest_is_inlined_and_packages_are_compressed_with_lz4) {
  // Migration 0012: the evidence log's digest function was run as a separate statement for every
  // entry (declared IMMUTABLE over a STABLE body, so never inlined); the packages used pglz.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  const std::string detail = R"({"msg_id": "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11", "ack_type": 3})";
  auto digest = conn.exec("SELECT vkhid_audit_digest($1), vkhid_audit_digest(NULL)", {detail});
  BOOST_REQUIRE(digest.ok());
  BOOST_TEST(digest->get(0, 0) == app::sha256Hex(detail));  // the same digest as before
  BOOST_TEST(digest->get(0, 1) == app::sha256Hex(""));
  std::string text = planOf(conn, "EXPLAIN (VERBOSE, COSTS OFF) SELECT vkhid_audit_digest($1)", detail);
  BOOST_TEST_INFO(text);
  BOOST_TEST(text.find("sha256") != std::string::npos);
  BOOST_TEST(text.find("vkhid_audit_digest") == std::string::npos);
  BOOST_TEST(db.query("SELECT attcompression FROM pg_attribute WHERE attrelid = 'message'::regclass AND attname = "
                      "'bytes'") == "l");
}

BOOST_AUTO_TEST_CASE(personal_values_are_deflated_as_zlib_streams_and_what_zlib_wrote_opens) {
  // Issue 25: the text is deflated by libdeflate (session 37), as zlib deflated it before with a window
  // the size of the text (session 36) and with zlib's defaults before that. What is stored stays a zlib
  // stream any zlib opens, and a value written by either earlier form opens as ever.
  const std::string samples = testing::dataDir() + "/sev-ovv-1.5/samples/";
  for (const char* name : {"ds13-ack1-delivered.xml", "ds09-reply-to-approval.xml", "ds03-doc-for-approval.xml",
                           "ds07-reply-to-execution.xml"}) {
    BOOST_TEST_CONTEXT(name) {
      const std::string text = testing::readFile(samples + name);
      const auto packed = store::at_rest_detail::deflated(text);
      BOOST_REQUIRE(packed.has_value());
      BOOST_TEST(packed->size() < text.size() * 9 / 10);
      BOOST_TEST(store::at_rest_detail::inflated(*packed).value_or("") == text);
      std::string by_zlib(text.size(), '\0');
      uLongf size = static_cast<uLongf>(by_zlib.size());
      BOOST_TEST(uncompress(reinterpret_cast<Bytef*>(by_zlib.data()), &size,
                            reinterpret_cast<const Bytef*>(packed->data() + 4),
                            static_cast<uLong>(packed->size() - 4)) == Z_OK);
      BOOST_TEST(by_zlib == text);
      std::string damaged = *packed;
      damaged.back() = static_cast<char>(damaged.back() ^ 0x5a);  // its checksum (Adler-32) no longer holds
      BOOST_TEST(!store::at_rest_detail::inflated(damaged).has_value());
    }
  }
  // Written before: zlib at level 1 with its defaults (a 32 KiB window), then with a 4 KiB window and a
  // match table sized to it, as session 36 wrote a text of 2.5 KB.
  const std::string text = testing::readFile(samples + "ds09-reply-to-approval.xml");
  for (const int window : {15, 12}) {
    BOOST_TEST_CONTEXT("window " << window) {
      z_stream z{};
      BOOST_REQUIRE(deflateInit2(&z, 1, Z_DEFLATED, window, std::clamp(window - 7, 2, 8), Z_DEFAULT_STRATEGY) == Z_OK);
      std::string old(4 + deflateBound(&z, static_cast<uLong>(text.size())), '\0');
      for (int i = 0; i < 4; ++i)
        old[static_cast<std::size_t>(i)] = static_cast<char>((text.size() >> (24 - 8 * i)) & 0xff);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
      z.avail_in = static_cast<uInt>(text.size());
      z.next_out = reinterpret_cast<Bytef*>(old.data() + 4);
      z.avail_out = static_cast<uInt>(old.size() - 4);
      BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
      old.resize(4 + z.total_out);
      deflateEnd(&z);
      BOOST_TEST((static_cast<unsigned char>(old[4]) >> 4) + 8 == window);  // CINFO: log2(window) - 8
      BOOST_TEST(store::at_rest_detail::inflated(old).value_or("") == text);
    }
  }
  // Several threads at once, each with its own compressor.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto packed = store::at_rest_detail::deflated(text);
        if (!packed || store::at_rest_detail::inflated(*packed).value_or("") != text) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(wrong.load() == 0);
  // Too short, or not worth it: sealed as it is.
  BOOST_TEST(!store::at_rest_detail::deflated(std::string(255, 'a')).has_value());
  std::string noise(4096, '\0');
  std::mt19937 random(7);
  for (auto& c : noise) c = static_cast<char>(random());
  BOOST_TEST(!store::at_rest_detail::deflated(noise).has_value());
}

BOOST_AUTO_TEST_CASE(kept_body_keeps_what_it_kept_and_is_compiled_once) {
  // Migration 0041: vkhid_kept_body in PL/pgSQL, compiled once per connection, where its SQL body was
  // parsed and planned at every call. What it keeps is what the rule of migration 0024 kept.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  const std::string rule =
      "(SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(b) WHERE key IN ('kind', "
      "'classification', 'channel', 'received_at', 'urgency', 'priority', 'no_further_study', 'addressee_org_id', "
      "'complained_of_org_id', 'handling_minutes', 'deadlines', 'consent')) || jsonb_build_object('applicant', "
      "jsonb_build_object('anonymous', coalesce(b->'applicant'->'anonymous', 'false'::jsonb), 'collective', "
      "coalesce(b->'applicant'->'collective', 'false'::jsonb)), 'violence', jsonb_build_object('forms', "
      "coalesce(b->'violence'->'forms', '[]'::jsonb), 'child_involved', coalesce(b->'violence'->'child_involved', "
      "'false'::jsonb)))";
  const std::vector<std::string> bodies = {
      testing::readFile(testing::sourceDir() + "/config/examples/case-appeal.json"),
      R"({"kind": "violence_report", "applicant": {"full_name": "Іваненко Іван", "anonymous": true, "email": "a@b.c"},
          "violence": {"forms": ["physical"], "child_involved": true, "address": "Київ"}, "deadlines": {"x": null},
          "text": "…", "consent": null, "priority": 2})",
      "{}"};
  for (const auto& body : bodies) {
    BOOST_TEST_CONTEXT(body.substr(0, 60)) {
      auto r = conn.exec(
          "SELECT vkhid_kept_body($1::jsonb)::text, (SELECT (" + rule + ")::text FROM (SELECT $1::jsonb AS b) x)",
          {body});
      BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
      BOOST_TEST(r->get(0, 0) == r->get(0, 1));
      BOOST_TEST(std::string(r->get(0, 0)).find("@") == std::string::npos);
    }
  }
  BOOST_TEST(db.query("SELECT vkhid_kept_body(NULL)::text") ==
             db.query("SELECT (" + rule + ")::text FROM (SELECT NULL::jsonb AS b) x"));
  auto refused = conn.exec("SELECT vkhid_kept_body('[1]'::jsonb)");
  BOOST_TEST(!refused.ok());  // as before: a body that is not an object
  BOOST_TEST(db.query("SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = "
                      "'vkhid_kept_body'") == "plpgsql");
}

BOOST_AUTO_TEST_CASE(a_triggers_condition_calls_no_function) {
  // Migration 0042: PostgreSQL prepares a trigger's WHEN for every statement that fires it, and inlines
  // each SQL function the condition calls, read from the catalogue anew. Three calls of
  // vkhid_case_is_open made each update of a case 65-70 µs dearer, where the trigger's function deciding
  // for itself costs 8 µs. Conditions on columns and constants cost nothing measurable, and stay.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  const std::string conditions =
      "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE NOT t.tgisinternal AND n.nspname = 'public' AND t.tgqual IS NOT NULL";
  BOOST_TEST(db.query("SELECT coalesce(string_agg(c.relname || '.' || t.tgname, ', ' ORDER BY t.tgname), '') " +
                      conditions + " AND t.tgqual LIKE '%{FUNCEXPR %'") == "");
  // The conditions are seen: the evidence trigger's on a package's status is one.
  BOOST_TEST(db.query("SELECT string_agg(t.tgname, ', ') " + conditions) == "audit_message");
  // And the open-case trigger is one again, for the three events.
  BOOST_TEST(db.query("SELECT string_agg(tgname, ', ') FROM pg_trigger WHERE tgrelid = 'cases'::regclass AND NOT "
                      "tgisinternal AND tgname LIKE 'track_open_case%'") == "track_open_case");
}

BOOST_AUTO_TEST_SUITE_END()

// Writes whose results nobody reads wait in the connection and travel with the transaction's next
// statement or its COMMIT, in one round trip (libpq's pipeline mode).
BOOST_AUTO_TEST_SUITE(queued_writes)

namespace {
long long countRows(store::PgConnection& c, const std::string& where = "true") {
  auto r = c.exec("SELECT count(*) FROM t WHERE " + where);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return r->getInt(0, 0);
}
}  // namespace

BOOST_AUTO_TEST_CASE(queued_writes_run_in_order_before_the_next_statement_and_commit_in_one_round_trip) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto other = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());

  const long long before = conn.roundTrips();
  Status s = store::inTransaction(conn, [&]() -> Status {
    for (int i = 1; i <= 3; ++i) {
      if (auto w = conn.later("INSERT INTO t VALUES ($1, $2)", {std::to_string(i), "n" + std::to_string(i)}); !w) {
        return w;
      }
    }
    if (auto w = conn.later("UPDATE t SET name = $2 WHERE id = $1", {std::string("2"), std::string("second")}); !w) {
      return w;
    }
    BOOST_TEST(conn.roundTrips() == before);  // nothing sent yet, not even BEGIN
    BOOST_TEST(countRows(other) == 0);
    // The next statement sees them, in their order: the update ran after the insert it changes.
    auto r = conn.exec("SELECT string_agg(name, ',' ORDER BY id) FROM t WHERE id > $1", {std::string("0")});
    if (!r) return r.error();
    BOOST_TEST(r->get(0, 0) == "n1,second,n3");
    BOOST_TEST(conn.roundTrips() == before + 1);  // BEGIN, four writes and the query together
    BOOST_TEST(countRows(other) == 0);            // not committed yet
    return conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("4"), std::string("n4")});
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  BOOST_TEST(conn.roundTrips() == before + 2);  // the last write and COMMIT together
  BOOST_TEST(countRows(other) == 4);
  BOOST_TEST(countRows(other, "name = 'second'") == 1);

  // A transaction of writes alone is one round trip, BEGIN to COMMIT.
  const long long start = conn.roundTrips();
  BOOST_REQUIRE(
      store::inTransaction(conn, [&] { return conn.later("DELETE FROM t WHERE id = $1", {std::string("4")}); }).ok());
  BOOST_TEST(conn.roundTrips() == start + 1);
  BOOST_TEST(countRows(other) == 3);
}

BOOST_AUTO_TEST_CASE(reads_asked_ahead_travel_with_the_next_exchange_and_answer_their_exec_once) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES (1, 'one'), (2, 'two')").ok());
  BOOST_REQUIRE(conn.exec("CREATE SEQUENCE s").ok());
  const std::string by_id = "SELECT name FROM t WHERE id = $1";
  const std::string next = "SELECT nextval('s') + $1";

  const long long before = conn.roundTrips();
  Status s = store::inTransaction(conn, [&]() -> Status {
    conn.ask(by_id, {std::string("1")});
    conn.ask(next, {std::string("0")});
    BOOST_TEST(conn.roundTrips() == before);  // nothing sent yet
    // Another read carries them: one exchange for three.
    auto two = conn.exec(by_id, {std::string("2")});
    if (!two) return two.error();
    BOOST_TEST(two->get(0, 0) == "two");
    BOOST_TEST(conn.roundTrips() == before + 1);
    // Their own execs are answered from what came back, in any order, without an exchange.
    auto n = conn.exec(next, {std::string("0")});
    if (!n) return n.error();
    BOOST_TEST(n->get(0, 0) == "1");
    auto one = conn.exec(by_id, {std::string("1")});
    if (!one) return one.error();
    BOOST_TEST(one->get(0, 0) == "one");
    BOOST_TEST(conn.roundTrips() == before + 1);
    // Once: the same statement again is asked of the server again (the sequence moves on).
    n = conn.exec(next, {std::string("0")});
    if (!n) return n.error();
    BOOST_TEST(n->get(0, 0) == "2");
    BOOST_TEST(conn.roundTrips() == before + 2);
    // Other parameters are another question.
    conn.ask(next, {std::string("100")});
    n = conn.exec(next, {std::string("0")});
    if (!n) return n.error();
    BOOST_TEST(n->get(0, 0) == "4");  // the asked one drew 3 first, with it
    // Asked and never wanted: forgotten with the transaction.
    return {};
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  BOOST_TEST(conn.roundTrips() == before + 4);  // the last COMMIT on its own

  // Asked and wanted before anything else went: its exec sends it, with the writes queued before it.
  s = store::inTransaction(conn, [&]() -> Status {
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("3"), std::string("three")});
    conn.ask(by_id, {std::string("3")});
    auto three = conn.exec(by_id, {std::string("3")});
    if (!three) return three.error();
    BOOST_TEST(three->rows() == 1);  // it ran after the write queued before it
    return {};
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));

  // An answer does not outlive its transaction: the next one asks the server.
  const long long start = conn.roundTrips();
  s = store::inTransaction(conn, [&]() -> Status {
    conn.ask(next, {std::string("0")});
    return conn.later("UPDATE t SET name = 'uno' WHERE id = $1", {std::string("1")});
  });
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(conn.roundTrips() == start + 1);  // asked, sent with the COMMIT, never wanted
  s = store::inTransaction(conn, [&]() -> Status {
    auto n = conn.exec(next, {std::string("0")});
    if (!n) return n.error();
    BOOST_TEST(n->get(0, 0) == "6");
    return {};
  });
  BOOST_REQUIRE(s.ok());

  // An asked read that fails fails the exchange that carried it, and the transaction with it.
  s = store::inTransaction(conn, [&]() -> Status {
    conn.ask("SELECT name FROM t WHERE id = $1::int", {std::string("not a number")});
    auto r = conn.exec(by_id, {std::string("1")});
    return r ? Status() : Status(r.error());
  });
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message.find("invalid input syntax for type integer") != std::string::npos, s.error().message);
  BOOST_TEST(conn.reusable());

  // Outside a transaction, asking does nothing: the exec runs when it comes.
  const long long alone = conn.roundTrips();
  conn.ask(by_id, {std::string("2")});
  BOOST_TEST(conn.roundTrips() == alone);
  auto two = conn.exec(by_id, {std::string("2")});
  BOOST_REQUIRE(two.ok());
  BOOST_TEST(two->get(0, 0) == "two");
  BOOST_TEST(conn.roundTrips() == alone + 1);
}

BOOST_AUTO_TEST_CASE(a_transactions_last_statement_goes_with_its_commit_and_gives_its_rows_once_committed) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto other = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.exec("CREATE TABLE d (id int PRIMARY KEY, t_id int REFERENCES t (id) DEFERRABLE INITIALLY "
                          "DEFERRED)")
                    .ok());
  const std::string insert = "INSERT INTO t VALUES ($1, $2) RETURNING id, name";

  // BEGIN, a write, the statement and COMMIT: one exchange, the statement's rows given back.
  const long long before = conn.roundTrips();
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("1"), std::string("one")}).ok());
  auto r = conn.commitWith(insert, {std::string("2"), std::string("two")});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->get(0, 1) == "two");
  BOOST_TEST(conn.roundTrips() == before + 1);
  BOOST_TEST(countRows(other) == 2);  // committed
  BOOST_TEST(conn.reusable());

  // The statement fails: nothing of the transaction is kept.
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("3"), std::string("three")}).ok());
  r = conn.commitWith(insert, {std::string("1"), std::string("again")});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((r.error().kind == ErrorKind::Conflict), r.error().message);
  BOOST_TEST(countRows(other) == 2);
  BOOST_TEST(conn.reusable());

  // The statement succeeds and the COMMIT fails (a deferred check): no rows are given for a transaction
  // that did not commit.
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(conn.later("INSERT INTO d VALUES ($1, $2)", {std::string("1"), std::string("99")}).ok());
  r = conn.commitWith(insert, {std::string("4"), std::string("four")});
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("d_t_id_fkey") != std::string::npos, r.error().message);
  BOOST_TEST(countRows(other) == 2);
  BOOST_TEST(conn.reusable());

  // Outside a transaction: refused, nothing sent.
  const long long outside = conn.roundTrips();
  BOOST_TEST(!conn.commitWith(insert, {std::string("5"), std::string("five")}).ok());
  BOOST_TEST(conn.roundTrips() == outside);
}

BOOST_AUTO_TEST_CASE(a_statements_first_run_on_a_connection_is_prepared_with_it_in_one_exchange) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES (1, 'one')").ok());
  const std::string by_id = "SELECT name FROM t WHERE id = $1";
  // Prepared and run together (it was a PQprepare and then its run: two exchanges), then run as prepared.
  for (int run = 1; run <= 2; ++run) {
    const long long before = conn.roundTrips();
    auto r = conn.exec(by_id, {std::string("1")});
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->get(0, 0) == "one");
    BOOST_TEST(conn.roundTrips() == before + 1);
  }
  auto prepared = conn.exec("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", {by_id});
  BOOST_REQUIRE(prepared.ok());
  BOOST_TEST(prepared->getInt(0, 0) == 1);
  // A statement that cannot be prepared fails with its own error, and is prepared afresh once it can be.
  const std::string later_column = "SELECT extra FROM t WHERE id = $1";
  auto bad = conn.exec(later_column, {std::string("1")});
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("extra") != std::string::npos, bad.error().message);
  BOOST_TEST(conn.reusable());
  BOOST_REQUIRE(conn.exec("ALTER TABLE t ADD COLUMN extra int DEFAULT 7").ok());
  auto good = conn.exec(later_column, {std::string("1")});
  BOOST_REQUIRE_MESSAGE(good.ok(), (good.ok() ? "" : good.error().message));
  BOOST_TEST(good->get(0, 0) == "7");
}

BOOST_AUTO_TEST_CASE(a_failing_queued_write_fails_the_transaction_and_nothing_of_it_is_kept) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO t VALUES (1, 'one')").ok());

  // The duplicate key fails at COMMIT, as a conflict; the writes queued before and after it are gone.
  Status s = store::inTransaction(conn, [&]() -> Status {
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("2"), std::string("two")});
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("1"), std::string("again")});
    return conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("3"), std::string("three")});
  });
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST((s.error().kind == ErrorKind::Conflict), s.error().message);
  BOOST_TEST(s.error().message.find("t_pkey") != std::string::npos, s.error().message);
  BOOST_TEST(conn.reusable());
  BOOST_TEST(countRows(conn) == 1);

  // Failing before a query: the query's call returns the write's error, the transaction rolls back.
  s = store::inTransaction(conn, [&]() -> Status {
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("5"), std::string("five")});
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("not a number"), std::string("x")});
    auto r = conn.exec("SELECT count(*) FROM t WHERE id > $1", {std::string("0")});
    return r ? Status() : Status(r.error());
  });
  BOOST_REQUIRE(!s.ok());
  // The write's own error, naming what was expected — but not the value, which may be someone's data.
  BOOST_TEST(s.error().message.find("invalid input syntax for type integer") != std::string::npos, s.error().message);
  BOOST_TEST(s.error().message.find("not a number") == std::string::npos, s.error().message);
  BOOST_TEST(conn.reusable());

  // A statement first prepared in a failing pipeline is prepared afresh next time.
  const std::string bad = "INSERT INTO t VALUES ($1, $2) RETURNING nonexistent";
  s = store::inTransaction(conn, [&] { return conn.later(bad, {std::string("6"), std::string("six")}); });
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message.find("nonexistent") != std::string::npos, s.error().message);
  BOOST_REQUIRE(conn.exec("ALTER TABLE t ADD COLUMN nonexistent int DEFAULT 7").ok());
  s = store::inTransaction(conn, [&] { return conn.later(bad, {std::string("6"), std::string("six")}); });
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  BOOST_TEST(countRows(conn) == 2);
  BOOST_TEST(conn.reusable());
}

BOOST_AUTO_TEST_CASE(outside_a_transaction_a_write_runs_at_once_and_a_rollback_sends_nothing_unsent) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto other = connectTo(db.url());
  BOOST_REQUIRE(conn.exec("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  BOOST_REQUIRE(conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("1"), std::string("one")}).ok());
  BOOST_TEST(countRows(other) == 1);  // committed on its own
  auto dup = conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("1"), std::string("again")});
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST((dup.error().kind == ErrorKind::Conflict));

  // A body that fails before anything was sent: its queued writes are dropped, without a round trip.
  const long long before = conn.roundTrips();
  Status s = store::inTransaction(conn, [&]() -> Status {
    (void)conn.later("INSERT INTO t VALUES ($1, $2)", {std::string("2"), std::string("two")});
    return Error::invalid("test.refused", "the body refuses");
  });
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().code == "test.refused");
  BOOST_TEST(conn.roundTrips() == before);
  BOOST_TEST(conn.reusable());
  BOOST_TEST(countRows(other) == 1);

  // A connection given up between BEGIN and COMMIT is not handed out again, even with nothing sent.
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_TEST(!conn.reusable());
  BOOST_TEST(!conn.begin().ok());  // no nested transaction
  BOOST_REQUIRE(conn.rollback().ok());
  BOOST_TEST(conn.reusable());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(routing)

BOOST_AUTO_TEST_CASE(a_rules_match_names_its_participant_as_an_envelope_does_in_one_statement) {
  // Routing by a rule needs the participant it chose as the package's envelope names it: read with the
  // rule, in the statement that matched it, the same names as the participant's own row gives.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO participant (org_id, sys_id, name, system_name, status) VALUES "
                          "('P-1', 'S-1', 'Міністерство', 'АСКОД', 'active'), ('P-2', 'S-2', 'Інше', '', 'active')")
                    .ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO routing_rule (priority, kind, target_org_id) VALUES (10, 'appeal', 'P-1'), "
                          "(20, NULL, 'P-2')")
                    .ok());
  store::PgRouteRepository routes(conn);
  BOOST_REQUIRE(routes.firstRule("appeal", "", "", {}).ok());  // prepared on this connection (a round trip)
  for (const auto& [kind, declined, target] : {std::tuple{"appeal", std::vector<std::string>{}, "P-1"},
                                               std::tuple{"appeal", std::vector<std::string>{"P-1"}, "P-2"},
                                               std::tuple{"info_request", std::vector<std::string>{}, "P-2"}}) {
    BOOST_TEST_CONTEXT(kind << " declined by " << declined.size()) {
      const long long before = conn.roundTrips();
      auto match = routes.firstRule(kind, "", "", declined);
      BOOST_REQUIRE(match.ok());
      BOOST_TEST(conn.roundTrips() == before + 1);
      BOOST_REQUIRE(match->has_value());
      BOOST_TEST((**match).target_org_id == target);
      auto own = store::participantParty(conn, target);
      BOOST_REQUIRE(own.ok());
      BOOST_REQUIRE(own->has_value());
      BOOST_REQUIRE((**match).party.has_value());
      BOOST_TEST((**match).party->name == (**own).name);
      BOOST_TEST((**match).party->sys_id == (**own).sys_id);
      BOOST_TEST((**match).party->system_name == (**own).system_name);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_new_cases_routing_row_is_the_row_routing_would_read_of_it) {
  // The intake routes a case in the transaction that registers it, from the row it wrote rather than
  // read back: each field as lockCaseForRouting reads it — the time of receipt as PostgreSQL parsed it
  // (an offset, a fraction of a second, none at all: the transaction's now), the body as sealed, the
  // topic and a complaint's subject as the kept body holds them, the answer term.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  installDevKeyAtRest(db);
  struct Given {
    std::string received_at, body, due_kind, due_rule;
    long long due_epoch;
  };
  const std::vector<Given> given{
      {"2026-12-01T10:15:30.750+02:00",
       R"({"kind":"appeal","classification":{"topic":"004.12"},"complained_of_org_id":"12345678",)"
       R"("applicant":{"surname":"Шевченко"},"text":"Прошу"})",
       "appeal", "Law 393 art. 20", 1767225600},
      {"", R"({"kind":"info_request","applicant":{"anonymous":true},"text":"Запит"})", "", "", 0},
      {"2026-11-30T23:59:59Z", R"({"kind":"appeal","classification":{},"text":"x"})", "", "a rule without a term",
       1767225600}};
  int i = 0;
  for (const auto& g : given) {
    BOOST_TEST_CONTEXT("case " << i) {
      store::NewCaseRecord record = newAppealRecord(db, i, g.received_at, g.body);
      record.addressee_org_id = i == 0 ? "87654321" : "";
      record.due_kind = g.due_kind;
      record.due_rule = g.due_rule;
      record.due_epoch = g.due_epoch;
      ++i;
      auto done = store::inTransaction(conn, [&]() -> Status {
        auto n = store::nextUccNumber(conn, record.received_at);
        if (!n) return n.error();
        if (auto s = store::insertRegisteredCase(conn, record); !s) return s;
        // The topic and a complaint's subject as the intake has them: parsed from the body it was sent.
        const auto parsed = flows::parseCaseJson(record.body_json).value;
        const auto written =
            store::newCaseRoutingRow(record, *n, parsed.classification.topic.value_or(""), parsed.complained_of_org_id);
        auto read = store::lockCaseForRouting(conn, record.id);
        if (!read) return read.error();
        BOOST_REQUIRE(read->has_value());
        const auto fields = [](const store::RoutingCaseRow& x) {
          std::string declined;
          for (const auto& d : x.declined_by) declined += d + ",";
          return std::vector<std::pair<const char*, std::string>>{
              {"status", std::string(domain::caseStatusName(x.status))},
              {"kind", x.kind},
              {"body_json", x.body_json},
              {"ucc_number", x.ucc_number},
              {"registered_on", x.registered_on},
              {"received_at", x.received_at},
              {"addressee_org_id", x.addressee_org_id},
              {"topic", x.topic},
              {"declined_by", declined},
              {"due_kind", x.due_kind},
              {"due_epoch", std::to_string(x.due_epoch)},
              {"due_rule", x.due_rule},
              {"route_to", x.route_to},
              {"complained_of", x.complained_of}};
        };
        const auto w = fields(written), d = fields(**read);
        for (std::size_t k = 0; k < w.size(); ++k) BOOST_TEST(w[k].second == d[k].second, w[k].first);
        return {};
      });
      BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
    }
  }
  // What the first case's fields came to, so that the comparison above compared something.
  BOOST_TEST(db.query("SELECT to_char(received_at AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' ' || "
                      "(body->'classification'->>'topic') || ' ' || (body->>'complained_of_org_id') FROM cases "
                      "WHERE ucc_number = 'U-0'") == "08:15:30 004.12 12345678");
}

BOOST_AUTO_TEST_CASE(a_replys_case_locked_by_its_number_comes_with_its_groups_members_in_one_exchange) {
  // An answer to a mass appeal tells every member's applicant: the members were read in a statement of
  // their own after the case was locked. They come with the case now, in the order received, as
  // mergedMembers gives them; a case with no group comes with none.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  installDevKeyAtRest(db);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    store::NewCaseRecord record =
        newAppealRecord(db, i, "2026-12-01T10:0" + std::to_string(i) + ":00Z", R"({"kind":"appeal","text":"Прошу"})");
    if (i == 1 || i == 2) record.merged_into = ids[0];  // U-1 and U-2 join U-0; U-3 stands alone
    BOOST_REQUIRE(store::inTransaction(conn, [&] { return store::insertRegisteredCase(conn, record); }).ok());
    ids.push_back(record.id);
  }
  BOOST_REQUIRE(conn.exec("INSERT INTO participant (org_id, sys_id, name, system_name, status) VALUES "
                          "('P-1', 'S-1', 'Міністерство', 'АСКОД', 'active')")
                    .ok());
  BOOST_REQUIRE(conn.exec("UPDATE cases SET participant_org_id = 'P-1' WHERE ucc_number IN ('U-0', 'U-3')").ok());
  // Prepared on this connection first (a round trip of its own).
  BOOST_REQUIRE(store::inTransaction(conn, [&]() -> Status {
                  auto warm = store::lockParticipantCaseByNumber(conn, "U-3", "P-1");
                  return warm ? Status() : Status(warm.error());
                }).ok());
  for (const auto& [number, members] :
       {std::pair{"U-0", std::vector<int>{1, 2}}, std::pair{"U-3", std::vector<int>{}}}) {
    BOOST_TEST_CONTEXT(number) {
      Status done = store::inTransaction(conn, [&]() -> Status {
        const long long before = conn.roundTrips();
        auto c = store::lockParticipantCaseByNumber(conn, number, "P-1");
        BOOST_TEST(conn.roundTrips() == before + 1);  // BEGIN travels with it
        BOOST_REQUIRE(c.ok());
        BOOST_REQUIRE(c->has_value());
        std::vector<std::string> got, expected;
        for (const auto& m : (**c).members) got.push_back(m.id + " " + m.tracking_code);
        for (int k : members) expected.push_back(ids[static_cast<std::size_t>(k)] + " T-" + std::to_string(k));
        BOOST_TEST(got == expected, boost::test_tools::per_element());
        auto apart = store::mergedMembers(conn, (**c).id);
        BOOST_REQUIRE(apart.ok());
        BOOST_TEST(apart->size() == members.size());
        return {};
      });
      BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cases)

namespace {
// A migrated database with one case in `status`, with participant P-1 and a recorded registration number.
std::string caseIn(store::PgConnection& conn, const std::string& status) {
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  BOOST_REQUIRE(conn.exec("INSERT INTO participant (org_id, sys_id, name) VALUES ('P-1', 'S-1', 'p1')").ok());
  auto r = conn.exec(
      "INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, channel, "
      "received_at, body, client_id, participant_org_id, participant_reg_number) VALUES (gen_random_uuid(), 'U-1', "
      "'T-1', 'appeal', $1, false, false, 'normal', 'web', now(), '{}', 'c', 'P-1', '42/7') RETURNING id::text",
      {status});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::string(r->get(0, 0));
}

std::string historyOf(testing::TestDatabase& db, const std::string& id) {
  return db.query(
      "SELECT coalesce(string_agg(actor || ' ' || event || ':' || status_from || '>' || status_to, ', ' ORDER BY id), "
      "'') FROM case_event WHERE case_id = '" +
      id + "'");
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_status_change_is_written_with_its_events_in_one_transaction) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "registered_by_participant");
  auto done = store::inTransaction(conn, [&]() -> Status {
    auto from = store::lockCaseStatus(conn, id);
    if (!from) return from.error();
    auto to = store::transitionCase(conn, {id, **from, domain::CaseEvent::Answered, 0, "P-1", R"({"msg_id":"m"})",
                                           store::CaseFields::recordAnswer("0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11")});
    if (!to) return to.error();
    BOOST_TEST(domain::caseStatusName(*to) == std::string("closed"));
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(db.query("SELECT status || ' ' || answer_msg_id FROM cases WHERE id = '" + id + "'") ==
             "closed 0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11");
  // The answer is the participant's; the close it brings is the gateway's.
  BOOST_TEST(historyOf(db, id) == "P-1 answered:registered_by_participant>answered, gateway closed:answered>closed");
}

BOOST_AUTO_TEST_CASE(a_change_the_state_machine_refuses_writes_nothing) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "answered");
  auto done = store::inTransaction(conn, [&]() -> Status {
    auto to = store::transitionCase(conn, {id, domain::CaseStatus::Answered, domain::CaseEvent::Forwarded, 0, "P-1",
                                           "{}", store::CaseFields::leaveParticipant("P-1", "P-2")});
    return to ? Status() : Status(to.error());
  });
  BOOST_REQUIRE(!done.ok());
  BOOST_TEST(done.error().code == "case.transition_refused");
  BOOST_TEST(done.error().message.find("forwarded needs the case not answered yet, and it is answered") !=
             std::string::npos);
  BOOST_TEST(db.query("SELECT status || ' ' || participant_org_id || ' ' || coalesce(addressee_org_id, '-') FROM "
                      "cases WHERE id = '" +
                      id + "'") == "answered P-1 -");
  BOOST_TEST(historyOf(db, id) == "");
}

BOOST_AUTO_TEST_CASE(a_forward_leaves_the_participant_and_keeps_what_a_receipt_left_out) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "sent");
  auto done = store::inTransaction(conn, [&]() -> Status {
    // A delivery receipt carries no number: the recorded one stays.
    auto r = store::transitionCase(conn, {id, domain::CaseStatus::Sent, domain::CaseEvent::Receipt, 1, "P-1", "{}",
                                          store::CaseFields::recordReceipt({}, {}, {}, {})});
    if (!r) return r.error();
    auto f = store::transitionCase(conn, {id, *r, domain::CaseEvent::Forwarded, 0, "P-1", "{}",
                                          store::CaseFields::leaveParticipant("P-1", "P-2")});
    return f ? Status() : Status(f.error());
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(db.query("SELECT concat_ws(' ', status, coalesce(participant_org_id, '-'), addressee_org_id, "
                      "coalesce(participant_reg_number, '-'), declined_by::text) FROM cases WHERE id = '" +
                      id + "'") == "forwarded - P-2 - {P-1}");
  BOOST_TEST(historyOf(db, id) == "P-1 receipt_1:sent>delivered, P-1 forwarded:delivered>forwarded");
}

BOOST_AUTO_TEST_CASE(a_case_is_locked_once_a_transaction_and_held_to_its_end) {
  // Issue 25: a transaction that locked a case and changed it reads it again without a second lock (each
  // lock is a WAL record), and the case stays held until the transaction ends: another's lock waits.
  // The next transaction locks it anew.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto other = connectTo(db.url());
  auto id = caseIn(conn, "sent");
  BOOST_REQUIRE(conn.exec("CREATE EXTENSION IF NOT EXISTS pg_walinspect").ok());
  auto lsn = [&] { return std::string(conn.exec("SELECT pg_current_wal_flush_lsn()::text")->get(0, 0)); };
  // The exclusive row locks written to this database's cases table since `from` (other tests write other
  // databases; a foreign key's check takes a key-share lock of its own).
  auto locksSince = [&](const std::string& from) {
    return db.query("SELECT count(*) FROM pg_get_wal_records_info_till_end_of_wal('" + from +
                    "') WHERE record_type = 'LOCK' AND description LIKE '%EXCL_LOCK%' "
                    "AND block_ref LIKE '%/' || "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) || '/' || "
                    "pg_relation_filenode('cases') || ' %'");
  };
  auto lockedElsewhere = [&] {
    return !other.exec("SELECT 1 FROM cases WHERE id = vkhid_uuid($1) FOR UPDATE NOWAIT", {id}).ok();
  };
  const auto before = lsn();
  BOOST_REQUIRE(conn.begin().ok());
  auto first = store::lockCaseStatus(conn, id);
  BOOST_REQUIRE(first.ok());
  auto to = store::transitionCase(conn, {id, **first, domain::CaseEvent::Receipt, 1, "P-1", "{}",
                                         store::CaseFields::recordReceipt({}, {}, {}, {})});
  BOOST_REQUIRE_MESSAGE(to.ok(), (to.ok() ? "" : to.error().message));
  auto again = store::lockCaseStatus(conn, id);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(domain::caseStatusName(**again) == std::string("delivered"));  // its own change
  BOOST_TEST(lockedElsewhere());
  BOOST_REQUIRE(conn.commit().ok());
  BOOST_TEST(locksSince(before) == "1");
  BOOST_TEST(!lockedElsewhere());
  // A new transaction holds nothing: its lock is taken, and another waits for it again.
  const auto later = lsn();
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(store::lockCaseStatus(conn, id).ok());
  BOOST_TEST(lockedElsewhere());
  BOOST_REQUIRE(conn.commit().ok());  // its lock's record flushed with the commit
  BOOST_TEST(locksSince(later) == "1");
}

BOOST_AUTO_TEST_CASE(a_status_the_state_machine_does_not_know_is_an_error_never_a_guess) {
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "sent");
  BOOST_REQUIRE(conn.exec("UPDATE cases SET status = 'lost' WHERE id = vkhid_uuid($1)", {id}).ok());
  auto s = store::lockCaseStatus(conn, id);
  BOOST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().code == "case.bad_status");
  auto none = store::lockCaseStatus(conn, "0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11");
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(!none->has_value());
}

BOOST_AUTO_TEST_CASE(the_open_case_gauges_follow_every_change_and_never_read_the_closed_history) {
  // Issue 25: the gauges vkhid_cases_open and vkhid_cases_overdue counted the open cases with a scan of
  // every case ever received, every 15 s from every gateway (9 GB against a year's history). They read the
  // open cases alone now (migration 0030), kept by a trigger whichever statement changes a case.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "sent");  // open, no due date yet
  BOOST_REQUIRE(
      conn.exec("INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, "
                "urgency, channel, received_at, body, client_id, due_at) SELECT gen_random_uuid(), 'H-' || i, "
                "'HT-' || i, 'appeal', CASE WHEN i = 1 THEN 'delivered' WHEN i = 2 THEN 'sent' ELSE "
                "'closed' END, false, false, 'normal', CASE WHEN i = 2 THEN 'conformance' ELSE 'web' END, "
                "now(), '{}', 'c', now() - interval '1 day' FROM generate_series(1, 3000) i")
          .ok());
  const std::string overdue_one = db.query("SELECT id FROM cases WHERE ucc_number = 'H-1'");
  auto gauges = [&] {
    auto done = store::inTransaction(conn, [&]() -> Status {
      // What the refresh read of the cases table (the scans this backend has not reported yet, before and
      // after it, in one transaction): nothing, neither a scan nor an index.
      auto reads = [&]() -> long long {
        auto r = conn.exec(
            "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_xact_user_tables WHERE relname "
            "= 'cases'");
        BOOST_REQUIRE(r.ok());
        return r->getInt(0, 0);
      };
      const long long before = reads();
      if (auto s = flows::refreshCaseGauges(conn); !s) return s;
      BOOST_TEST(reads() == before);
      return {};
    });
    BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
    auto& m = app::metrics();
    return std::to_string(static_cast<int>(m.gauge("vkhid_cases_open", "").value())) + " " +
           std::to_string(static_cast<int>(m.gauge("vkhid_cases_overdue", "").value()));
  };
  // Open: the first case and H-1 (overdue); H-2 is a participant's conformance test, the rest closed.
  BOOST_TEST(gauges() == "2 1");
  // The answer's term set and already past: overdue too.
  BOOST_REQUIRE(conn.exec("UPDATE cases SET due_at = now() - interval '1 hour' WHERE id = vkhid_uuid($1)", {id}).ok());
  BOOST_TEST(gauges() == "2 2");
  // Answered through the state machine: neither open nor overdue.
  auto answered = store::inTransaction(conn, [&]() -> Status {
    auto to = store::transitionCase(conn, {id, domain::CaseStatus::Sent, domain::CaseEvent::Answered, 0, "P-1", "{}",
                                           store::CaseFields::recordAnswer("0b5e3b7c-4f0e-4a36-9a55-4ad4bc2f3e11")});
    return to ? Status() : Status(to.error());
  });
  BOOST_REQUIRE_MESSAGE(answered.ok(), (answered.ok() ? "" : answered.error().message));
  BOOST_TEST(gauges() == "1 1");
  // An extension moves H-1's term into the future; then it is withdrawn by a statement of its own.
  BOOST_REQUIRE(
      conn.exec("UPDATE cases SET due_at = now() + interval '5 days' WHERE id = vkhid_uuid($1)", {overdue_one}).ok());
  BOOST_TEST(gauges() == "1 0");
  BOOST_REQUIRE(conn.exec("UPDATE cases SET status = 'withdrawn' WHERE id = vkhid_uuid($1)", {overdue_one}).ok());
  BOOST_TEST(gauges() == "0 0");
  // A case that ended and is taken up again (a returned one sent anew) is open again, with its term.
  BOOST_REQUIRE(
      conn.exec("UPDATE cases SET status = 'sent', due_at = now() - interval '1 minute' WHERE ucc_number = 'H-3'")
          .ok());
  BOOST_TEST(gauges() == "1 1");
  BOOST_REQUIRE(conn.exec("DELETE FROM cases WHERE ucc_number = 'H-3'").ok());
  BOOST_TEST(gauges() == "0 0");
}

BOOST_AUTO_TEST_CASE(a_cases_open_row_follows_its_status_and_term_whatever_changes_them) {
  // The trigger keeping case_open (migrations 0030, 0038; one trigger again since 0042, its function
  // deciding every change): the row is there while the case is open, with its term, and only then.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  auto id = caseIn(conn, "routed");
  auto change = [&](const std::string& sql) {
    auto r = conn.exec(sql, {id});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  };
  auto openRow = [&] {
    return db.query(
        "SELECT coalesce((SELECT coalesce(to_char(due_at, 'YYYY-MM-DD'), 'no term') FROM case_open WHERE "
        "case_id = '" +
        id + "'), 'none')");
  };
  BOOST_TEST(openRow() == "no term");
  // Open it stays, with its term.
  change("UPDATE cases SET status = 'sent' WHERE id = vkhid_uuid($1)");
  change("UPDATE cases SET status = 'delivered', channel = 'phone' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "no term");
  // Its term set, then moved: the open row follows.
  change("UPDATE cases SET due_at = '2031-05-04 12:00+00' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "2031-05-04");
  change("UPDATE cases SET status = 'registered', due_at = due_at WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "2031-05-04");
  // A conformance check's case is never open; made one, its row goes, and comes back with its channel.
  change("UPDATE cases SET channel = 'conformance' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "none");
  change("UPDATE cases SET channel = 'phone' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "2031-05-04");
  // Settled, then taken up again, then its row deleted.
  change("UPDATE cases SET status = 'answered' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "none");
  change("UPDATE cases SET due_at = '2031-06-01 12:00+00' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "none");
  change("UPDATE cases SET status = 'sent' WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "2031-06-01");
  change("DELETE FROM cases WHERE id = vkhid_uuid($1)");
  BOOST_TEST(openRow() == "none");
  BOOST_TEST(db.query("SELECT count(*) FROM case_open") == "0");
}

// The sequential scans of `table` while `body` runs, in a transaction of its own.
long long seqScansDuring(store::PgConnection& conn, const std::string& table, const std::function<Status()>& body) {
  const auto scans = [&] {
    auto r = conn.exec("SELECT pg_stat_get_xact_numscans($1::regclass)", {table});
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->getInt(0, 0);
  };
  long long scanned = -1;
  auto done = store::inTransaction(conn, [&]() -> Status {
    const long long before = scans();
    if (auto s = body(); !s) return s;
    scanned = scans() - before;
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  return scanned;
}

// The open rows of the cases `where` names (on `c`), as "number term-date, …" in their numbers' order.
std::string openRowsOf(testing::TestDatabase& db, const std::string& where) {
  return db.query(
      "SELECT string_agg(c.ucc_number || ' ' || to_char(o.due_at, 'YYYY-MM-DD'), ', ' ORDER BY "
      "c.ucc_number) FROM case_open o JOIN cases c ON c.id = o.case_id WHERE " +
      where);
}

BOOST_AUTO_TEST_CASE(a_new_cases_open_row_is_found_by_its_key_never_by_a_scan) {
  // Migration 0043: the open-case trigger asked whether the intake had written a new case's open row
  // with a statement PostgreSQL planned as a scan of the whole table, which the statistics call small and
  // which holds, between two vacuums, every case opened and settled since. It asks the key's index now.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  caseIn(conn, "sent");
  // Open cases settled since the last vacuum, the statistics taken before them: a small table, many pages.
  db.query("ANALYZE case_open");
  BOOST_REQUIRE(conn.exec("INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, "
                          "urgency, channel, received_at, body, client_id) SELECT gen_random_uuid(), 'S-' || i, "
                          "'ST-' || i, 'appeal', 'sent', false, false, 'normal', 'web', now(), '{}', 'c' FROM "
                          "generate_series(1, 2000) i")
                    .ok());
  BOOST_REQUIRE(conn.exec("UPDATE cases SET status = 'answered' WHERE ucc_number LIKE 'S-%'").ok());
  const long long scanned = seqScansDuring(conn, "case_open", [&]() -> Status {
    // The intake's way: the case and its open row in one statement; and a case inserted alone.
    auto intake = conn.exec(
        "WITH c AS (INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, "
        "channel, received_at, body, client_id, due_at) VALUES (gen_random_uuid(), 'N-1', 'NT-1', 'appeal', "
        "'registered', false, false, 'normal', 'web', now(), '{}', 'c', '2031-01-02 12:00+00') RETURNING id, due_at) "
        "INSERT INTO case_open (case_id, due_at) SELECT id, due_at FROM c");
    if (!intake) return intake.error();
    auto alone = conn.exec(
        "INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, urgency, channel, "
        "received_at, body, client_id, due_at) VALUES (gen_random_uuid(), 'N-2', 'NT-2', 'appeal', 'registered', "
        "false, false, 'normal', 'web', now(), '{}', 'c', '2031-01-03 12:00+00')");
    return alone ? Status() : Status(alone.error());
  });
  BOOST_TEST(scanned == 0);
  // Each has its open row, once, with its term.
  BOOST_TEST(openRowsOf(db, "c.ucc_number LIKE 'N-%'") == "N-1 2031-01-02, N-2 2031-01-03");
}

BOOST_AUTO_TEST_CASE(a_settled_cases_open_row_is_found_by_its_key_never_by_a_scan) {
  // Migration 0044: a case settled, or its term moved, changes its open row by the row's key — never by a
  // scan of the whole table, which a plan made while the table was small (after a vacuum, or a warm-up's
  // end, when few cases were open) would do for as long as the plan lasts: over every open case and every
  // row settled since the last vacuum. The bench's 4,000-case run read 1,500 rows a settled case so (2 %
  // of PostgreSQL's CPU); a year's open cases in service would be hundreds of thousands.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  db.query("ANALYZE case_open");  // no open case
  const auto open = [&](const std::string& prefix, int n) {
    BOOST_REQUIRE(conn.exec("INSERT INTO cases (id, ucc_number, tracking_code, kind, status, restricted, priority, "
                            "urgency, channel, received_at, body, client_id, due_at) SELECT gen_random_uuid(), $1 || "
                            "i, 'T' || $1 || i, 'appeal', 'sent', false, false, 'normal', 'web', now(), '{}', 'c', "
                            "'2031-01-01 12:00+00' FROM generate_series(1, $2::int) i",
                            {prefix, std::to_string(n)})
                      .ok());
  };
  // A few cases open, settled and moved one at a time, as the exchange does: the trigger's plans are made
  // now, while the table is a page, and kept.
  open("S-", 20);
  for (int i = 1; i <= 8; ++i) {
    BOOST_REQUIRE(
        conn.exec("UPDATE cases SET status = 'answered' WHERE ucc_number = $1", {"S-" + std::to_string(i)}).ok());
    BOOST_REQUIRE(conn.exec("UPDATE cases SET due_at = due_at + interval '1 day' WHERE ucc_number = $1",
                            {"S-" + std::to_string(10 + i)})
                      .ok());
  }
  open("B-", 3000);  // then many open
  const long long scanned = seqScansDuring(conn, "case_open", [&]() -> Status {
    for (const char* settle : {"UPDATE cases SET status = 'answered' WHERE ucc_number = 'B-100'",
                               "UPDATE cases SET status = 'closed' WHERE ucc_number = 'B-101'",
                               "UPDATE cases SET due_at = '2031-02-03 12:00+00' WHERE ucc_number = 'B-102'"}) {
      if (auto r = conn.exec(settle, {}); !r) return r.error();
    }
    return {};
  });
  BOOST_TEST(scanned == 0);
  // The settled cases have no open row; the moved term is the row's.
  BOOST_TEST(openRowsOf(db, "c.ucc_number IN ('B-100', 'B-101', 'B-102', 'S-11', 'S-1')") ==
             "B-102 2031-02-03, S-11 2031-01-02");
}

BOOST_AUTO_TEST_CASE(a_transport_watch_reads_the_packages_it_judges_in_order_and_no_more) {
  // Issue 25, a case's cost must not grow with the data: a gateway looks at each transport watch every
  // second (migration 0036). After a long stop, 20,000 packages wait to be judged: a look at the next 100
  // reads them in the order they were queued through the index and stops there, not the 20,000 and a
  // sort; the next look begins after the last judged; a package newer than a running transaction waits.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const std::string id = caseIn(conn, "delivered_to_transport");
  BOOST_REQUIRE(conn.exec("INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, "
                          "status, created_at) SELECT gen_random_uuid(), 'out', $1::uuid, 'P-1', 1, '\\x00', 'x', "
                          "'sent', now() - i * interval '25 minutes' FROM generate_series(1, "
                          "20000) i",
                          {id})
                    .ok());
  BOOST_REQUIRE(conn.exec("UPDATE transport_watch SET through_at = '-infinity', through_id = "
                          "'00000000-0000-0000-0000-000000000000'")
                    .ok());
  // The oldest package's delivery was acknowledged (a receipt recorded as one, in its own row).
  BOOST_REQUIRE(
      conn.exec("INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, ref_msg_id, "
                "bytes, sha256, status, receipt) SELECT gen_random_uuid(), 'in', case_id, 'P-1', 0, 1, msg_id, "
                "'\\x00', 'y', 'applied', '{}' FROM message ORDER BY created_at LIMIT 1")
          .ok());
  db.query("VACUUM ANALYZE message");
  const long long pages = std::stoll(db.query("SELECT relpages FROM pg_class WHERE relname = 'message'"));
  BOOST_REQUIRE(pages > 100);
  auto fetched = [&] {
    auto r = conn.exec("SELECT pg_stat_get_xact_blocks_fetched('message'::regclass)");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->getInt(0, 0);
  };
  const long long now = std::time(nullptr);
  const std::string running = db.query("SELECT (now() + interval '1 hour')::text");
  long long read = 0;
  std::vector<store::WatchedPackageRow> first, next;
  auto done = store::inTransaction(conn, [&]() -> Status {
    const long long before = fetched();
    auto due = store::watchedPackages(conn, "delivery_receipt", now, running, "{1,2,3,4}", 100);
    if (!due) return due.error();
    read = fetched() - before;
    first = std::move(*due);
    if (auto s = store::advanceTransportWatch(conn, "delivery_receipt", first.back()); !s) return s;
    auto again = store::watchedPackages(conn, "delivery_receipt", now, running, "{1,2,3,4}", 100);
    if (!again) return again.error();
    next = std::move(*again);
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(read < 40, read << " of " << pages << " pages read");
  BOOST_REQUIRE(first.size() == 100u);
  BOOST_REQUIRE(next.size() == 100u);
  BOOST_TEST(first.front().created_at == db.query("SELECT min(created_at)::text FROM message WHERE direction = 'out'"));
  for (size_t i = 1; i < first.size(); ++i) BOOST_TEST(first[i - 1].created_epoch < first[i].created_epoch);
  BOOST_TEST(first.back().created_epoch < next.front().created_epoch);  // from where the last look stopped
  BOOST_TEST(first[0].receipt_came);                                    // its receipt, probed through their index
  BOOST_TEST(!first[1].receipt_came);
  BOOST_TEST(first.front().timer.sent_to == "P-1");
  // A transaction that began before the newest packages and still runs: they wait.
  BOOST_REQUIRE(conn.exec("UPDATE transport_watch SET through_at = now() - interval '1 day'").ok());
  const std::string since = db.query("SELECT (now() - interval '6 hours')::text");
  auto held = store::watchedPackages(conn, "delivery_receipt", now, since, "{1,2,3,4}", 100);
  BOOST_REQUIRE(held.ok());
  BOOST_TEST(held->size() == 43u);  // queued 25 minutes apart between a day and six hours ago
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deliveries)

namespace {
// A case sent to an active participant, and the key that seals packages at rest, as the gateway has it.
std::string deliverableCase(testing::TestDatabase& db, store::PgConnection& conn) {
  const auto case_id = cases::caseIn(conn, "sent");
  BOOST_REQUIRE(conn.exec("UPDATE participant SET status = 'active' WHERE org_id = 'P-1'").ok());
  installDevKeyAtRest(db);
  return case_id;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_claim_is_written_in_place_and_how_it_ends_is_evidence) {
  // Issue 25: a delivery claim marked the package `sending`, a status the waiting and sent packages'
  // indexes name: a new version of the 2.3 KB row on another page, an entry in each of the table's
  // indexes and a lock record — three times a case. It now changes no indexed column, and a page keeps
  // room for it, so PostgreSQL rewrites the row in place (HOT) (migration 0031). How a claim ends stays
  // evidence, even when the status it leaves is the one it began with.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto case_id = deliverableCase(db, conn);
  // Packages of a real package's size, sealed at rest as the gateway seals them (incompressible).
  std::mt19937 random(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    std::string bytes(2100, '\0');
    for (auto& b : bytes) b = static_cast<char>(random());
    const std::string id = db.query("SELECT gen_random_uuid()");
    auto m = store::MessageRecord::of(id, "out", case_id, "P-1", 1);
    m.bytes = bytes;
    m.sha256 = app::sha256Hex(bytes);
    m.status = "queued";
    BOOST_REQUIRE(store::insertMessage(conn, m).ok());
    ids.push_back(id);
  }
  const auto entries = [&](const std::string& id) {
    return db.query("SELECT string_agg(action, ' ' ORDER BY id) FROM audit_entry WHERE subject LIKE 'msg:" + id + "%'");
  };
  // The claims' holder lives (it heartbeats), so only a claim past every adapter's timeout is lost.
  BOOST_REQUIRE(conn.exec("INSERT INTO gateway_instance (instance, version, host, pid, started_at, heartbeat_at) "
                          "VALUES ('gw-1', 'test', 'h', 1, now(), now() + interval '1 hour')")
                    .ok());
  // Claimed one at a time, as a participant's packages are (each by its own delivery), each in a
  // transaction that reads what it rewrote in place and what it added to the indexes.
  auto claim = [&](const std::string& id) {
    // The backend's counts of the table's updates not yet reported, before and after the claim.
    auto counts = [&]() -> std::pair<long long, long long> {
      auto r = conn.exec(
          "SELECT pg_stat_get_xact_tuples_updated('message'::regclass), "
          "pg_stat_get_xact_tuples_hot_updated('message'::regclass)");
      BOOST_REQUIRE(r.ok());
      return {r->getInt(0, 0), r->getInt(0, 1)};
    };
    std::pair<long long, long long> before, after;
    auto done = store::inTransaction(conn, [&]() -> Status {
      before = counts();
      auto rows = store::claimAllForDelivery(conn, {id}, "gw-1:1");
      if (!rows) return rows.error();
      BOOST_TEST(rows->size() == 1u);
      after = counts();
      return {};
    });
    BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
    return std::to_string(after.first - before.first) + " updated, " + std::to_string(after.second - before.second) +
           " in place";
  };
  for (const auto& id : ids) BOOST_TEST(claim(id) == "1 updated, 1 in place");
  // While claimed it reads as `sending`, and no one claims it again.
  BOOST_TEST(db.query("SELECT vkhid_message_status(status, claimed_by) FROM message WHERE msg_id = '" + ids[0] + "'") ==
             "sending");
  auto again = store::claimAllForDelivery(conn, {ids[0]}, "gw-2:1");
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->empty());
  // Sent: recorded. A retry that fails again leaves waiting_retry as it was, and is recorded each time.
  BOOST_TEST(*store::moveClaim(conn, ids[0], "sent", std::nullopt));
  BOOST_TEST(!*store::moveClaim(conn, ids[0], "sent", std::nullopt));  // recorded already
  BOOST_TEST(*store::moveClaim(conn, ids[1], "waiting_retry", std::string("503")));
  BOOST_TEST(claim(ids[1]) == "1 updated, 1 in place");
  BOOST_TEST(*store::moveClaim(conn, ids[1], "waiting_retry", std::string("503")));
  // A lost claim, returned by the sweeper: queued as it was, and recorded.
  BOOST_REQUIRE(
      conn.exec("UPDATE message SET claimed_at = now() - interval '3 minutes' WHERE msg_id = '" + ids[2] + "'").ok());
  auto lost = store::requeueLostClaims(conn, "gw-9:1", "{}");
  BOOST_REQUIRE(lost.ok());
  BOOST_TEST(lost->size() == 1u);
  BOOST_TEST(entries(ids[0]) == "message.out.queued message.out.sent");
  BOOST_TEST(entries(ids[1]) == "message.out.queued message.out.waiting_retry message.out.waiting_retry");
  BOOST_TEST(entries(ids[2]) == "message.out.queued message.out.queued");
  BOOST_TEST(
      db.query("SELECT vkhid_message_status(status, claimed_by) || ' ' || attempts FROM message WHERE msg_id = '" +
               ids[2] + "'") == "queued 1");
}

BOOST_AUTO_TEST_CASE(a_batchs_claims_that_went_out_move_on_together_each_once_as_evidence) {
  // The packages of a delivery batch that went out are recorded sent in one statement (a round trip, not
  // one a package), each one still claimed and moved on once, as evidence each; one recorded already by an
  // earlier try, or not claimed, is left as it is; the case of each appeal package among them is locked
  // with them, its status read.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto case_id = deliverableCase(db, conn);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const std::string id = db.query("SELECT gen_random_uuid()");
    const std::string bytes = "package " + std::to_string(i);
    auto m = store::MessageRecord::of(id, "out", case_id, "P-1", 1);
    m.bytes = bytes;
    m.sha256 = app::sha256Hex(bytes);
    m.status = "queued";
    BOOST_REQUIRE(store::insertMessage(conn, m).ok());
    ids.push_back(id);
  }
  BOOST_REQUIRE(conn.exec("INSERT INTO gateway_instance (instance, version, host, pid, started_at, heartbeat_at) "
                          "VALUES ('gw-1', 'test', 'h', 1, now(), now() + interval '1 hour')")
                    .ok());
  auto claimed = store::claimAllForDelivery(conn, {ids[0], ids[1], ids[2], ids[3]}, "gw-1:1");  // not the fifth
  BOOST_REQUIRE(claimed.ok());
  BOOST_REQUIRE(claimed->size() == 4u);
  BOOST_REQUIRE(*store::moveClaim(conn, ids[3], "sent", std::nullopt));  // an earlier try's, recorded
  store::MovedClaims moved;
  long long trips = 0;
  std::string other_locks;
  auto done = store::inTransaction(conn, [&]() -> Status {
    const long long before = conn.roundTrips();
    auto m = store::moveClaims(conn, ids, "sent");
    if (!m) return m.error();
    trips = conn.roundTrips() - before;
    moved = std::move(*m);
    // Their case is locked with them, until the transaction ends: another cannot take it now.
    auto other = connectTo(db.url());
    auto tried = other.exec("SELECT status FROM cases WHERE id = '" + case_id + "' FOR UPDATE NOWAIT");
    other_locks = tried.ok() ? "took it" : tried.error().message;
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(trips == 1);  // BEGIN, the plan's setting and the statement together
  BOOST_TEST((moved.moved == std::set<std::string, std::less<>>{ids[0], ids[1], ids[2]}));
  BOOST_TEST((moved.case_status == std::map<std::string, std::string, std::less<>>{{case_id, "sent"}}));
  BOOST_TEST(other_locks.find("could not obtain lock") != std::string::npos, other_locks);
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST_CONTEXT("package " << i) {
      BOOST_TEST(db.query("SELECT vkhid_message_status(status, claimed_by) FROM message WHERE msg_id = '" + ids[i] +
                          "'") == (i < 4 ? "sent" : "queued"));
      BOOST_TEST(db.query("SELECT string_agg(action, ' ' ORDER BY id) FROM audit_entry WHERE subject LIKE 'msg:" +
                          ids[i] + "%'") == (i < 4 ? "message.out.queued message.out.sent" : "message.out.queued"));
    }
  }
  // The setting was the statement's alone: the connection plans as before after it.
  auto mode = conn.exec("SHOW plan_cache_mode");
  BOOST_REQUIRE(mode.ok());
  BOOST_TEST(mode->get(0, 0) == "auto");
}

BOOST_AUTO_TEST_CASE(a_claim_finds_its_packages_by_their_keys_whatever_the_waiting_index_holds) {
  // Issue 25: a claim names its packages by id, and PostgreSQL chose to intersect their keys with the index
  // of every waiting package (message_out_waiting), which the statistics call small: between two vacuums
  // it also holds an entry for every package sent since, and the claim read them all — 8 % of
  // PostgreSQL's CPU in the bench. A claim reads its packages' keys and nothing of that index.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto case_id = deliverableCase(db, conn);
  // A busy hour: 5,000 packages queued and sent since the last vacuum, the statistics taken after.
  BOOST_REQUIRE(conn.exec("INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, bytes, sha256, "
                          "status) SELECT gen_random_uuid(), 'out', $1::uuid, 'P-1', 1, '\\x00', 'x', 'queued' FROM "
                          "generate_series(1, 5000)",
                          {case_id})
                    .ok());
  BOOST_REQUIRE(conn.exec("UPDATE message SET status = 'sent' WHERE status = 'queued'").ok());
  db.query("ANALYZE message");
  std::vector<std::string> ids;
  const std::vector<std::string> packages = {"package 1", "package 2", "package 3", "package 4", "package 5"};
  for (const auto& bytes : packages) {
    const std::string id = db.query("SELECT gen_random_uuid()");
    auto m = store::MessageRecord::of(id, "out", case_id, "P-1", 1);
    m.bytes = bytes;
    m.sha256 = app::sha256Hex(bytes);
    m.status = "queued";
    BOOST_REQUIRE(store::insertMessage(conn, m).ok());
    ids.push_back(id);
  }
  // The entries the backend has read from the waiting index in the transaction (counted as it reads them).
  const auto waitingRead = [&] {
    auto r = conn.exec("SELECT pg_stat_get_xact_tuples_returned('message_out_waiting'::regclass)");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->getInt(0, 0);
  };
  auto done = store::inTransaction(conn, [&]() -> Status {
    const long long before = waitingRead();
    auto rows = store::claimAllForDelivery(conn, ids, "gw-1:1");
    if (!rows) return rows.error();
    BOOST_TEST(rows->size() == ids.size());
    for (const auto& row : *rows) BOOST_TEST(row.bytes.starts_with("package "));
    BOOST_TEST(waitingRead() - before == 0);
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  // Claimed once: a second claim of the same finds none of them.
  auto again = store::claimAllForDelivery(conn, ids, "gw-2:1");
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->empty());
}

BOOST_AUTO_TEST_CASE(a_claim_is_planned_once_a_connection_whatever_it_claims) {
  // Issue 25: PostgreSQL planned the claim anew at every call — a plan that sees the array's length always
  // looked cheaper than one that does not — and its planning (0.45 ms) cost more than the claim: 5 % of
  // PostgreSQL's CPU in the bench. Claims of any number of packages use one plan a connection, and the
  // setting that asks for it ends with the claim, in its own transaction or in the caller's.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto case_id = deliverableCase(db, conn);
  int claimed = 0;
  std::deque<std::string> bytes;  // what each record views
  for (int n = 1; n <= 8; ++n) {
    std::vector<std::string> ids;
    for (int k = 0; k < n; ++k) {
      const std::string id = db.query("SELECT gen_random_uuid()");
      auto m = store::MessageRecord::of(id, "out", case_id, "P-1", 1);
      m.bytes = bytes.emplace_back("package " + std::to_string(n));
      m.sha256 = app::sha256Hex(m.bytes);
      m.status = "queued";
      BOOST_REQUIRE(store::insertMessage(conn, m).ok());
      ids.push_back(id);
    }
    const long long trips = conn.roundTrips();
    auto rows = store::claimAllForDelivery(conn, ids, "gw-1:1");
    BOOST_REQUIRE_MESSAGE(rows.ok(), (rows.ok() ? "" : rows.error().message));
    BOOST_TEST(rows->size() == ids.size());
    BOOST_TEST(conn.roundTrips() - trips == 1);  // its transaction in one exchange, the claim with the COMMIT
    claimed += static_cast<int>(rows->size());
  }
  BOOST_TEST(claimed == 36);
  auto plans = conn.exec(
      "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE 'UPDATE message m SET "
      "claimed_by%'");
  BOOST_REQUIRE(plans.ok());
  BOOST_REQUIRE(plans->rows() == 1);
  BOOST_TEST(plans->getInt(0, 0) == 8);  // one plan, used eight times
  BOOST_TEST(plans->getInt(0, 1) == 0);
  BOOST_TEST(db.query("SELECT count(*) FROM message WHERE claimed_by = 'gw-1:1'") == "36");
  // In the caller's transaction, the caller's setting again after the claim.
  auto done = store::inTransaction(conn, [&]() -> Status {
    auto rows = store::claimAllForDelivery(conn, {db.query("SELECT gen_random_uuid()")}, "gw-1:1");
    if (!rows) return rows.error();
    auto mode = conn.exec("SHOW plan_cache_mode");
    if (!mode) return mode.error();
    BOOST_TEST(std::string(mode->get(0, 0)) == "auto");
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  auto mode = conn.exec("SHOW plan_cache_mode");
  BOOST_REQUIRE(mode.ok());
  BOOST_TEST(std::string(mode->get(0, 0)) == "auto");
}

BOOST_AUTO_TEST_CASE(a_packages_replies_are_found_by_its_case_and_reference_among_many_rows) {
  // Issue 25: the rows that refer to a package were found through an index of their own (message_by_ref),
  // which every such row wrote beside its case's entry, and again each time the row left its page. One
  // index of both (migration 0037) holds them now, and every lookup by reference names the case as well —
  // the package's case, or none for what was refused. Among 20,000 rows, each lookup below goes through
  // that index; asked by reference alone, each would read the whole table.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  const auto case_id = cases::caseIn(conn, "sent");
  BOOST_REQUIRE(conn.exec("INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, "
                          "ref_msg_id, bytes, sha256, status, receipt) SELECT gen_random_uuid(), 'in', CASE WHEN i % 2 "
                          "= 0 THEN $1::uuid END, 'P-1', 0, 1, gen_random_uuid(), '\\x00', 'x', 'applied', '{}' "
                          "FROM generate_series(1, 20000) i",
                          {case_id})
                    .ok());
  const auto row = [&](const std::string& direction, const std::string& kase, int ack, const std::string& ref,
                       const std::string& status, bool receipt) {
    const std::string id = db.query("SELECT gen_random_uuid()");
    BOOST_REQUIRE(
        conn.exec("INSERT INTO message (msg_id, direction, case_id, peer_org_id, msg_type, ack_type, "
                  "ref_msg_id, bytes, sha256, status, receipt, created_at) VALUES ($1::uuid, $2, "
                  "NULLIF($3, '')::uuid, 'P-1', CASE WHEN $4::int = 0 THEN 1 ELSE 0 END, NULLIF($4::int, 0), "
                  "NULLIF($5, '')::uuid, '\\x00', 'y', $6, CASE WHEN $7 THEN '{}'::jsonb END, clock_timestamp())",
                  {id, direction, kase, std::to_string(ack), ref, status, receipt ? "true" : "false"})
            .ok());
    return id;
  };
  // Our package and what came back for it: its delivery and registration receipts, recorded with its case;
  // a reply refused (recorded with no case). Another package of the case, with no receipt.
  const std::string ours = row("out", case_id, 0, "", "sent", false);
  const std::string silent = row("out", case_id, 0, "", "sent", false);
  const std::string delivered = row("in", case_id, 1, ours, "applied", true);
  const std::string refused = row("in", "", 4, ours, "rejected", false);
  const std::string registered = row("in", case_id, 3, ours, "applied", true);
  // Their package with our two receipts, sent; and a package of theirs we refused, with our rejection.
  const std::string theirs = row("in", case_id, 0, "", "applied", false);
  const std::string our_delivered = row("out", case_id, 1, theirs, "sent", false);
  const std::string our_accepted = row("out", case_id, 2, theirs, "dead", false);
  const std::string theirs_refused = row("in", "", 0, "", "rejected", false);
  const std::string our_rejection = row("out", "", 4, theirs_refused, "sent", false);
  db.query("VACUUM ANALYZE message");
  const long long pages = std::stoll(db.query("SELECT relpages FROM pg_class WHERE relname = 'message'"));
  BOOST_REQUIRE(pages > 100);
  // The scans of the whole table this backend has made in the transaction (reported as they happen).
  const auto scans = [&] {
    auto r = conn.exec("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'message'");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->rows() == 0 ? 0 : r->getInt(0, 0);
  };
  auto done = store::inTransaction(conn, [&]() -> Status {
    const long long before = scans();
    auto came = store::receiptCame(conn, case_id, ours, "{3}");
    if (!came) return came.error();
    BOOST_TEST(*came);
    auto none = store::receiptCame(conn, case_id, silent, "{1,2,3,4}");
    if (!none) return none.error();
    BOOST_TEST(!*none);
    auto replies = store::messagesReferringTo(conn, ours);
    if (!replies) return replies.error();
    std::string got;
    for (const auto& r : *replies)
      got += (r.msg_id == delivered    ? "delivered "
              : r.msg_id == refused    ? "refused "
              : r.msg_id == registered ? "registered "
                                       : "other ");
    BOOST_TEST(got == "delivered refused registered ");
    auto again = store::requeueReceiptsFor(conn, theirs);
    if (!again) return again.error();
    std::sort(again->begin(), again->end());
    std::vector<std::string> both{our_delivered, our_accepted};
    std::sort(both.begin(), both.end());
    BOOST_TEST(*again == both, boost::test_tools::per_element());
    auto rejection = store::requeueReceiptsFor(conn, theirs_refused);
    if (!rejection) return rejection.error();
    BOOST_TEST(*rejection == std::vector<std::string>{our_rejection}, boost::test_tools::per_element());
    BOOST_TEST(scans() == before,
               "the message table scanned " << scans() - before << " times, " << pages << " pages each");
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  // Our receipts were queued again, and nothing else was.
  BOOST_TEST(db.query("SELECT string_agg(vkhid_message_status(status, claimed_by), ' ' ORDER BY ack_type) FROM "
                      "message WHERE direction = 'out' AND ack_type IS NOT NULL") == "queued queued queued");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(outbox)

BOOST_AUTO_TEST_CASE(relay_rounds_take_turns_and_hold_no_row_lock_nor_xid_while_they_publish) {
  // Issue 25: the relay locked each row it took (FOR UPDATE SKIP LOCKED): a WAL record a row, five a case,
  // and an xid held across the publish and its confirms, which the evidence sealer waits for. Rounds
  // now take turns under one lock, and a round writes nothing until it marks what it sent.
  testing::TestDatabase db;
  auto first = connectTo(db.url());
  auto second = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(first, store::embeddedMigrations()).ok());
  for (int i = 0; i < 4; ++i) {
    BOOST_REQUIRE(
        store::appendOutbox(first, "vkhid.events", "case.registered", "m-" + std::to_string(i), "{}", "{}", 0).ok());
  }
  std::vector<std::string> sent;
  BOOST_REQUIRE(first.begin().ok());
  auto rows = store::lockUnsent(first, 2);
  BOOST_REQUIRE(rows.ok());
  BOOST_REQUIRE(rows->size() == 2u);
  // While it publishes: no xid, so nothing for the evidence sealer to wait for.
  BOOST_TEST(std::string(first.exec("SELECT coalesce(pg_current_xact_id_if_assigned()::text, 'none')")->get(0, 0)) ==
             "none");
  // Another gateway's round waits for this one, rather than taking rows beside it.
  BOOST_REQUIRE(second.exec("SET lock_timeout = '300ms'").ok());
  auto beside = store::inTransaction(second, [&]() -> Status {
    auto r = store::lockUnsent(second, 10);
    return r ? Status() : Status(r.error());
  });
  BOOST_TEST(!beside.ok());
  std::vector<std::string> places;
  for (const auto& row : *rows) {
    places.push_back(row.place);
    sent.push_back(row.message_id);
  }
  BOOST_REQUIRE(store::markSent(first, places).ok());
  BOOST_REQUIRE(first.commit().ok());
  // Then it takes what the first left unsent, and only that; and marking them sent writes the two rows'
  // new versions and nothing else — no index entry (the outbox has no key to keep, migration 0032).
  const std::string from = db.query("SELECT pg_current_wal_insert_lsn()");
  std::vector<std::string> taken;
  auto next = store::inTransaction(second, [&]() -> Status {
    auto r = store::lockUnsent(second, 10);
    if (!r) return r.error();
    std::vector<std::string> at;
    for (const auto& row : *r) {
      taken.push_back(row.message_id);
      at.push_back(row.place);
    }
    return store::markSent(second, at);
  });
  BOOST_REQUIRE_MESSAGE(next.ok(), (next.ok() ? "" : next.error().message));
  std::sort(taken.begin(), taken.end());
  BOOST_TEST(taken == (std::vector<std::string>{"m-2", "m-3"}), boost::test_tools::per_element());
  BOOST_TEST(db.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == "0");
  BOOST_TEST(walOf(db, "outbox", from) == "Heap:UPDATE Heap:UPDATE");
}

BOOST_AUTO_TEST_CASE(a_transactions_publications_are_one_row_read_back_each_in_its_order) {
  // Issue 25 (migration 0040): a row a publication was three WAL records each — its tuple, its entry in
  // the unsent index, its update once sent — and the intake and a participant's answer each asked for two.
  // A transaction's publications are gathered and written with its COMMIT as one row; the relay reads
  // each back as it was asked for, the highest priority first, with its bytes, headers and priority.
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  const std::string bytes("\x00\xff{\"\xd0\x9f\"}", 7);
  // A row before: the table's first page and the index's root are made by it.
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-0", "{}", "{}", 0).ok());
  const std::string from = db.query("SELECT pg_current_wal_insert_lsn()");
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.notifications", "applicant.registered", "c-1:registered", bytes,
                                    "{\"expiration\": \"60000\"}", 0)
                    .ok());
  // A job for a package of no case goes at 0, whatever it asks.
  BOOST_REQUIRE(store::appendDelivery(conn, "vkhid.delivery", "99999911", "00000000-0000-4000-8000-000000000001",
                                      "{\"msg_id\": \"00000000-0000-4000-8000-000000000001\"}", "{}", 5)
                    .ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-1", "{}", "{}", 5).ok());
  BOOST_TEST(std::string(conn.exec("SELECT count(*) FROM outbox")->get(0, 0)) == "1");  // the rest with the COMMIT
  BOOST_REQUIRE(conn.commit().ok());
  BOOST_TEST(db.query("SELECT count(*) FROM outbox") == "2");
  // Its tuple and its unsent entry (and the summary of its creation time's page range, widened).
  auto written = walOf(db, "outbox", from);
  if (auto brin = written.find(" BRIN:SAMEPAGE_UPDATE"); brin != std::string::npos) written.erase(brin);
  BOOST_TEST(written == "Heap:INSERT Btree:INSERT_LEAF");
  BOOST_TEST(db.query("SELECT string_agg(routing_key || ':' || priority, ' ' ORDER BY part) FROM outbox_message "
                      "WHERE message_id <> 'c-0'") == "case.registered:5 applicant.registered:0 99999911:0");

  std::vector<store::OutboxRow> rows;
  auto read = store::inTransaction(conn, [&]() -> Status {
    auto r = store::lockUnsent(conn, 10);
    if (!r) return r.error();
    rows = std::move(*r);
    return {};
  });
  BOOST_REQUIRE_MESSAGE(read.ok(), (read.ok() ? "" : read.error().message));
  BOOST_REQUIRE(rows.size() == 4u);  // the row before, and the three: the higher priority first
  rows.erase(std::remove_if(rows.begin(), rows.end(), [](const auto& r) { return r.message_id == "c-0"; }), rows.end());
  BOOST_REQUIRE(rows.size() == 3u);
  BOOST_TEST(rows[0].message_id == "c-1");
  BOOST_TEST(rows[0].priority == 5);
  BOOST_TEST(rows[1].message_id == "c-1:registered");
  BOOST_TEST(rows[1].exchange == "vkhid.notifications");
  BOOST_TEST(rows[1].payload == bytes);
  BOOST_TEST(boost::json::parse(rows[1].headers_json) == boost::json::parse("{\"expiration\": \"60000\"}"));
  BOOST_TEST(rows[2].routing_key == "99999911");
  BOOST_TEST(rows[2].priority == 0);
  BOOST_TEST((rows[0].place == rows[1].place && rows[1].place == rows[2].place));

  // Rolled back: nothing of it, and the next transaction starts with nothing gathered.
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-2", "{}", "{}", 0).ok());
  BOOST_REQUIRE(conn.rollback().ok());
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(conn.later("SELECT 1", {}).ok());
  BOOST_REQUIRE(conn.commit().ok());
  // Outside a transaction: a row each, at once.
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-3", "{}", "{}", 0).ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-4", "{}", "{}", 0).ok());
  BOOST_TEST(db.query("SELECT string_agg(message_id, ' ' ORDER BY id) FROM outbox") == "c-0 c-1 c-3 c-4");
  // Headers that are not a JSON object fail the transaction's commit, as its statement refused them, and
  // nothing of it is written.
  BOOST_REQUIRE(conn.begin().ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-5", "{}", "{}", 0).ok());
  BOOST_REQUIRE(store::appendOutbox(conn, "vkhid.events", "case.registered", "c-6", "{}", "not json", 0).ok());
  auto refused = conn.commit();
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == "outbox.headers");
  BOOST_TEST(db.query("SELECT count(*) FROM outbox WHERE message_id IN ('c-5', 'c-6')") == "0");
  BOOST_TEST(conn.reusable());
}

BOOST_AUTO_TEST_CASE(sent_rows_past_their_retention_are_found_by_their_ranges_never_a_scan_of_the_outbox) {
  // Migration 0032: with no key on the outbox, pruning finds the sent rows past their retention through
  // the BRIN index on created_at — the page ranges written before the retention — and deletes them by
  // place; it never reads the whole outbox (a week of a year's volume is some 300,000 rows).
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  // Ten days of rows, one every 8 s, all sent: three days' of them past a week's retention.
  BOOST_REQUIRE(conn.exec("INSERT INTO outbox (exchange, routing_key, message_id, payload, created_at, sent_at) "
                          "SELECT 'vkhid.delivery', 'org', 'm-' || i, '\\x7b7d', t, t FROM generate_series(1, "
                          "100000) i, LATERAL (SELECT now() - interval '10 days' + i * interval '8 seconds' AS t) x")
                    .ok());
  db.query("VACUUM ANALYZE outbox");  // its full ranges summarised, as autovacuum does
  const std::string old = db.query("SELECT count(*) FROM outbox WHERE created_at < now() - interval '168 hours'");
  const std::string kept = db.query("SELECT count(*) FROM outbox WHERE created_at >= now() - interval '168 hours'");
  // What pruning read of the outbox: the backend's unreported scans of the table and of the BRIN index.
  auto scans = [&] {
    auto r = conn.exec(
        "SELECT pg_stat_get_xact_numscans('outbox'::regclass) || ' ' || "
        "pg_stat_get_xact_numscans('outbox_created'::regclass)");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    std::istringstream in{std::string(r->get(0, 0))};
    long long table = 0, ranges = 0;
    in >> table >> ranges;
    return std::pair<long long, long long>{table, ranges};
  };
  long long pruned = -1;
  std::pair<long long, long long> before, after;
  auto done = store::inTransaction(conn, [&]() -> Status {
    before = scans();
    auto r = store::pruneSent(conn, 168, 100000);
    if (!r) return r.error();
    pruned = *r;
    after = scans();
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(std::to_string(pruned) == old);
  BOOST_TEST(after.first - before.first == 0);    // no scan of the whole table
  BOOST_TEST(after.second - before.second == 1);  // one pass over the ranges
  BOOST_TEST(db.query("SELECT count(*) FROM outbox") == kept);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(evidence)

BOOST_AUTO_TEST_CASE(an_evidence_entry_writes_its_row_and_its_key_and_nothing_else) {
  // Issue 25: a case writes 19 evidence entries. Each is its row and its key (xid, id), which is the
  // chain's order; the BRIN index on the entry's time, which nothing read, wrote a record besides whenever
  // the entry fell into a range of pages already summarised (migration 0033).
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  auto entry = [&] {
    BOOST_REQUIRE(conn.exec("INSERT INTO audit_entry (actor, action, subject, payload_sha256) VALUES ('test', "
                            "'test.entry', 'subject', 'digest')")
                      .ok());
  };
  entry();
  // Its pages summarised in every BRIN index it has, as VACUUM summarises the full ranges while the
  // gateways write.
  db.query(
      "SELECT count(brin_summarize_range(i.indexrelid::regclass, 0)) FROM pg_index i JOIN pg_class c ON c.oid = "
      "i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'audit_entry'::regclass AND a.amname = 'brin'");
  const std::string from = db.query("SELECT pg_current_wal_insert_lsn()");
  entry();
  BOOST_TEST(walOf(db, "audit_entry", from) == "Heap:INSERT Btree:INSERT_LEAF");
}

BOOST_AUTO_TEST_CASE(the_sealers_reads_of_a_years_batches_touch_only_the_latest) {
  // Issue 25, a case's cost must not grow with the data: a batch closes at least once a minute while
  // entries come (audit.batch_max_age_ms), half a million a year. On every pass the sealer asks which
  // batches wait for their time-stamp and how old the oldest is, and each second it recounts the batches
  // closed lately — each of them read every batch ever closed. Against 100,000 batches, the last of them
  // still waiting for its stamp, they read a handful of the table's pages (migration 0035, and the recount
  // walking the key from the batches of the last ten minutes).
  testing::TestDatabase db;
  auto conn = connectTo(db.url());
  BOOST_REQUIRE(store::migrate(conn, store::embeddedMigrations()).ok());
  // Five minutes apart up to 20 minutes ago; then three in the last minutes, the newest not stamped yet.
  BOOST_REQUIRE(
      conn.exec("INSERT INTO audit_batch (first_seq, last_seq, entries, root, signature, timestamp_token, closed_at, "
                "stamped_at, prev_hash, first_xid, first_id, last_xid, last_id, first_at, last_at) SELECT i * 10 - 9, "
                "i * 10, 10, md5(i::text), '\\x00', CASE WHEN i < 100003 THEN '\\x00'::bytea END, t, t, md5('p' || i), "
                "(i * 10)::text::xid8, i * 10 - 9, (i * 10)::text::xid8, i * 10, t, t FROM generate_series(1, 100003) "
                "i, LATERAL (SELECT CASE WHEN i <= 100000 THEN now() - interval '20 minutes' - (100000 - i) * "
                "interval '5 minutes' ELSE now() - (100004 - i) * interval '1 minute' END AS t) x")
          .ok());
  db.query("VACUUM ANALYZE audit_batch");
  const long long pages = std::stoll(db.query("SELECT relpages FROM pg_class WHERE relname = 'audit_batch'"));
  BOOST_REQUIRE(pages > 1000);
  const long long waiting = std::stoll(db.query("SELECT max(id) FROM audit_batch"));
  // The table's pages this transaction asked for so far (the index's are not counted).
  auto fetched = [&] {
    auto r = conn.exec("SELECT pg_stat_get_xact_blocks_fetched('audit_batch'::regclass)");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->getInt(0, 0);
  };
  long long before = 0, after = 0;
  auto done = store::inTransaction(conn, [&]() -> Status {
    before = fetched();
    auto health = store::sealHealth(conn, true);
    if (!health) return health.error();
    BOOST_TEST(health->first_unstamped_batch == waiting);
    BOOST_TEST(health->unsealed_s >= 55);  // the waiting batch's entries, a minute old
    auto unstamped = store::unstampedBatches(conn, 20);
    if (!unstamped) return unstamped.error();
    BOOST_TEST(unstamped->size() == 1u);
    // A gateway just started has recounted none: the three of the last minutes, not the year.
    auto recount = store::recountBatches(conn, 0, 5, 200);
    if (!recount) return recount.error();
    BOOST_TEST(recount->size() == 3u);
    after = fetched();
    return {};
  });
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(after - before < 40, (after - before) << " of " << pages << " pages read");
}

BOOST_AUTO_TEST_SUITE_END()
