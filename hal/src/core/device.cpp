// SPDX-License-Identifier: Apache-2.0
#include "hal/device.hpp"

namespace hal {

const char* to_string(StationEvent::Kind kind) noexcept {
  switch (kind) {
    case StationEvent::Kind::scan:
      return "scan";
    case StationEvent::Kind::press:
      return "press";
    case StationEvent::Kind::release:
      return "release";
    case StationEvent::Kind::long_press:
      return "long_press";
    case StationEvent::Kind::reading:
      return "reading";
    case StationEvent::Kind::file:
      return "file";
  }
  return "?";
}

}  // namespace hal
