#include "gateway/flows/timers.hpp"

#include "gateway/app/logging.hpp"
#include "gateway/flows/deadlines.hpp"

namespace vkhid::flows {

void Chores::every(std::string name, Clock::duration period, Clock::time_point first, Chore chore) {
  entries_.push_back({std::move(name), period, first, std::move(chore)});
}

std::vector<std::string> Chores::runDue(Clock::time_point now) {
  std::vector<std::string> ran;
  for (auto& e : entries_) {
    if (now < e.next) continue;
    auto wait = e.chore();
    e.next = now + wait.value_or(e.period);
    ran.push_back(e.name);
  }
  return ran;
}

int Timers::fireDue() {
  auto db = context_.pool.acquire();
  if (!db) return 0;
  auto n = fireDueTimers(**db, context_.legal);
  if (!n) {
    log::warn("timers: not fired now, will retry", {{"error", n.error().message}});
    return 0;
  }
  auto w = judgeTransportWatches(**db, context_.legal);
  if (!w) {
    log::warn("transport watches: not judged now, will retry", {{"error", w.error().message}});
    return *n;
  }
  return *n + *w;
}

}  // namespace vkhid::flows
