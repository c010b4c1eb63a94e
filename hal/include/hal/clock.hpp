// SPDX-License-Identifier: Apache-2.0
// Clock: every time source the agent reads, behind one interface so tests can own time.
//  - wall():   CLOCK_REALTIME; may be wrong on boards without an RTC until NTP syncs.
//  - mono():   CLOCK_MONOTONIC; for deadlines, timeouts and backoff.
//  - since_boot(): CLOCK_BOOTTIME; with the boot id, it lets an event's wall time be
//    corrected after the clock is synchronised (agent/README.md rule 8).
#pragma once

#include <chrono>

namespace hal {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual WallTime wall() const = 0;
  virtual MonoTime mono() const = 0;
  virtual std::chrono::nanoseconds since_boot() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime wall() const override;
  MonoTime mono() const override;
  std::chrono::nanoseconds since_boot() const override;
};

}  // namespace hal
