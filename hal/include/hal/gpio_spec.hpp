// SPDX-License-Identifier: Apache-2.0
// What a station profile says about one GPIO line, independent of the backend (libgpiod v1,
// v2, or the simulated chip). Plain values, no ownership. Durations are std::chrono; zero
// disables the feature (no debounce, no long press). The parse_* helpers turn profile words
// into these values and return a config error naming the word when it is not known.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "hal/result.hpp"

namespace hal {

enum class Bias { as_is, disabled, pull_up, pull_down };
enum class Drive { push_pull, open_drain, open_source };

// Where a line is: a chip (its name "gpiochip0", its path "/dev/gpiochip0", its label
// "pinctrl-bcm2711", or a bare number "0") plus an offset; or a line name from the device tree
// ("PASS_BTN"), optionally restricted to one chip.
struct GpioLineRef {
  std::string chip;                // empty: any chip (only with line_name)
  std::optional<unsigned> offset;  // set: by offset on `chip`
  std::string line_name;           // used when offset is not set

  // "line 17 on gpiochip0" / "line 'PASS_BTN'" / "line 'PASS_BTN' on gpiochip1", for errors.
  std::string describe() const;
};

struct GpioInputSpec {
  std::string name;  // the profile's input name, copied into every StationEvent
  GpioLineRef line;
  bool active_low = false;  // true for a button that pulls the line to ground
  Bias bias = Bias::as_is;
  std::chrono::milliseconds debounce{20};   // 0: every edge counts
  std::chrono::milliseconds long_press{0};  // 0: no long_press events
};

struct GpioOutputSpec {
  std::string name;  // "green", "red", "buzzer"
  GpioLineRef line;
  bool active_low = false;
  Drive drive = Drive::push_pull;
  bool initial = false;  // logical level set when the line is requested
};

// Profile words: "as-is", "disabled", "pull-up", "pull-down" (also "none" = disabled).
Result<Bias> parse_bias(std::string_view word);
std::string_view to_string(Bias bias) noexcept;
// "push-pull", "open-drain", "open-source".
Result<Drive> parse_drive(std::string_view word);
std::string_view to_string(Drive drive) noexcept;

// The error every backend returns when a line cannot be requested, so the text is the same
// on libgpiod v1, v2 and the simulated chip:
//   "gpio: request line 17 on gpiochip0: Device or resource busy (used by 'foo')"
// `what` is "line 17 on gpiochip0"; `consumer` may be empty. EBUSY maps to Errc::busy,
// ENOENT/ENODEV/ENXIO to Errc::not_found, everything else to Errc::io.
Error gpio_request_error(std::string_view what, int err, std::string_view consumer);

}  // namespace hal
