// SPDX-License-Identifier: Apache-2.0
// FakeClock: a Clock that moves only when a test says so. advance() moves all three clocks;
// set_wall() jumps only the wall clock (an NTP step), as on a board that booted in 1970.
#pragma once

#include <chrono>

#include "hal/clock.hpp"

namespace hal::sim {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start_wall = WallTime(std::chrono::seconds(1'700'000'000)));

  WallTime wall() const override { return wall_; }
  MonoTime mono() const override { return MonoTime(since_boot_); }
  std::chrono::nanoseconds since_boot() const override { return since_boot_; }

  void advance(std::chrono::nanoseconds d);
  void set_wall(WallTime t) { wall_ = t; }

 private:
  WallTime wall_;
  std::chrono::nanoseconds since_boot_{std::chrono::seconds(10)};
};

}  // namespace hal::sim
