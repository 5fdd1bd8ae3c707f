#include "gateway/store/pg_pool.hpp"

namespace vkhid::store {

PgPool::PgPool(PgSettings settings, std::size_t size) : settings_(std::move(settings)), size_(size) {}

Result<PgPool::Lease> PgPool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [this] { return !idle_.empty() || out_ < size_; })) {
    return Error{ErrorKind::Timeout, "db.pool_exhausted", "database: no free connection within the deadline"};
  }
  out_++;
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (c->healthy()) return Lease(this, std::move(c));
  }
  lock.unlock();
  auto c = PgConnection::connect(settings_);
  if (!c) {
    std::lock_guard relock(mutex_);
    out_--;
    cv_.notify_one();
    return c.error();
  }
  return Lease(this, std::make_unique<PgConnection>(std::move(c).value()));
}

void PgPool::release(std::unique_ptr<PgConnection> c) {
  {
    std::lock_guard lock(mutex_);
    out_--;
    // One left inside a transaction (an early return, an exception) would hold its locks while idle
    // here: closing it rolls that back.
    if (c->reusable()) idle_.push_back(std::move(c));
  }
  cv_.notify_one();
}  // one not kept is closed here, outside the lock

}  // namespace vkhid::store
