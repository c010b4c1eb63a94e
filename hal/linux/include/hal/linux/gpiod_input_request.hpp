// SPDX-License-Identifier: Apache-2.0
// InputRequest: input lines of one chip requested for both-edge events, the part of the
// GPIO inputs that differs between libgpiod generations (gpiod_v1/input_request.cpp,
// gpiod_v2/input_request.cpp). v2 makes one kernel request (one fd) and debounces in the
// kernel; v1 requests each line on its own (one fd per line, uAPI v1) and cannot debounce,
// so GpioInputs debounces in software then. Levels are logical (active-low applied by the
// kernel). Timestamps are CLOCK_MONOTONIC on v2 and on v1 with kernels >= 5.7 (older ones
// stamp CLOCK_REALTIME; GpioInputs falls back to the read time for implausible stamps).
// Owns the chip and the request; releases the lines on destruction. Never blocks: edges are
// read only when the kernel says they are pending.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "hal/gpio_spec.hpp"
#include "hal/linux/gpiod_locate.hpp"
#include "hal/result.hpp"

namespace hal::linux_gpiod {

struct InputLine {
  unsigned offset = 0;
  bool active_low = false;
  Bias bias = Bias::as_is;
  std::chrono::microseconds debounce{0};  // used only when kernel_debounce()
};

struct LineEdge {
  unsigned offset = 0;
  bool active = false;
  std::chrono::nanoseconds timestamp{0};
};

class InputRequest {
 public:
  // True when the kernel debounces (GPIO uAPI v2 through libgpiod 2.x).
  static bool kernel_debounce();
  // Requests `lines` on the chip `chip` names; errors name the line, the chip and its user,
  // and `failed_offset` tells the caller which line it was.
  static Result<std::unique_ptr<InputRequest>> open(const LineAddress& chip,
                                                    const std::vector<InputLine>& lines, const char* consumer,
                                                    unsigned& failed_offset);
  ~InputRequest();
  InputRequest(const InputRequest&) = delete;
  InputRequest& operator=(const InputRequest&) = delete;

  // The fds to wait on (one for v2, one per line for v1).
  std::vector<int> fds() const;
  // Appends the edges pending on `fd` (one of fds()), at most a bounded batch per call so one
  // noisy line cannot starve the loop. `lost` is set when the kernel dropped events.
  Status read_edges(int fd, std::vector<LineEdge>& out, bool& lost);
  // The current logical level of a requested line.
  Result<bool> value(unsigned offset) const;

 private:
  struct Impl;
  explicit InputRequest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hal::linux_gpiod
