// SPDX-License-Identifier: Apache-2.0
// Finding a GPIO line: turns a profile's GpioLineRef (chip by name, path, label or number,
// plus an offset; or a line name) into the chip and offset to request. Implemented once per
// libgpiod generation (hal/linux/gpiod_v1/locate.cpp, gpiod_v2/locate.cpp); the messages are
// the same on both: "gpio: open chip 'foo': no such GPIO chip (looked up by name, path,
// label and number)", "gpio: line 99 on gpiochip0: no such line (chip has 54 lines)",
// "gpio: find line 'PASS_BTN': no line with that name on any chip". Opens and closes chips
// (it holds nothing); the line may still be taken by someone else before it is requested.
#pragma once

#include <string>

#include "hal/gpio_spec.hpp"
#include "hal/result.hpp"

namespace hal::linux_gpiod {

struct LineAddress {
  std::string chip_path;   // "/dev/gpiochip0"
  std::string chip_name;   // "gpiochip0"
  std::string chip_label;  // "pinctrl-bcm2711", "gpio-sim.0-node0"
  unsigned num_lines = 0;
  unsigned offset = 0;

  // "line 17 on gpiochip0", the way errors name a line.
  std::string where() const { return "line " + std::to_string(offset) + " on " + chip_name; }
};

Result<LineAddress> locate(const GpioLineRef& ref);

}  // namespace hal::linux_gpiod
