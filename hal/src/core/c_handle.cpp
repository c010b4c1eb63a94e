// SPDX-License-Identifier: Apache-2.0
#include "hal/c_handle.hpp"

#include <unistd.h>

namespace hal {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) {
    ::close(fd_);  // EINTR on close is not retried on Linux: the fd is gone either way.
  }
  fd_ = fd;
}

}  // namespace hal
