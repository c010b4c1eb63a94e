// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/gpiod_handles.hpp"

namespace hal::linux_gpiod {

std::string library_version() {
  return std::string("libgpiod ") + gpiod_version_string() + " (v1 API)";
}

}  // namespace hal::linux_gpiod
