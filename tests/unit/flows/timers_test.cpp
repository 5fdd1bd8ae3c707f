#include <boost/test/unit_test.hpp>

#include "gateway/flows/timers.hpp"

using namespace vkhid::flows;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(timers)

BOOST_AUTO_TEST_CASE(chores_run_when_due_and_a_backlog_comes_back_sooner) {
  Chores chores;
  const auto t0 = Chores::Clock::time_point{} + 1h;
  int backlog = 3;  // rounds of pruning left
  chores.every("participants", 3s, t0 + 3s, [] { return std::optional<Chores::Clock::duration>{}; });
  chores.every("outbox", 10min, t0, [&]() -> std::optional<Chores::Clock::duration> {
    if (--backlog > 0) return 5s;  // more to do: again soon, between timers
    return std::nullopt;
  });
  auto ran = [&](Chores::Clock::time_point at) {
    std::string out;
    for (const auto& n : chores.runDue(at)) out += (out.empty() ? "" : " ") + n;
    return out;
  };
  BOOST_TEST(ran(t0) == "outbox");                     // the first run of a chore is at its `first`
  BOOST_TEST(ran(t0 + 2s) == "");                      // nothing due
  BOOST_TEST(ran(t0 + 3s) == "participants");          // its first run after 3 s
  BOOST_TEST(ran(t0 + 5s) == "outbox");                // the backlog's next round
  BOOST_TEST(ran(t0 + 6s) == "participants");          // every 3 s
  BOOST_TEST(ran(t0 + 10s) == "participants outbox");  // in the order they were added
  BOOST_TEST(ran(t0 + 15s) == "participants");         // worked off: the outbox waits its period
  BOOST_TEST(ran(t0 + 10s + 10min) == "participants outbox");
}

BOOST_AUTO_TEST_SUITE_END()
