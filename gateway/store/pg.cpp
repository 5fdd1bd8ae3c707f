#include "gateway/store/pg.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <optional>

#include "gateway/app/metrics.hpp"
#include "gateway/domain/text.hpp"

namespace vkhid::store {

namespace {
// Every exchange with the server of every connection of the process, as a metric: a figure of the work a
// case costs that does not move with the machine's speed (each is a send, a wake-up on both sides and a
// receive), which the bench reports per case.
void countRoundTrip() {
  static app::Series& trips =
      app::metrics().counter("vkhid_pg_round_trips_total", "Exchanges with PostgreSQL (a statement or a pipeline)");
  trips.inc();
}

// Statements prepared per connection at most; any further ones run unprepared (SQL built at run time
// must not grow the server's memory without end).
constexpr std::size_t kMaxPrepared = 256;

// libpq's view of the parameters: C strings, NULL for SQL NULL.
std::vector<const char*> valuesOf(const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return values;
}
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
int PgResult::column(std::string_view name) const {
  const int col = PQfnumber(r_.get(), std::string(name).c_str());
  assert(col >= 0 && "no column of that name in the result");
  return col;
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
  // Without JIT: the gateway's statements are short, and on a database of a year's history the planner's
  // estimates of some (a row comparison over the evidence log's key) pass jit_above_cost, so each run
  // compiled them first — 120-190 ms for a statement that takes under a millisecond (issue 25).
  std::string options = "-c statement_timeout=" + std::to_string(settings.statement_timeout_ms) + " -c jit=off";
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
bool PgConnection::reusable() const {
  return healthy() && PQtransactionStatus(c_.get()) == PQTRANS_IDLE && !in_transaction_ && queued_.empty() &&
         PQpipelineStatus(c_.get()) == PQ_PIPELINE_OFF;
}

namespace {

// "invalid input syntax for type uuid: \"x\"" -> "invalid input syntax for type uuid: \"…\"".
std::string withoutQuotedValues(const std::string& message) {
  std::string out;
  bool inside = false;
  for (char c : message) {
    if (c == '"') {
      out += inside ? "…\"" : "\"";
      inside = !inside;
    } else if (!inside) {
      out += c;
    }
  }
  return out;
}

}  // namespace

Error PgConnection::lastError(std::string_view what) const {
  if (!healthy()) {
    return Error::unavailable("db.unavailable", "database: connection lost during " + std::string(what) + ": " +
                                                    oneLine(PQerrorMessage(c_.get())));
  }
  return Error::internal("db.error", "database: " + std::string(what) + ": " + oneLine(PQerrorMessage(c_.get())));
}

Error PgConnection::statementError(pg_result* raw, const std::string& sql, bool prepared) {
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  if (!healthy()) return lastError("query");
  // A table changed under a prepared statement ("cached plan must not change result type"): this call
  // fails; the next one prepares the statement afresh under a new name.
  if (prepared && state && std::string_view(state) == "0A000") prepared_.erase(sql);
  // The primary message alone, never DETAIL or CONTEXT (they quote the row and the statement's values:
  // a citizen's name, in the log); in a data exception (class 22) even the primary message quotes the
  // value it refused, so quoted text is cut from it too.
  std::string primary = oneLine(
      PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) : "error");
  if (state && std::string_view(state).starts_with("22")) primary = withoutQuotedValues(primary);
  for (auto [field, label] :
       {std::pair{PG_DIAG_COLUMN_NAME, "column"}, std::pair{PG_DIAG_CONSTRAINT_NAME, "constraint"}}) {
    if (const char* name = PQresultErrorField(raw, field)) primary += std::string(" (") + label + " " + name + ")";
  }
  Error e = Error::internal(std::string("db.") + (state ? state : "error"), "database: " + primary);
  if (state && std::string_view(state).starts_with("23")) e.kind = ErrorKind::Conflict;
  if (state && (std::string_view(state) == "57014")) e.kind = ErrorKind::Timeout;
  return e;
}

const std::string* PgConnection::preparedName(const std::string& sql, int params, bool in_pipeline,
                                              bool& sent_prepare) {
  sent_prepare = false;
  if (params == 0) return nullptr;
  if (auto it = prepared_.find(sql); it != prepared_.end()) return &it->second;
  if (prepared_.size() >= kMaxPrepared) return nullptr;
  if (!in_pipeline) return nullptr;  // exec sends a statement's first run through a pipeline
  // Prepared in the pipeline, ahead of its first execution; forgotten again if that fails.
  std::string fresh = "vkhid_" + std::to_string(next_statement_++);
  if (PQsendPrepare(c_.get(), fresh.c_str(), sql.c_str(), params, nullptr) != 1) return nullptr;
  sent_prepare = true;
  return &prepared_.emplace(sql, std::move(fresh)).first->second;
}

Result<PgResult> PgConnection::exec(std::string_view sql) { return exec(std::string(sql), {}); }

std::optional<PgResult> PgConnection::answeredFor(const std::string& sql, const std::vector<PgParam>& params) {
  for (auto a = answered_.begin(); a != answered_.end(); ++a) {
    if (a->sql == sql && a->params == params) {
      PgResult r = std::move(a->result);
      answered_.erase(a);
      return r;
    }
  }
  return std::nullopt;
}

void PgConnection::ask(const std::string& sql, std::vector<PgParam> params) {
  if (!in_transaction_) return;
  queued_.push_back({sql, std::move(params), true});
  ++asked_;
}

Result<PgResult> PgConnection::exec(const std::string& sql, const std::vector<PgParam>& params) {
  if (!answered_.empty() || asked_ > 0) {
    if (auto a = answeredFor(sql, params)) return std::move(*a);
    const bool waiting = std::any_of(queued_.begin(), queued_.end(),
                                     [&](const Queued& q) { return q.asked && q.sql == sql && q.params == params; });
    if (waiting) {  // asked and not sent yet: it goes now, with what is queued before and after it
      if (auto r = pipeline(std::nullopt); !r) return r.error();
      if (auto a = answeredFor(sql, params)) return std::move(*a);
    }
  }
  // A statement not prepared yet on this connection is prepared in a pipeline with its first run: one
  // exchange, not two.
  const bool to_prepare = !params.empty() && !prepared_.contains(sql) && prepared_.size() < kMaxPrepared;
  if (!queued_.empty() || to_prepare) {
    if (!params.empty()) return pipeline(Queued{sql, params, false});
    // Without parameters the text may hold several statements, which a pipeline cannot carry: what
    // is queued goes first, on its own.
    if (auto r = pipeline(std::nullopt); !r) return r.error();
  }
  const auto values = valuesOf(params);
  const int n = static_cast<int>(params.size());
  bool sent_prepare = false;
  const std::string* name = preparedName(sql, n, false, sent_prepare);
  ++round_trips_;
  countRoundTrip();
  pg_result* raw = n == 0 ? PQexec(c_.get(), sql.c_str())
                   : name ? PQexecPrepared(c_.get(), name->c_str(), n, values.data(), nullptr, nullptr, 0)
                          : PQexecParams(c_.get(), sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
  PgResult r(raw);
  if (raw == nullptr) return lastError("query");
  auto status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  return statementError(raw, sql, name != nullptr);
}

Result<PgResult> PgConnection::pipeline(std::optional<Queued> last) {
  std::vector<Queued> commands = std::move(queued_);
  queued_.clear();
  asked_ = 0;
  const bool wants_result = last.has_value();
  if (last) commands.push_back(std::move(*last));
  ++round_trips_;
  countRoundTrip();
  pg_conn* c = c_.get();
  if (PQenterPipelineMode(c) != 1) return lastError("pipeline");
  struct Sent {
    std::size_t command;
    bool is_prepare;   // the PQsendPrepare ahead of the command's first execution
    bool as_prepared;  // executed as a prepared statement
  };
  std::vector<Sent> sent;
  bool sending = true;
  for (std::size_t i = 0; i < commands.size() && sending; ++i) {
    const Queued& q = commands[i];
    const auto values = valuesOf(q.params);
    const int n = static_cast<int>(q.params.size());
    bool sent_prepare = false;
    const std::string* name = preparedName(q.sql, n, true, sent_prepare);
    if (sent_prepare) sent.push_back({i, true, false});
    sending = (name ? PQsendQueryPrepared(c, name->c_str(), n, values.data(), nullptr, nullptr, 0)
                    : PQsendQueryParams(c, q.sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0)) == 1;
    if (sending) sent.push_back({i, false, name != nullptr});
  }
  std::optional<Error> first;
  if (!sending) first = lastError("pipeline");
  if (PQpipelineSync(c) != 1 && !first) first = lastError("pipeline");

  // One result per command (then the null that ends it), every one after a failure "aborted", and
  // the sync point last.
  std::optional<PgResult> result;
  for (const Sent& s : sent) {
    pg_result* raw = PQgetResult(c);
    if (raw == nullptr) {
      if (!first) first = lastError("pipeline");
      break;
    }
    PgResult r(raw);
    if (pg_result* end = PQgetResult(c)) PQclear(end);
    const auto status = PQresultStatus(raw);
    const std::string& sql = commands[s.command].sql;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (s.is_prepare) continue;
      if (commands[s.command].asked) {
        answered_.push_back({std::move(commands[s.command].sql), std::move(commands[s.command].params), std::move(r)});
      } else if (wants_result && s.command + 1 == commands.size()) {
        result = std::move(r);
      }
    } else if (status != PGRES_PIPELINE_ABORTED) {
      if (s.is_prepare) prepared_.erase(sql);
      if (!first) first = statementError(raw, sql, s.as_prepared);
    } else if (s.is_prepare) {
      prepared_.erase(sql);
    }
  }
  while (pg_result* raw = PQgetResult(c)) {  // the sync point
    const bool sync = PQresultStatus(raw) == PGRES_PIPELINE_SYNC;
    PQclear(raw);
    if (sync) break;
  }
  if (PQexitPipelineMode(c) != 1 && !first) first = lastError("pipeline");
  if (first) return *first;
  if (!wants_result) return PgResult(nullptr);
  if (!result) return lastError("pipeline");
  return std::move(*result);
}

Status PgConnection::later(const std::string& sql, std::vector<PgParam> params) {
  if (!in_transaction_) return discard(exec(sql, params));
  queued_.push_back({sql, std::move(params), false});
  return {};
}

Status PgConnection::begin() {
  if (in_transaction_ || !queued_.empty()) {
    return Error::internal("db.nested", "database: BEGIN inside a transaction");
  }
  in_transaction_ = true;
  held_.clear();
  forgetAnswers();
  gathered_.clear();
  before_commit_.clear();
  queued_.push_back({"BEGIN", {}, false});
  return {};
}

Status PgConnection::commit() { return commitSending(std::nullopt, nullptr); }

Result<PgResult> PgConnection::commitWith(const std::string& sql, const std::vector<PgParam>& params) {
  if (!in_transaction_) return Error::internal("db.no_transaction", "database: commitWith outside a transaction");
  std::optional<PgResult> out;
  if (auto s = commitSending(Queued{sql, params, true}, &out); !s) return s.error();
  if (!out) return lastError("commit");
  return std::move(*out);
}

Status PgConnection::commitSending(std::optional<Queued> last, std::optional<PgResult>* out) {
  // What the transaction gathered goes with its COMMIT; a flush that fails ends it as a failed commit.
  auto flushes = std::move(before_commit_);
  before_commit_.clear();
  for (auto& flush : flushes) {
    if (auto s = flush(*this); !s) {
      gathered_.clear();
      (void)rollback();
      return s;
    }
  }
  gathered_.clear();
  in_transaction_ = false;
  held_.clear();
  forgetAnswers();
  auto hooks = std::move(after_commit_);
  after_commit_.clear();
  if (!last && queued_.size() == 1 && queued_.front().sql == "BEGIN") {  // nothing was done
    queued_.clear();
    return {};
  }
  std::optional<std::pair<std::string, std::vector<PgParam>>> kept;
  if (last) {
    for (auto& q : queued_) q.asked = false;  // asked and never wanted: the transaction ends
    kept.emplace(last->sql, last->params);
    queued_.push_back(std::move(*last));
    ++asked_;
  }
  // With writes queued, COMMIT travels with them.
  Status s = discard(queued_.empty() ? exec("COMMIT") : pipeline(Queued{"COMMIT", {}, false}));
  if (s && kept && out) *out = answeredFor(kept->first, kept->second);
  forgetAnswers();
  // A queued write failed: the COMMIT behind it never ran and the transaction is still open, failed.
  if (!s && healthy() && PQtransactionStatus(c_.get()) != PQTRANS_IDLE) (void)exec("ROLLBACK");
  if (s) {
    for (auto& f : hooks) f();
  }
  return s;
}

void PgConnection::afterCommit(std::function<void()> f) {
  if (in_transaction_) {
    after_commit_.push_back(std::move(f));
  } else {
    f();
  }
}

Status PgConnection::rollback() {
  in_transaction_ = false;
  held_.clear();
  forgetAnswers();
  after_commit_.clear();
  gathered_.clear();
  before_commit_.clear();
  const bool never_sent = !queued_.empty() && queued_.front().sql == "BEGIN";
  queued_.clear();
  if (never_sent) return {};
  return discard(exec("ROLLBACK"));
}

std::vector<std::string> textArrayItems(std::string_view literal) {
  std::vector<std::string> out;
  if (literal.size() < 2 || literal.front() != '{' || literal.back() != '}') return out;
  literal = literal.substr(1, literal.size() - 2);
  while (!literal.empty()) {
    auto comma = literal.find(',');
    auto item = literal.substr(0, comma);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    literal.remove_prefix(comma + 1);
  }
  return out;
}

std::string textArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ",\"" : "\"") + items[i] + "\"";
  return out + "}";
}

std::string byteaHex(std::string_view bytes) { return "\\x" + hexEncode(bytes); }

PgParam uuidParam(std::string_view text) { return isUuid(text) ? PgParam(std::string(text)) : std::nullopt; }

std::string fromByteaHex(std::string_view text) {
  if (text.starts_with("\\x")) text.remove_prefix(2);
  return hexDecode(text).value_or(std::string());  // the server's hex is always whole
}

}  // namespace vkhid::store
