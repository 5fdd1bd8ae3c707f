// A bounded pool of PostgreSQL connections shared by threads: connections are made lazily, a broken
// one is replaced on the next lease, and waiting for a free one has a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "gateway/store/pg.hpp"

namespace vkhid::store {

class PgPool {
 public:
  PgPool(PgSettings settings, std::size_t size);

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), c_(std::move(o.c_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (c_) pool_->release(std::move(c_));
    }
    PgConnection& operator*() { return *c_; }
    PgConnection* operator->() { return c_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> c_;
  };

  Result<Lease> acquire(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  void release(std::unique_ptr<PgConnection> c);

  PgSettings settings_;
  std::size_t size_;
  std::size_t out_ = 0;  // leased or being connected
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::mutex mutex_;
  std::condition_variable cv_;
};

// Ends a transaction the caller began (db.begin()) and read in: runs `body` in it, then COMMIT; rolls
// back when it returns an error (or COMMIT fails).
template <class F>
Status finishTransaction(PgConnection& db, F&& body) {
  Status s = body();
  if (!s) {
    (void)db.rollback();
    return s;
  }
  return db.commit();
}

// Runs `body` between BEGIN and COMMIT; rolls back when it returns an error (or COMMIT fails).
template <class F>
Status inTransaction(PgConnection& db, F&& body) {
  if (auto s = db.begin(); !s) return s;
  return finishTransaction(db, std::forward<F>(body));
}

}  // namespace vkhid::store
