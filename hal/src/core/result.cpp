// SPDX-License-Identifier: Apache-2.0
#include "hal/result.hpp"

#include <cstring>

namespace hal {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::io:
      return "io";
    case Errc::timeout:
      return "timeout";
    case Errc::parse:
      return "parse";
    case Errc::auth:
      return "auth";
    case Errc::rejected:
      return "rejected";
    case Errc::retry:
      return "retry";
    case Errc::storage:
      return "storage";
    case Errc::config:
      return "config";
    case Errc::not_found:
      return "not_found";
    case Errc::busy:
      return "busy";
    case Errc::security:
      return "security";
    case Errc::internal:
      return "internal";
  }
  return "unknown";
}

Error errno_error(Errc code, std::string_view what, int err) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return Error(code, std::move(msg));
}

}  // namespace hal
