// SPDX-License-Identifier: Apache-2.0
// OutputRequest: one line requested as an output with its initial level, the part of
// GpioOutput that differs between libgpiod generations (gpiod_v1/output_request.cpp,
// gpiod_v2/output_request.cpp). Levels are logical (active-low applied by the kernel). Owns
// the chip and the request; the line keeps its last level after release (kernel behaviour).
#pragma once

#include <memory>

#include "hal/gpio_spec.hpp"
#include "hal/linux/gpiod_locate.hpp"
#include "hal/result.hpp"

namespace hal::linux_gpiod {

class OutputRequest {
 public:
  static Result<std::unique_ptr<OutputRequest>> open(const LineAddress& line, bool active_low, Drive drive,
                                                     bool initial, const char* consumer);
  ~OutputRequest();
  OutputRequest(const OutputRequest&) = delete;
  OutputRequest& operator=(const OutputRequest&) = delete;

  Status set(bool active);

 private:
  struct Impl;
  explicit OutputRequest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hal::linux_gpiod
