// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/fake_clock.hpp"

namespace hal::sim {

FakeClock::FakeClock(WallTime start_wall) : wall_(start_wall) {}

void FakeClock::advance(std::chrono::nanoseconds d) {
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  since_boot_ += d;
}

}  // namespace hal::sim
