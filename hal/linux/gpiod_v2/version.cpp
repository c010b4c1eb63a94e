// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/gpiod_handles.hpp"

namespace hal::linux_gpiod {

std::string library_version() {
  return std::string("libgpiod ") + gpiod_api_version() + " (v2 API)";
}

}  // namespace hal::linux_gpiod
