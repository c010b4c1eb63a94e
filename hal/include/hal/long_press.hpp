// SPDX-License-Identifier: Apache-2.0
// LongPressDetector: reports once when a (debounced) press has lasted the threshold. The
// release that follows is still reported by the caller as an ordinary release, so a profile
// can act on press, on long_press, or on release. Pure: the owner polls at next_deadline().
#pragma once

#include <chrono>
#include <optional>

#include "hal/clock.hpp"

namespace hal {

class LongPressDetector {
 public:
  using MonoTime = Clock::MonoTime;

  // threshold == 0 disables detection (next_deadline() is always nullopt).
  explicit LongPressDetector(std::chrono::nanoseconds threshold);

  void on_press(MonoTime at);
  void on_release();
  std::optional<MonoTime> next_deadline() const;
  // True once per press, at the first poll at or after press + threshold; `at` (if given)
  // receives press + threshold.
  bool poll(MonoTime now, MonoTime* at = nullptr);
  bool enabled() const { return threshold_.count() > 0; }

 private:
  std::chrono::nanoseconds threshold_;
  bool armed_ = false;
  MonoTime pressed_at_{};
};

}  // namespace hal
