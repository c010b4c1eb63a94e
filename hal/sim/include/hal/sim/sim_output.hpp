// SPDX-License-Identifier: Apache-2.0
// SimOutput: a feedback output that prints "output NAME on" / "output NAME off" (one line
// per set(), in one write(2)) to stdout or a given fd, which the demo and end-to-end tests
// read. Does not own the fd. A failed write (EPIPE, EBADF) is returned as Errc::io.
#pragma once

#include <unistd.h>

#include <string>

#include "hal/device.hpp"

namespace hal::sim {

class SimOutput final : public Output {
 public:
  explicit SimOutput(std::string name, int fd = STDOUT_FILENO);

  Status set(bool on) override;
  DeviceStatus status() const override;
  bool level() const { return level_; }

 private:
  std::string name_;
  int fd_;
  bool level_ = false;
  std::string last_error_;
};

}  // namespace hal::sim
