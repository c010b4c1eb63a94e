// SPDX-License-Identifier: Apache-2.0
#include <CppUTest/TestHarness.h>

#include <chrono>

#include "hal/sim/fake_clock.hpp"

using namespace std::chrono_literals;

TEST_GROUP(FakeClock){};

TEST(FakeClock, AdvanceMovesAllClocksTogether) {
  hal::sim::FakeClock clock;
  auto w0 = clock.wall();
  auto m0 = clock.mono();
  auto b0 = clock.since_boot();
  clock.advance(1500ms);
  CHECK(clock.wall() - w0 == 1500ms);
  CHECK(clock.mono() - m0 == 1500ms);
  CHECK(clock.since_boot() - b0 == 1500ms);
}

TEST(FakeClock, WallStepLeavesMonotonicAlone) {
  hal::sim::FakeClock clock(hal::Clock::WallTime(0s));  // a board that booted in 1970
  auto m0 = clock.mono();
  clock.set_wall(hal::Clock::WallTime(std::chrono::seconds(1'800'000'000)));
  CHECK(clock.mono() == m0);
  CHECK(clock.wall().time_since_epoch() == std::chrono::seconds(1'800'000'000));
}

TEST_GROUP(SystemClock){};

TEST(SystemClock, MonotonicAndBoottimeDoNotGoBackwards) {
  hal::SystemClock clock;
  auto m0 = clock.mono();
  auto b0 = clock.since_boot();
  CHECK(b0 > 0ns);
  CHECK(clock.mono() >= m0);
  CHECK(clock.since_boot() >= b0);
}
