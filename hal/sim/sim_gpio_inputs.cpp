// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_gpio_inputs.hpp"

#include <unistd.h>

#include <cstdint>

#include "hal/sim/sim_gpio.hpp"

namespace hal::sim {

SimGpioInputs::SimGpioInputs(SimGpio& chip, UniqueFd event_fd)
    : chip_(chip), event_fd_(std::move(event_fd)) {}

SimGpioInputs::~SimGpioInputs() {
  for (unsigned offset : offsets_) {
    chip_.release(offset);
  }
}

void SimGpioInputs::push_edge(unsigned index, bool high, Clock::MonoTime at) {
  pending_.push_back({index, high, at});
  std::uint64_t one = 1;
  // The counter saturating (EAGAIN) still leaves the fd readable, which is all we need.
  (void)!::write(event_fd_.get(), &one, sizeof one);
}

std::optional<Clock::MonoTime> SimGpioInputs::next_deadline() const {
  std::optional<Clock::MonoTime> best;
  for (const auto& l : logic_) {
    auto d = l.next_deadline();
    if (d && (!best || *d < *best)) {
      best = d;
    }
  }
  return best;
}

void SimGpioInputs::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::uint64_t count = 0;
  (void)!::read(event_fd_.get(), &count, sizeof count);
  while (!pending_.empty()) {
    Pending p = pending_.front();
    pending_.pop_front();
    logic_[p.index].on_edge(p.high != specs_[p.index].active_low, p.at, out);
  }
  on_deadline(now, out);
}

void SimGpioInputs::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  for (auto& l : logic_) {
    l.on_deadline(now, out);
  }
}

DeviceStatus SimGpioInputs::status() const {
  DeviceStatus s;
  for (const auto& spec : specs_) {
    s.name += (s.name.empty() ? "" : ",") + spec.name;
  }
  s.path = chip_.label();
  s.connected = true;
  return s;
}

std::uint64_t SimGpioInputs::raw_edges() const {
  std::uint64_t n = 0;
  for (const auto& l : logic_) {
    n += l.raw_edges();
  }
  return n;
}

}  // namespace hal::sim
