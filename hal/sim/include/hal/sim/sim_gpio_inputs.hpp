// SPDX-License-Identifier: Apache-2.0
// SimGpioInputs: the input lines requested from a SimGpio, as one hal::Device. Edges the test
// drives are queued here and signalled on an eventfd, so a real poll() loop sees fd()
// readable exactly as with a libgpiod request fd. Software debounce always (as with the v1
// backend), then ButtonLogic. Owned by the caller; releases its lines on destruction.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "hal/button_logic.hpp"
#include "hal/c_handle.hpp"
#include "hal/device.hpp"
#include "hal/gpio_spec.hpp"

namespace hal::sim {

class SimGpio;

class SimGpioInputs final : public Device {
 public:
  ~SimGpioInputs() override;
  SimGpioInputs(const SimGpioInputs&) = delete;
  SimGpioInputs& operator=(const SimGpioInputs&) = delete;

  int fd() const override { return event_fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override;

  // Raw edges seen so far, over all lines (for figures).
  std::uint64_t raw_edges() const;

 private:
  friend class SimGpio;
  struct Pending {
    unsigned index;
    bool high;
    Clock::MonoTime at;
  };
  SimGpioInputs(SimGpio& chip, UniqueFd event_fd);
  void push_edge(unsigned index, bool high, Clock::MonoTime at);

  SimGpio& chip_;
  UniqueFd event_fd_;
  std::vector<GpioInputSpec> specs_;
  std::vector<unsigned> offsets_;
  std::vector<ButtonLogic> logic_;
  std::deque<Pending> pending_;
};

}  // namespace hal::sim
