// A thin, owning wrapper over libpq: one connection, parameterised statements, typed errors.
// Not thread-safe: one connection belongs to one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/domain/error.hpp"

struct pg_conn;
struct pg_result;

namespace vkhid::store {

struct PgSettings {
  std::string url;
  int connect_timeout_s = 5;
  int statement_timeout_ms = 10000;
  std::string application_name = "vkhid";
};

class PgResult {
 public:
  explicit PgResult(pg_result* r);
  int rows() const;
  int columns() const;
  bool isNull(int row, int col) const;
  std::string_view get(int row, int col) const;
  std::optional<std::string> optional(int row, int col) const;
  long long getInt(int row, int col) const;  // asserts the value is an integer
  // By the name the query's select list gives a column (write it lowercase, or alias it): a read model
  // reads its columns by name, not position. A name the result lacks is a programming error (asserted).
  int column(std::string_view name) const;
  bool isNull(int row, std::string_view name) const { return isNull(row, column(name)); }
  std::string_view get(int row, std::string_view name) const { return get(row, column(name)); }
  long long getInt(int row, std::string_view name) const { return getInt(row, column(name)); }
  bool getBool(int row, std::string_view name) const { return get(row, name) == "t"; }
  long long affected() const;  // rows touched by INSERT/UPDATE/DELETE
  bool ok() const;             // the command or query succeeded

 private:
  std::unique_ptr<pg_result, void (*)(pg_result*)> r_;
};

using PgParam = std::optional<std::string>;  // nullopt = SQL NULL

// An id for `$n::uuid`: the text, or NULL when it is not a uuid — which matches nothing, and is stored as
// none — where a caller's text may be anything. The server's vkhid_uuid($n) says the same, by a regular
// expression evaluated at every execution of a statement: 2 % of PostgreSQL's CPU in the bench.
PgParam uuidParam(std::string_view text);

class PgConnection {
 public:
  static Result<PgConnection> connect(const PgSettings& settings);

  // One statement (or several without parameters), text results. A statement with parameters is
  // prepared on this connection the first time and executed as prepared after that: the server parses
  // and plans it once per connection instead of once per call.
  Result<PgResult> exec(std::string_view sql);
  Result<PgResult> exec(const std::string& sql, const std::vector<PgParam>& params);

  // A statement whose result the caller does not need at once (a write, a lock; no rows, no count).
  // Inside a transaction it is queued and sent, in order, together with the next `exec` or the
  // COMMIT, in one round trip (libpq's pipeline mode); an error of a queued statement is the error of
  // that `exec` or `commit`, and the transaction fails with it. Outside a transaction it runs at once.
  Status later(const std::string& sql, std::vector<PgParam> params);

  // A read asked ahead of the `exec` that will want it (the same text, the same parameters): inside a
  // transaction it is queued like `later` and travels with the next exchange, and that exec is then
  // answered from what came back, once, without an exchange of its own. Reads that do not depend on
  // each other share one exchange so; a read must not depend on what the transaction writes between
  // the two either (it runs first). Its error is the error of the exchange that carried it. Outside a
  // transaction, nothing: the exec runs when it comes.
  void ask(const std::string& sql, std::vector<PgParam> params);

  // BEGIN is queued too: it travels with the transaction's first statement. A transaction of queued
  // writes only costs one round trip, its COMMIT included.
  Status begin();
  Status commit();
  // The transaction's last statement sent with its COMMIT, in one exchange: its result once the
  // transaction committed (a claim's rows, say, which the caller reads after it). Inside a transaction
  // only.
  Result<PgResult> commitWith(const std::string& sql, const std::vector<PgParam>& params);
  Status rollback();
  // Rows the current transaction holds, by the caller's key ("case:<id>"): a row locked, inserted or
  // updated by a transaction is held until it ends (another's lock waits for it), so a second lock
  // before then is not needed, and each lock costs a WAL record. Forgotten when the transaction ends;
  // nothing is held outside one.
  bool holds(const std::string& row) const { return in_transaction_ && held_.contains(row); }
  void hold(const std::string& row) {
    if (in_transaction_) held_.insert(row);
  }
  // Runs `f` once the current transaction commits (dropped if it rolls back); at once outside one.
  void afterCommit(std::function<void()> f);
  // What a caller gathers in the current transaction under `key`, to be written by `flush` just before
  // the COMMIT (its statements queued with it; an error fails the commit): made empty by the first call
  // of the transaction, which registers `flush`, and dropped when the transaction ends. Only inside a
  // transaction (transactionOpen()).
  template <class T>
  T& gathering(const std::string& key, std::function<Status(PgConnection&, T&)> flush);
  bool transactionOpen() const { return in_transaction_; }

