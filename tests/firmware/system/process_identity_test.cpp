// SPDX-License-Identifier: Apache-2.0
// process_liveness(): how `ion-agent status` tells the daemon that wrote status.json from a
// dead one, a stopped one, or a later process that got the same pid.
#include "process_identity.hpp"

#include <CppUTest/TestHarness.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

using firmware::Liveness;
using firmware::process_liveness;
using firmware::process_start_ticks;

namespace {

// A child that sleeps until killed.
pid_t sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  return pid;
}

// Waits (bounded) until /proc shows `pid` in the wanted state.
bool becomes(pid_t pid, std::uint64_t start, Liveness want) {
  for (int i = 0; i < 200; ++i) {
    if (process_liveness(pid, start, "") == want) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_GROUP(ProcessIdentity){};

TEST(ProcessIdentity, TheSameProcessIsAliveAndAnotherStartTimeIsAReusedPid) {
  auto start = process_start_ticks(::getpid());
  CHECK_TRUE(start.has_value());
  CHECK_TRUE(*start > 0);
  const std::string boot = firmware::current_boot_id();
  CHECK_FALSE(boot.empty());
  CHECK_TRUE(process_liveness(::getpid(), *start, boot) == Liveness::alive);
  CHECK_TRUE(process_liveness(::getpid(), 0, boot) == Liveness::alive);  // older files: pid only
  CHECK_TRUE(process_liveness(::getpid(), *start + 1, boot) == Liveness::reused);
  // Written in another boot: whatever runs under that pid now is not the daemon.
  CHECK_TRUE(process_liveness(::getpid(), *start, "00000000-0000-0000-0000-000000000000") == Liveness::gone);
}

TEST(ProcessIdentity, StoppedZombieAndReapedChildren) {
  pid_t pid = sleeper();
  CHECK_TRUE(pid > 0);
  auto start = process_start_ticks(pid);
  CHECK_TRUE(start.has_value());
  ::kill(pid, SIGSTOP);
  CHECK_TRUE(becomes(pid, *start, Liveness::stopped));
  ::kill(pid, SIGKILL);
  CHECK_TRUE(becomes(pid, *start, Liveness::zombie));  // not reaped yet
  int status = 0;
  LONGS_EQUAL(pid, ::waitpid(pid, &status, 0));
  CHECK_TRUE(process_liveness(pid, *start, "") == Liveness::gone);
  CHECK_FALSE(process_start_ticks(pid).has_value());
  CHECK_TRUE(process_liveness(-1, 0, "") == Liveness::gone);
  CHECK_TRUE(process_liveness(0, 0, "") == Liveness::gone);
}
