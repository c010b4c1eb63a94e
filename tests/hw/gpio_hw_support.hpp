// SPDX-License-Identifier: Apache-2.0
// Runs a hal::Device the way the daemon's loop does, with the real clock: poll() on fd()
// until the next deadline, on_readable() when readable, on_deadline() when a deadline passed.
#pragma once

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "hal/clock.hpp"
#include "hal/device.hpp"

namespace hw {

// Pumps until `want` events arrived (then `settle` longer, to catch extra ones) or `timeout`.
inline std::vector<hal::StationEvent> pump(hal::Device& dev, std::size_t want,
                                           std::chrono::milliseconds timeout,
                                           std::chrono::milliseconds settle = std::chrono::milliseconds(0)) {
  hal::SystemClock clock;
  std::vector<hal::StationEvent> out;
  auto end = clock.mono() + timeout;
  bool got = false;
  while (clock.mono() < end) {
    if (!got && out.size() >= want) {
      got = true;
      end = std::min(end, clock.mono() + settle);
      continue;
    }
    auto wake = end;
    if (auto d = dev.next_deadline()) {
      wake = std::min(wake, *d);
    }
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - clock.mono()).count();
    pollfd p{dev.fd(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<long long>(ms, 0)));
    if (n > 0 && (p.revents & POLLIN) != 0) {
      dev.on_readable(clock.mono(), out);
    } else {
      dev.on_deadline(clock.mono(), out);
    }
  }
  return out;
}

inline std::string kinds(const std::vector<hal::StationEvent>& ev) {
  std::string s;
  for (const auto& e : ev) {
    using K = hal::StationEvent::Kind;
    s += e.kind == K::press ? "P" : e.kind == K::release ? "R" : e.kind == K::long_press ? "L" : "S";
  }
  return s;
}

}  // namespace hw
