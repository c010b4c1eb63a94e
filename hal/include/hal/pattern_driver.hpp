// SPDX-License-Identifier: Apache-2.0
// PatternDriver: plays an OutputPattern on one hal::Output, timed by the event loop
// (next_deadline() / on_deadline(now)); no threads, no sleeps. Step boundaries are computed
// from the pattern's start, so a late wake-up does not stretch the pattern; when the loop was
// so late that steps were missed, only the level that is current now is set. set() is called
// when the level changes, and once at play() to (re)assert the first level.
// A failing set() is logged once (until the output works again) and timing carries on; the
// last error is kept for status. Borrows the Output, which must outlive the driver.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "hal/output_pattern.hpp"

namespace hal {

class PatternDriver {
 public:
  using MonoTime = Clock::MonoTime;

  PatternDriver(std::string name, Output& output);

  // Replaces whatever is playing, starting now.
  void play(const OutputPattern& pattern, MonoTime now);
  std::optional<MonoTime> next_deadline() const;
  void on_deadline(MonoTime now);

  const std::string& name() const { return name_; }
  bool level() const { return level_; }
  // True while steps or a loop are still running.
  bool running() const { return next_deadline().has_value(); }
  const std::string& last_error() const { return last_error_; }

 private:
  const PatternStep* current() const;
  void advance();
  void apply(bool on, bool force);

  std::string name_;
  Output& output_;
  OutputPattern pattern_;
  bool in_loop_ = false;
  size_t index_ = 0;     // current step in steps or loop
  bool done_ = true;     // reached the final level
  MonoTime step_end_{};  // scheduled end of the current step
  bool level_ = false;
  bool known_ = false;  // level_ reflects a successful set()
  std::string last_error_;
};

}  // namespace hal
