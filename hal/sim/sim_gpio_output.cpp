// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_gpio_output.hpp"

#include "hal/sim/sim_gpio.hpp"

namespace hal::sim {

SimGpioOutput::SimGpioOutput(SimGpio& chip, GpioOutputSpec spec, unsigned offset)
    : chip_(chip), spec_(std::move(spec)), offset_(offset) {}

SimGpioOutput::~SimGpioOutput() {
  chip_.release(offset_);
}

Status SimGpioOutput::set(bool on) {
  if (fail_) {
    return Error(Errc::io,
                 "gpio: set line " + std::to_string(offset_) + " on " + chip_.label() + ": No such device");
  }
  chip_.drive(offset_, on != spec_.active_low);
  return ok();
}

DeviceStatus SimGpioOutput::status() const {
  DeviceStatus s;
  s.name = spec_.name;
  s.path = "line " + std::to_string(offset_) + " on " + chip_.label();
  s.connected = !fail_;
  return s;
}

}  // namespace hal::sim
