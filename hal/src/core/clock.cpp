// SPDX-License-Identifier: Apache-2.0
#include "hal/clock.hpp"

#include <ctime>

namespace hal {

Clock::WallTime SystemClock::wall() const {
  return std::chrono::system_clock::now();
}

Clock::MonoTime SystemClock::mono() const {
  return std::chrono::steady_clock::now();
}

std::chrono::nanoseconds SystemClock::since_boot() const {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace hal
