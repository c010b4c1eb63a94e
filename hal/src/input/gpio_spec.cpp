// SPDX-License-Identifier: Apache-2.0
#include "hal/gpio_spec.hpp"

#include <cerrno>
#include <cstring>

namespace hal {

std::string GpioLineRef::describe() const {
  std::string s = "line ";
  if (offset) {
    s += std::to_string(*offset);
  } else {
    s += "'" + line_name + "'";
  }
  if (!chip.empty()) {
    s += " on " + chip;
  }
  return s;
}

Result<Bias> parse_bias(std::string_view word) {
  if (word == "as-is") {
    return Bias::as_is;
  }
  if (word == "disabled" || word == "none") {
    return Bias::disabled;
  }
  if (word == "pull-up") {
    return Bias::pull_up;
  }
  if (word == "pull-down") {
    return Bias::pull_down;
  }
  return Error(Errc::config, "gpio: unknown bias '" + std::string(word) +
                                 "' (expected as-is, disabled, pull-up or pull-down)");
}

std::string_view to_string(Bias bias) noexcept {
  switch (bias) {
    case Bias::as_is:
      return "as-is";
    case Bias::disabled:
      return "disabled";
    case Bias::pull_up:
      return "pull-up";
    case Bias::pull_down:
      return "pull-down";
  }
  return "as-is";
}

Result<Drive> parse_drive(std::string_view word) {
  if (word == "push-pull") {
    return Drive::push_pull;
  }
  if (word == "open-drain") {
    return Drive::open_drain;
  }
  if (word == "open-source") {
    return Drive::open_source;
  }
  return Error(Errc::config, "gpio: unknown drive '" + std::string(word) +
                                 "' (expected push-pull, open-drain or open-source)");
}

std::string_view to_string(Drive drive) noexcept {
  switch (drive) {
    case Drive::push_pull:
      return "push-pull";
    case Drive::open_drain:
      return "open-drain";
    case Drive::open_source:
      return "open-source";
  }
  return "push-pull";
}

Error gpio_request_error(std::string_view what, int err, std::string_view consumer) {
  Errc code = Errc::io;
  if (err == EBUSY) {
    code = Errc::busy;
  } else if (err == ENOENT || err == ENODEV || err == ENXIO) {
    code = Errc::not_found;
  }
  std::string msg = "gpio: request " + std::string(what) + ": " + std::strerror(err);
  if (!consumer.empty()) {
    msg += " (used by '" + std::string(consumer) + "')";
  }
  return Error(code, std::move(msg));
}

}  // namespace hal
