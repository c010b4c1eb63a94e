// SPDX-License-Identifier: Apache-2.0
// Station devices as the event loop sees them. A Device owns at most one file descriptor and
// never owns a loop (libgpiod's request fd, mosquitto_socket()): the loop waits on fd() and
// on next_deadline(), then calls on_readable() / on_deadline(), which append StationEvents.
// Devices are driven from the loop thread only. A device that loses its hardware (scanner
// unplugged) reports fd() == -1, connected() == false, and asks for a deadline at which it
// will try to reopen (with backoff); it never blocks and never throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hal/clock.hpp"
#include "hal/result.hpp"

namespace hal {

// One thing an operator did at the station.
struct StationEvent {
  enum class Kind {
    scan,        // a complete barcode read (text), or a rejected one (error non-empty)
    press,       // an input became active (after debounce)
    release,     // an input became inactive (after debounce)
    long_press,  // an input stayed active for its long-press time
    reading,     // an instrument's reply line (text), or why none came (error: timeout, lost)
    file,        // a file appeared in a watched folder (text = its path), or was refused (error)
  };
  Kind kind = Kind::scan;
  std::string input;  // the profile's name for the input ("scanner", "pass", "pedal")
  std::string text;   // scan: the decoded text (may contain GS, ASCII 29, as FNC1)
  std::string error;  // scan: why the read was rejected (too long, control character, ...);
                      // reading: why no reply came (no reply within N ms, disconnected)
                      // file: why it was refused (pattern, unreadable, too large)
  std::optional<std::string> symbology;  // scan: AIM identifier if the reader knows it
  std::string first_line;                // file: its first line (no line end, at most 256 bytes)
  Clock::MonoTime at{};                  // when it happened (monotonic)
};

// "scan", "press", "release", "long_press", "reading", "file".
const char* to_string(StationEvent::Kind kind) noexcept;

struct DeviceStatus {
  std::string name;  // profile input/output name
  std::string path;  // device path or description
  bool connected = false;
  std::string last_error;  // empty when fine
};

class Device {
 public:
  virtual ~Device() = default;
  // The fd to wait on for reading, or -1 when there is nothing to wait on right now.
  virtual int fd() const = 0;
  // The next time on_deadline() must be called (inter-key gap, debounce, long press, reopen).
  virtual std::optional<Clock::MonoTime> next_deadline() const = 0;
  // fd() is readable: read everything available, append complete events.
  virtual void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) = 0;
  // A deadline passed (or the loop woke for another reason): do due work, append events.
  virtual void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) = 0;
  virtual DeviceStatus status() const = 0;
};

// One feedback line (green, red, buzzer). Patterns (blink, pulse) are timed by the caller.
class Output {
 public:
  virtual ~Output() = default;
  virtual Status set(bool on) = 0;
  virtual DeviceStatus status() const = 0;
};

}  // namespace hal
