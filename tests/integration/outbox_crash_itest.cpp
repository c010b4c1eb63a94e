// SPDX-License-Identifier: Apache-2.0
// Crash safety: tests/outbox/outbox_driver accepts and drains recipe intents against the ION
// simulator and is killed with SIGKILL at random moments, then started again, many times.
// At the end every accepted intent must be delivered, and ION must show each one's effect
// exactly once and nothing else.
#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "agent/outbox/outbox.hpp"
#include "ion_sim.hpp"
#include "outbox_harness.hpp"
#include "scratch_dir.hpp"

using namespace std::chrono_literals;

namespace {

const std::string kDriver = std::string(ION_BINARY_DIR) + "/tests/outbox/outbox_driver";

pid_t spawn_driver(const ion_test::IonSim& sim, const std::string& db, const std::string& out, int total) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, STDOUT_FILENO);
    const std::string n = std::to_string(total);
    execl(kDriver.c_str(), kDriver.c_str(), "--db", db.c_str(), "--api-url", sim.api_url().c_str(),
          "--token-url", sim.token_url().c_str(), "--ca", sim.ca().c_str(), "--prefix", "CRASH", "--total",
          n.c_str(), "--pace-ms", "4", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Every "ACCEPTED i uuid" line the driver printed (it prints only after the commit).
void collect(const std::string& out, std::set<std::string>& accepted) {
  std::ifstream in(out);
  std::string word, index, uuid;
  while (in >> word) {
    if (word == "ACCEPTED" && in >> index >> uuid) {
      accepted.insert(uuid);
    }
  }
}

void run_cycles(int cycles, int total) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  testing_support::ScratchDir dir{"outbox-crash"};
  const std::string db = dir.file("outbox.db");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> when(20, 900);
  std::set<std::string> accepted;
  for (int i = 0; i < cycles; ++i) {
    const std::string out = dir.file("out-" + std::to_string(i));
    pid_t pid = spawn_driver(sim, db, out, total);
    CHECK(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(when(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    collect(out, accepted);
  }
  // The last run goes to the end undisturbed.
  const std::string out = dir.file("out-final");
  pid_t pid = spawn_driver(sim, db, out, total);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL("driver did not finish within 300 s");
    }
    std::this_thread::sleep_for(50ms);
  }
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  collect(out, accepted);

  hal::SystemClock clock;
  auto box = agent::Outbox::open(db, {}, clock);
  CHECK_TRUE(box.ok());
  auto st = (*box)->stats();
  LONGS_EQUAL(total, st->done);
  LONGS_EQUAL(0, st->pending + st->in_flight + st->dead);
  for (const auto& uuid : accepted) {
    auto r = (*box)->find(uuid);
    CHECK_TRUE_TEXT(r.ok() && r->state == agent::IntentState::done, uuid.c_str());
  }
  CHECK(accepted.size() <= static_cast<std::size_t>(total));
  agent::Json state = sim.state();
  agent::Json log = sim.admin_get("/_sim/log");
  std::string problems = outbox_test::check_recipe_effect(state.get(), log.get(), "CRASH", total);
  CHECK_TRUE_TEXT(problems.empty(), problems.c_str());
}

}  // namespace

TEST_GROUP(OutboxCrash){};

TEST(OutboxCrash, TenKillCyclesLoseNothingAndRepeatNothing) {
  run_cycles(10, 200);
}

TEST_GROUP(OutboxCrashSlow){};

// Registered in tests/outbox/CMakeLists.txt with the `slow` label.
#define SLOW_TEST(group, name) TEST(group, name)
SLOW_TEST(OutboxCrashSlow, AHundredKillCyclesLoseNothingAndRepeatNothing) {
  run_cycles(100, 1000);
}
