// SPDX-License-Identifier: Apache-2.0
// RAII aliases for libgpiod objects and the one place that knows which libgpiod generation
// is compiled in (ION_GPIOD_API_v1 / ION_GPIOD_API_v2, set by hal/CMakeLists.txt).
// Backends live in hal/linux/gpiod_v1/ and hal/linux/gpiod_v2/; only one is built.
#pragma once

#include <gpiod.h>

#include <string>

#include "hal/c_handle.hpp"

namespace hal::linux_gpiod {

using Chip = CHandle<gpiod_chip, gpiod_chip_close>;
#if defined(ION_GPIOD_API_v2)
using LineSettings = CHandle<gpiod_line_settings, gpiod_line_settings_free>;
using LineConfig = CHandle<gpiod_line_config, gpiod_line_config_free>;
using RequestConfig = CHandle<gpiod_request_config, gpiod_request_config_free>;
using LineRequest = CHandle<gpiod_line_request, gpiod_line_request_release>;
using EdgeEventBuffer = CHandle<gpiod_edge_event_buffer, gpiod_edge_event_buffer_free>;
using ChipInfo = CHandle<gpiod_chip_info, gpiod_chip_info_free>;
using LineInfo = CHandle<gpiod_line_info, gpiod_line_info_free>;
inline constexpr int kApiGeneration = 2;
#else
inline constexpr int kApiGeneration = 1;
#endif

// The consumer name every request carries; `gpioinfo` shows it next to the line.
inline constexpr const char* kConsumer = "ion-agent";
// libgpiod returns NULL for "no consumer"; error messages want "".
inline std::string text_or_empty(const char* s) {
  return s != nullptr ? std::string(s) : std::string();
}

// "libgpiod 1.6.3 (v1 API)" / "libgpiod 2.2.1 (v2 API)".
std::string library_version();

}  // namespace hal::linux_gpiod
