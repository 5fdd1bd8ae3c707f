#define BOOST_TEST_MODULE integration_store
#include <boost/test/unit_test.hpp>
#include <thread>

#include "gateway/store/migrations.hpp"
#include "gateway/store/pg_pool.hpp"
#include "tests/support/test_env.hpp"

using namespace vkhid;

namespace {
store::PgConnection connectTo(const std::string& url) {
  auto c = store::PgConnection::connect({url, 5, 10000, "test"});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
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
