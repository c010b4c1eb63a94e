// SPDX-License-Identifier: Apache-2.0
// Backoff: the delay before the next attempt to reopen a device that went away. Doubles from
// `min` up to `max`; reset() after a successful open. No jitter: these are local devices, not
// a shared server, so there is no herd to spread out. Pure value type, driven by the caller.
#pragma once

#include <chrono>

namespace hal {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  Backoff(Duration min, Duration max) : min_(min), max_(max < min ? min : max), next_(min_) {}

  // The delay to wait now; the one after it is twice as long (capped).
  Duration next() {
    Duration d = next_;
    next_ = next_ * 2 > max_ ? max_ : next_ * 2;
    return d;
  }
  void reset() { next_ = min_; }

 private:
  Duration min_;
  Duration max_;
  Duration next_;
};

}  // namespace hal
