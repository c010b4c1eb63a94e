// SPDX-License-Identifier: Apache-2.0
// Feedback: the station's feedback outputs (green, red, buzzer, ...) and the named signals
// played on them. A signal is a set of patterns played together, one per output ("bad_scan"
// = red "blink 200ms x3" + buzzer "pulse 150ms"). Playing a signal replaces what plays on the
// outputs it names and leaves the others alone; a steady "on" stays until something else is
// played on that output. Timed by the loop through next_deadline() / on_deadline(now).
//
// Built-in signals (define_builtins(); a profile may redefine any of them with define()):
//   accepted    green "pulse 300ms"                           event accepted (durable)
//   bad_scan    red "blink 200ms x3", buzzer "pulse 150ms"    label rejected
//   queue_full  red "on", buzzer "pulse 1s"                   outbox full: stop scanning
//   no_unit     red "blink 800ms x2"                          button pressed, no unit scanned
//   clear       every output "off"
// Parts naming outputs the station does not have are skipped for built-ins, refused for
// define(). Borrows the Outputs, which must outlive this object. Loop thread only.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "hal/output_pattern.hpp"
#include "hal/pattern_driver.hpp"

namespace hal {

struct SignalPart {
  std::string output;
  OutputPattern pattern;
};

struct BuiltinSignal {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> parts;  // output, pattern text
};

class Feedback {
 public:
  using MonoTime = Clock::MonoTime;

  static const std::vector<BuiltinSignal>& builtins();

  // Errc::config when the name is already taken.
  Status add_output(std::string name, Output& output);
  // Adds (or resets) the built-in signals for the outputs added so far; call it after
  // add_output() and before the profile's own define() calls, which then win.
  void define_builtins();
  // Errc::config when a part names an unknown output; "" is not a valid name.
  Status define(std::string signal, std::vector<SignalPart> parts);
  bool has_signal(std::string_view signal) const;

  // Errc::not_found for an unknown signal or output.
  Status play(std::string_view signal, MonoTime now);
  Status play_on(std::string_view output, const OutputPattern& pattern, MonoTime now);

  std::optional<MonoTime> next_deadline() const;
  void on_deadline(MonoTime now);
  // The logical level last set on an output (false for unknown names).
  bool level(std::string_view output) const;
  std::vector<DeviceStatus> status() const;

 private:
  PatternDriver* find(std::string_view output);
  const PatternDriver* find(std::string_view output) const;

  std::vector<std::pair<Output*, std::unique_ptr<PatternDriver>>> outputs_;
  std::map<std::string, std::vector<SignalPart>, std::less<>> signals_;
};

}  // namespace hal
