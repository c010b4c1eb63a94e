// SPDX-License-Identifier: Apache-2.0
// TimeSync: events stamped before the clock is synchronised carry wall_synced = false plus
// boot id and boot time; once it is, newly_synced() gives the true wall time of the boot
// start exactly once, from which the outbox corrects those events.
#include "time_sync.hpp"

#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <fstream>

#include "hal/sim/fake_clock.hpp"

using namespace std::chrono_literals;

TEST_GROUP(TimeSync) {
  std::string flag = "/tmp/ion-timesync-" + std::to_string(::getpid());
  void setup() override {
    ::unlink(flag.c_str());
  }
  void teardown() override {
    ::unlink(flag.c_str());
  }
};

TEST(TimeSync, StampsUnsyncedEventsAndReportsTheSyncOnce) {
  // A board that booted with its clock at 1970 + 1000 s.
  hal::sim::FakeClock clock(hal::Clock::WallTime(1000s));
  firmware::TimeSync ts(clock, flag);
  CHECK_FALSE(ts.synced());
  clock.advance(5s);
  agent::EventTime early = ts.stamp();
  CHECK_FALSE(early.wall_synced);
  CHECK_FALSE(ts.boot_id().empty());
  STRCMP_EQUAL(ts.boot_id().c_str(), early.boot_id.c_str());
  CHECK_FALSE(ts.newly_synced().has_value());

  // NTP steps the clock to the real time, and timesyncd drops its flag file.
  clock.advance(10s);
  const std::int64_t real_now_ms = 1'790'000'000'000;
  clock.set_wall(hal::Clock::WallTime(std::chrono::milliseconds(real_now_ms)));
  std::ofstream(flag) << "";
  auto boot_wall = ts.newly_synced();
  CHECK_TRUE(boot_wall.has_value());
  const std::int64_t since_boot_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.since_boot()).count();
  LONGS_EQUAL(real_now_ms - since_boot_ms, *boot_wall);
  // The early event's corrected time: boot start + its time since boot = 10 s before now.
  LONGS_EQUAL(real_now_ms - 10000, *boot_wall + early.since_boot_ns / 1000000);
  CHECK_FALSE(ts.newly_synced().has_value());
  CHECK_TRUE(ts.stamp().wall_synced);
}
