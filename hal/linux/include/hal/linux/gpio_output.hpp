// SPDX-License-Identifier: Apache-2.0
// GpioOutput: one station feedback line (green, red, buzzer) on real hardware through
// libgpiod, as a hal::Output. Requested at start as an output with its initial logical
// level, active-low and drive (push-pull, open-drain, open-source); set() takes the logical
// level. Start-up fails when the line does not exist or is in use:
//   "output red: gpio: request line 23 on gpiochip0: Device or resource busy (used by 'foo')"
// A failing set() returns Errc::io and is shown in status(); patterns are timed by
// PatternDriver / Feedback, not here. Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "hal/device.hpp"
#include "hal/gpio_spec.hpp"

namespace hal::linux_gpiod {

class OutputRequest;

class GpioOutput final : public Output {
 public:
  static Result<std::unique_ptr<GpioOutput>> open(const GpioOutputSpec& spec);
  ~GpioOutput() override;
  GpioOutput(const GpioOutput&) = delete;
  GpioOutput& operator=(const GpioOutput&) = delete;

  Status set(bool on) override;
  DeviceStatus status() const override;
  // "line 23 on gpiochip0"
  const std::string& where() const { return where_; }

 private:
  GpioOutput(std::string name, std::string where, std::unique_ptr<OutputRequest> request);

  std::string name_;
  std::string where_;
  std::unique_ptr<OutputRequest> request_;
  std::string last_error_;
};

}  // namespace hal::linux_gpiod