  // Exchanges with the server so far (a statement, or a pipeline of queued ones with the next).
  long long roundTrips() const { return round_trips_; }

  // True while the server connection is usable.
  bool healthy() const;
  // Connected and outside any transaction: safe to hand to the next user.
  bool reusable() const;

 private:
  explicit PgConnection(pg_conn* c);
  struct Queued {
    std::string sql;
    std::vector<PgParam> params;
    bool asked = false;  // ask(): its result kept for the exec that wants it
  };
  static Status discard(Result<PgResult> r) { return r ? Status() : Status(r.error()); }
  Error lastError(std::string_view what) const;
  Error statementError(pg_result* raw, const std::string& sql, bool prepared);
  // The server-side name of `sql`, preparing it the first time `in_pipeline` as a command of the
  // pipeline being built (then `sent_prepare`); nullptr when it is to run unprepared (or, outside a
  // pipeline, is not prepared yet: exec runs a statement's first time through one).
  const std::string* preparedName(const std::string& sql, int params, bool in_pipeline, bool& sent_prepare);
  // Sends the queued statements and then `last` (when given) in one pipeline; the result of `last`,
  // or the first error.
  Result<PgResult> pipeline(std::optional<Queued> last);
  // commit(), with `last` (when given) sent before the COMMIT and its result kept in `out`.
  Status commitSending(std::optional<Queued> last, std::optional<PgResult>* out);

  std::unique_ptr<pg_conn, void (*)(pg_conn*)> c_;
  std::unordered_map<std::string, std::string> prepared_;  // statement text -> server-side name
  int next_statement_ = 1;
  std::vector<Queued> queued_;  // BEGIN and writes not sent yet
  struct Answer {
    std::string sql;
    std::vector<PgParam> params;
    PgResult result;
  };
  std::vector<Answer> answered_;  // asked reads that came back, until their exec or the transaction's end
  std::size_t asked_ = 0;         // asked reads queued and not sent yet
  std::optional<PgResult> answeredFor(const std::string& sql, const std::vector<PgParam>& params);
  void forgetAnswers() {
    answered_.clear();
    asked_ = 0;
  }
  bool in_transaction_ = false;  // begin() called, commit() or rollback() not yet
  std::vector<std::function<void()>> after_commit_;
  std::unordered_map<std::string, std::shared_ptr<void>> gathered_;  // gathering(): by key, this transaction's
  std::vector<std::function<Status(PgConnection&)>> before_commit_;  // their flushes, in the order first asked
  std::unordered_set<std::string> held_;  // holds(): cleared when a transaction begins and ends
  long long round_trips_ = 0;
};

template <class T>
T& PgConnection::gathering(const std::string& key, std::function<Status(PgConnection&, T&)> flush) {
  auto& slot = gathered_[key];
  if (!slot) {
    auto state = std::make_shared<T>();
    slot = state;
    before_commit_.push_back([state, flush = std::move(flush)](PgConnection& db) { return flush(db, *state); });
  }
  return *std::static_pointer_cast<T>(slot);
}

// An array value ("{a,b}") as its items, and back, each item quoted: for text[] and, as PostgreSQL reads
// quoted numbers too, bigint[] parameters. Items with quotes or backslashes are not for it (org ids,
// hashes and numbers are plain).
std::vector<std::string> textArrayItems(std::string_view literal);
std::string textArrayLiteral(const std::vector<std::string>& items);

// Bytes as a bytea text parameter (backslash-x hex), and bytea's text output back to bytes.
std::string byteaHex(std::string_view bytes);
std::string fromByteaHex(std::string_view text);

}  // namespace vkhid::store
