// SPDX-License-Identifier: Apache-2.0
// Debouncer: software debounce of one line, with the semantics of the kernel's GPIO v2
// debounce (gpiolib-cdev) so callers see the same events whichever does the work: a level
// counts only once the raw line has stayed at it for the whole window; a glitch that returns
// to the stable level inside the window produces nothing; the change is reported at
// (last raw edge + window). Used when the kernel cannot debounce (libgpiod v1 / uAPI v1) and by
// the simulated chip. Pure: no clock, no I/O; the owner feeds edges and polls at the deadline.
#pragma once

#include <chrono>
#include <optional>

#include "hal/clock.hpp"

namespace hal {

class Debouncer {
 public:
  using MonoTime = Clock::MonoTime;

  // window == 0 passes every edge through (reported at its own time).
  explicit Debouncer(std::chrono::nanoseconds window, bool initial_level = false);

  // The raw line is now `level` since `at`. Edges older than the previous one are taken as
  // happening at the previous one's time (timestamps from different sources may disagree).
  void on_edge(bool level, MonoTime at);
  // When the pending level becomes stable; nullopt when nothing is pending.
  std::optional<MonoTime> next_deadline() const;
  // At `now`, adopts the raw level if it has been stable for the window. Returns the new
  // stable level when it changed; `changed_at` (if given) receives the time it settled.
  std::optional<bool> poll(MonoTime now, MonoTime* changed_at = nullptr);

  bool stable() const { return stable_; }
  bool raw() const { return raw_; }
  // Forgets pending edges and sets both levels (a line re-read after an event overflow).
  void reset(bool level);

 private:
  std::chrono::nanoseconds window_;
  bool stable_;
  bool raw_;
  bool pending_ = false;
  MonoTime last_edge_{};
};

}  // namespace hal
