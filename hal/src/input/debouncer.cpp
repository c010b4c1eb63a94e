// SPDX-License-Identifier: Apache-2.0
#include "hal/debouncer.hpp"

#include <algorithm>

namespace hal {

Debouncer::Debouncer(std::chrono::nanoseconds window, bool initial_level)
    : window_(std::max(window, std::chrono::nanoseconds(0))), stable_(initial_level), raw_(initial_level) {}

void Debouncer::on_edge(bool level, MonoTime at) {
  // Every edge restarts the window, even one that repeats the raw level (a lost event in
  // between): the line was moving, so it is not stable yet.
  last_edge_ = std::max(at, last_edge_);
  raw_ = level;
  pending_ = raw_ != stable_;
}

std::optional<Debouncer::MonoTime> Debouncer::next_deadline() const {
  if (!pending_) {
    return std::nullopt;
  }
  return last_edge_ + window_;
}

std::optional<bool> Debouncer::poll(MonoTime now, MonoTime* changed_at) {
  if (!pending_ || now < last_edge_ + window_) {
    return std::nullopt;
  }
  pending_ = false;
  stable_ = raw_;
  if (changed_at != nullptr) {
    *changed_at = last_edge_ + window_;
  }
  return stable_;
}

void Debouncer::reset(bool level) {
  stable_ = raw_ = level;
  pending_ = false;
}

}  // namespace hal
