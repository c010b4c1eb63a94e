// SPDX-License-Identifier: Apache-2.0
#include "hal/pattern_driver.hpp"

#include <utility>

#include "hal/log.hpp"

namespace hal {

PatternDriver::PatternDriver(std::string name, Output& output) : name_(std::move(name)), output_(output) {}

void PatternDriver::play(const OutputPattern& pattern, MonoTime now) {
  pattern_ = pattern;
  in_loop_ = pattern_.steps.empty() && !pattern_.loop.empty();
  index_ = 0;
  done_ = pattern_.steps.empty() && pattern_.loop.empty();
  if (done_) {
    apply(pattern_.final_on, true);
    return;
  }
  step_end_ = now + current()->duration;
  apply(current()->on, true);
  on_deadline(now);
}

const PatternStep* PatternDriver::current() const {
  if (done_) {
    return nullptr;
  }
  const auto& list = in_loop_ ? pattern_.loop : pattern_.steps;
  return &list[index_];
}

std::optional<PatternDriver::MonoTime> PatternDriver::next_deadline() const {
  if (done_) {
    return std::nullopt;
  }
  return step_end_;
}

// Moves to the step after the current one; its end is counted from the scheduled end of
// the current step, not from when we got here.
void PatternDriver::advance() {
  ++index_;
  if (!in_loop_ && index_ == pattern_.steps.size()) {
    index_ = 0;
    if (pattern_.loop.empty()) {
      done_ = true;
      return;
    }
    in_loop_ = true;
  } else if (in_loop_ && index_ == pattern_.loop.size()) {
    index_ = 0;
  }
  step_end_ += current()->duration;
}

void PatternDriver::on_deadline(MonoTime now) {
  if (done_ || now < step_end_) {
    return;
  }
  // A loop whose whole cycle was missed is re-anchored at now instead of being walked
  // step by step (after a suspend, a blink forever could be hours behind).
  std::chrono::nanoseconds cycle{0};
  for (const auto& s : pattern_.loop) {
    cycle += s.duration;
  }
  while (!done_ && step_end_ <= now) {
    if (in_loop_ && now - step_end_ > cycle) {
      index_ = 0;
      step_end_ = now + pattern_.loop[0].duration;
      break;
    }
    advance();
  }
  apply(done_ ? pattern_.final_on : current()->on, false);
}

void PatternDriver::apply(bool on, bool force) {
  if (!force && known_ && on == level_) {
    return;
  }
  Status st = output_.set(on);
  level_ = on;
  if (st.ok()) {
    known_ = true;
    if (!last_error_.empty()) {
      log::notice("gpio", "output " + name_ + " works again");
      last_error_.clear();
    }
    return;
  }
  known_ = false;  // try again at the next change or step
  if (last_error_ != st.error().what) {
    log::warning("gpio", "output " + name_ + ": " + st.error().what);
    last_error_ = st.error().what;
  }
}

}  // namespace hal
