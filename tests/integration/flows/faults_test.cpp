// Fault injection (ctest label `faults`): a few hundred cases each, one fault in the middle, then the
// same verdict every time — every case reached the participant exactly once and closed, and no receipt
// was lost. Run one at a time (they stop the shared servers); bounded in count and time; loopback only.
#define BOOST_TEST_MODULE integration_faults
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <thread>

#include "tests/support/exchange_harness.hpp"

using namespace vkhid::testing;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

// Waits until `threshold` cases are registered, then runs the fault.
std::thread faultAt(ExchangeHarness& x, long long threshold, std::function<void()> fault) {
  return std::thread([&x, threshold, fault = std::move(fault)] {
    eventually([&] { return x.count("SELECT count(*) FROM cases") >= threshold; }, 180s, 50ms);
    fault();
  });
}

// One gateway and the participant's simulator, running.
struct Running {
  ExchangeHarness x;
  explicit Running(const std::vector<std::string>& simulator_flags = {}) {
    x.setUp();
    x.startGateway();
    x.startSimulator(simulator_flags);
  }
  // Submits n cases, runs `fault` once `at` of them are registered, then the shared verdict.
  void withFaultAt(long long at, std::function<void()> fault, int n = 200) {
    auto t = faultAt(x, at, std::move(fault));
    x.submitMany(n);
    t.join();
    expectEveryCaseOnceAndClosed(x, n);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(faults, *utf::precondition(servicesAreOurs))

BOOST_AUTO_TEST_CASE(faults_gateway_sigkill_three_times, *utf::timeout(600)) {
  Running r;
  r.withFaultAt(
      60,
      [&r] {
        for (long long at : {60, 140, 220}) {
          eventually([&] { return r.x.count("SELECT count(*) FROM cases") >= at; }, 180s, 50ms);
          r.x.killGateway(0, SIGKILL);
          r.x.startGateway(0);
        }
      },
      300);
}

BOOST_AUTO_TEST_CASE(faults_rabbitmq_stopped_and_restarted, *utf::timeout(600)) {
  // A restart recovers every queue of every virtual host: the earlier tests' go first (none of them
  // runs now; these tests run alone).
  BOOST_REQUIRE(services("prune-test-vhosts") == 0);
  Running r;
  r.withFaultAt(80, [] {
    BOOST_REQUIRE(services("stop rabbitmq") == 0);
    std::this_thread::sleep_for(3s);  // intake goes on: the outbox holds what the broker cannot take
    BOOST_REQUIRE(services("start rabbitmq") == 0);
  });
}

BOOST_AUTO_TEST_CASE(faults_postgresql_stopped_and_restarted, *utf::timeout(600)) {
  Running r;
  r.withFaultAt(80, [] {
    BOOST_REQUIRE(services("stop postgres") == 0);
    std::this_thread::sleep_for(3s);  // intake answers 503; the submitter retries with its key
    BOOST_REQUIRE(services("start postgres") == 0);
  });
}

BOOST_AUTO_TEST_CASE(faults_participant_simulator_stopped_and_restarted, *utf::timeout(600)) {
  Running r;
  r.withFaultAt(80, [&r] {
    r.x.stopSimulator();
    std::this_thread::sleep_for(3s);
    r.x.startSimulator();
  });
}

BOOST_AUTO_TEST_CASE(faults_simulator_duplicates_and_reorders_everything, *utf::timeout(600)) {
  Running r({"--duplicate", "--reorder"});
  r.withFaultAt(0, [] {});  // the simulator is the fault, all along
  // Every duplicate was recognised as one: each inbound msg_id is stored once.
  BOOST_TEST(r.x.count("SELECT count(*) - count(DISTINCT msg_id) FROM message WHERE direction = 'in'") == 0);
}

BOOST_AUTO_TEST_CASE(faults_two_gateways_one_killed, *utf::timeout(600)) {
  Running r;
  r.x.startGateway(1);
  r.withFaultAt(80, [&r] { r.x.killGateway(1, SIGKILL); });  // and not started again
  BOOST_TEST(!r.x.gatewayRunning(1));
}

BOOST_AUTO_TEST_CASE(faults_folder_disk_read_only_for_a_while, *utf::timeout(600)) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: making a folder read-only takes a bind mount (root)");
    return;
  }
  // The participant's outgoing folder becomes a read-only file system for five seconds: writes fail,
  // deliveries wait in their retry tiers, and all complete once it is writable again.
  ExchangeHarness x;
  x.setUp();
  int f = x.addFolderParticipant();
  x.runVkhid({"route", "add", "--target", x.org(f), "--addressee", x.org(f), "--priority", "1"});
  x.startGateway(0, {{"VKHID_DELIVERY_RETRY_DELAYS", "2s,4s,8s,16s"}});
  x.startFolderSimulator(f);
  std::string to = x.dir() + "/to-" + x.org(f);
  std::filesystem::create_directories(to);  // the mount point must exist before the first delivery
  const int n = 150;
  bool mounted = false;
  auto fault = faultAt(x, 50, [&] {
    mounted = ::mount(to.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
              ::mount(nullptr, to.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    std::this_thread::sleep_for(5s);
    // Writable again: a reader with a file of the folder open at that moment makes the unmount wait.
    for (int i = 0; mounted && i < 100 && ::umount(to.c_str()) != 0; ++i) std::this_thread::sleep_for(100ms);
  });
  for (int i = 0; i < n; ++i) {
    BOOST_REQUIRE(eventually([&] { return x.submitTo(f, "ro-" + std::to_string(i)).status / 100 == 2; }, 60s));
  }
  fault.join();
  BOOST_REQUIRE_MESSAGE(mounted, "could not make the folder read-only");
  BOOST_REQUIRE_MESSAGE(x.waitFor("SELECT count(*) FROM cases WHERE status = 'closed'", n, 300s), x.histogram());
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1") == n);
  BOOST_TEST(x.simStats(f)["appeals"] == n);
  BOOST_TEST(x.simStats(f)["registered"] == n);
  // The outage was seen: some deliveries waited in a retry tier.
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND msg_type = 1 AND attempts > 1") >= 1);
  BOOST_TEST(x.count("SELECT count(*) FROM message WHERE direction = 'out' AND status = 'dead'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
