// Timers (DESIGN §9): the legal timers in PostgreSQL that any gateway fires, each exactly once, and the
// gateway's own periodic chores (certificate expiry warnings, gauges, outbox pruning, picking up a
// participant added while it runs). Run by the Exchange's timer thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/domain/error.hpp"
#include "gateway/flows/context.hpp"

namespace vkhid::flows {

// Periodic chores on a monotonic clock. Pure: the caller says what time it is.
class Chores {
 public:
  using Clock = std::chrono::steady_clock;
  // What a chore says of its next run: nullopt for its period, or a wait of its own (a backlog worked
  // off sooner, say).
  using Chore = std::function<std::optional<Clock::duration>()>;

  // `chore` runs every `period`, the first time at `first`.
  void every(std::string name, Clock::duration period, Clock::time_point first, Chore chore);
  // Runs, in the order they were added, the chores due at `now`; returns the names of those that ran.
  std::vector<std::string> runDue(Clock::time_point now);

 private:
  struct Entry {
    std::string name;
    Clock::duration period;
    Clock::time_point next;
    Chore chore;
  };
  std::vector<Entry> entries_;
};

class Timers {
 public:
  explicit Timers(ExchangeContext& context) : context_(context) {}
  // Fires the legal timers that are due now (deadline warnings, overdue), each in its own transaction, then
  // judges the packages whose transport watches are due (a transaction a watch). How many were handled; 0
  // when none was due or the database is away.
  int fireDue();
  // The chores run between firings.
  Chores& chores() { return chores_; }

 private:
  ExchangeContext& context_;
  Chores chores_;
};

}  // namespace vkhid::flows
