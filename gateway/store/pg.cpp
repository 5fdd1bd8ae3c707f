#include "gateway/store/pg.hpp"

#include <libpq-fe.h>

#include <cassert>
#include <cstdlib>

#include "gateway/domain/text.hpp"

namespace vkhid::store {
namespace {
// Statements prepared per connection at most; any further ones run unprepared (SQL built at run time
// must not grow the server's memory without end).
constexpr std::size_t kMaxPrepared = 256;
}  // namespace

PgResult::PgResult(pg_result* r) : r_(r, &PQclear) {}
int PgResult::rows() const { return PQntuples(r_.get()); }
int PgResult::columns() const { return PQnfields(r_.get()); }
bool PgResult::isNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
std::string_view PgResult::get(int row, int col) const {
  return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
}
std::optional<std::string> PgResult::optional(int row, int col) const {
  if (isNull(row, col)) return std::nullopt;
  return std::string(get(row, col));
}
long long PgResult::getInt(int row, int col) const {
  char* end = nullptr;
  const char* v = PQgetvalue(r_.get(), row, col);
  long long n = std::strtoll(v, &end, 10);
  assert(end != v && *end == '\0');
  return n;
}
bool PgResult::ok() const {
  auto s = r_ ? PQresultStatus(r_.get()) : PGRES_FATAL_ERROR;
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}
long long PgResult::affected() const {
  const char* t = PQcmdTuples(r_.get());
  return (t && *t) ? std::atoll(t) : 0;
}

PgConnection::PgConnection(pg_conn* c) : c_(c, &PQfinish) {}

Result<PgConnection> PgConnection::connect(const PgSettings& settings) {
  std::string timeout = std::to_string(settings.connect_timeout_s);
  std::string options = "-c statement_timeout=" + std::to_string(settings.statement_timeout_ms);
  // dbname is expanded as the URL; the keywords after it override what the URL says.
  const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
  const char* values[] = {settings.url.c_str(), timeout.c_str(), options.c_str(), settings.application_name.c_str(),
                          nullptr};
  PgConnection conn(PQconnectdbParams(keys, values, 1));
  if (!conn.c_) return Error::internal("db.alloc", "database: out of memory");
  if (PQstatus(conn.c_.get()) != CONNECTION_OK) {
    return Error::unavailable("db.unavailable", "database: cannot connect: " + oneLine(PQerrorMessage(conn.c_.get())));
  }
  // Server notices ("relation already exists, skipping") are not errors; libpq would print them.
  PQsetNoticeProcessor(
      conn.c_.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

bool PgConnection::healthy() const { return c_ && PQstatus(c_.get()) == CONNECTION_OK; }
bool PgConnection::reusable() const { return healthy() && PQtransactionStatus(c_.get()) == PQTRANS_IDLE; }

Error PgConnection::lastError(std::string_view what) const {
  if (!healthy()) {
    return Error::unavailable("db.unavailable", "database: connection lost during " + std::string(what) + ": " +
                                                    oneLine(PQerrorMessage(c_.get())));
  }
  return Error::internal("db.error", "database: " + std::string(what) + ": " + oneLine(PQerrorMessage(c_.get())));
}

Result<PgResult> PgConnection::exec(std::string_view sql) { return exec(std::string(sql), {}); }

Result<PgResult> PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const int n = static_cast<int>(params.size());
  const std::string* name = nullptr;
  if (n > 0) {
    if (auto it = prepared_.find(sql); it != prepared_.end()) {
      name = &it->second;
    } else if (prepared_.size() < kMaxPrepared) {
      std::string fresh = "vkhid_" + std::to_string(next_statement_++);
      PgResult p(PQprepare(c_.get(), fresh.c_str(), sql.c_str(), n, nullptr));
      if (p.ok()) name = &prepared_.emplace(sql, std::move(fresh)).first->second;
      // Not prepared (a syntax error, an aborted transaction): run unprepared, for its own error.
    }
  }
  pg_result* raw = n == 0 ? PQexec(c_.get(), sql.c_str())
                   : name ? PQexecPrepared(c_.get(), name->c_str(), n, values.data(), nullptr, nullptr, 0)
                          : PQexecParams(c_.get(), sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
  PgResult r(raw);
  if (raw == nullptr) return lastError("query");
  auto status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  if (!healthy()) return lastError("query");
  // A table changed under a prepared statement ("cached plan must not change result type"): this call
  // fails; the next one prepares the statement afresh under a new name.
  if (name && state && std::string_view(state) == "0A000") prepared_.erase(sql);
  Error e = Error::internal(std::string("db.") + (state ? state : "error"),
                            "database: " + oneLine(PQresultErrorMessage(raw)));
  if (state && std::string_view(state).starts_with("23")) e.kind = ErrorKind::Conflict;
  if (state && (std::string_view(state) == "57014")) e.kind = ErrorKind::Timeout;
  return e;
}

}  // namespace vkhid::store
