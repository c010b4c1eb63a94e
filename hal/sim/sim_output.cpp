// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_output.hpp"

#include <cerrno>

namespace hal::sim {

SimOutput::SimOutput(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}

Status SimOutput::set(bool on) {
  // One write per line: a reader (test, demo script) never sees half a line, even when
  // several outputs share the pipe (writes up to PIPE_BUF are atomic).
  std::string line = "output " + name_ + (on ? " on\n" : " off\n");
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      auto e = errno_error(Errc::io, "sim: output " + name_ + ": write", n < 0 ? errno : EIO);
      last_error_ = e.what;
      return e;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  level_ = on;
  last_error_.clear();
  return ok();
}

DeviceStatus SimOutput::status() const {
  DeviceStatus s;
  s.name = name_;
  s.path = "sim fd " + std::to_string(fd_);
  s.connected = last_error_.empty();
  s.last_error = last_error_;
  return s;
}

}  // namespace hal::sim
