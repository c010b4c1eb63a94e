// SPDX-License-Identifier: Apache-2.0
// SimGpioOutput: one output line requested from a SimGpio. set() records the physical level
// (after active-low) with the chip's clock time in the chip's output history; set_fail()
// makes set() fail to test error handling. Releases the line on destruction.
#pragma once

#include <string>

#include "hal/device.hpp"
#include "hal/gpio_spec.hpp"

namespace hal::sim {

class SimGpio;

class SimGpioOutput final : public Output {
 public:
  ~SimGpioOutput() override;
  SimGpioOutput(const SimGpioOutput&) = delete;
  SimGpioOutput& operator=(const SimGpioOutput&) = delete;

  Status set(bool on) override;
  DeviceStatus status() const override;
  unsigned offset() const { return offset_; }
  // While true, set() fails with Errc::io (a line that went away).
  void set_fail(bool fail) { fail_ = fail; }

 private:
  friend class SimGpio;
  SimGpioOutput(SimGpio& chip, GpioOutputSpec spec, unsigned offset);

  SimGpio& chip_;
  GpioOutputSpec spec_;
  unsigned offset_;
  bool fail_ = false;
};

}  // namespace hal::sim
