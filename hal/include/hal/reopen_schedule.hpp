// SPDX-License-Identifier: Apache-2.0
// ReopenSchedule: the "device went missing, try again later" state that every unpluggable
// input shares (EvdevScanner, TtyScanner). It holds the device's DeviceStatus (path,
// connected, last_error), the reopen Backoff and the time of the next open attempt, and writes
// the two log lines such a device has: "input '<name>': scanner missing: <why>" at warning when
// an open device goes away, "input '<name>': still missing: <why>" at debug when a retry fails.
//
// Ownership: a value member of its device. It does no I/O but logging: the device opens and
// closes its fd, this records the outcome and says when to try again. Times are monotonic
// (Clock::MonoTime); the delay goes from the backoff's min, doubling, to its max, and is reset
// by a successful open. Loop thread only; never throws.
//
// Life cycle (the device calls):
//   opened(path)          after every successful open: connected, backoff reset, no deadline
//   open_failed(now, e)   after a failed open: missing with e's text, next try at now + delay
//   lost(now, why)        an open device went away: as open_failed, plus the warning line
//   ended(why)            nothing will come back (end of a replay): missing, no deadline
//   deadline()            from next_deadline() while the device has no fd
//   retry_if_due(now, f)  from on_deadline() while the device has no fd
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hal/backoff.hpp"
#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "hal/result.hpp"

namespace hal {

class ReopenSchedule {
 public:
  // `module` prefixes the log lines ("evdev", "serial"); `name` is the profile's input name.
  // Until the first open, the status is missing with last_error "not opened yet".
  ReopenSchedule(std::string_view module, std::string name, std::string path, Backoff backoff);

  const DeviceStatus& status() const { return status_; }
  // When the next open attempt is due; empty while open, before the first open, and after ended().
  std::optional<Clock::MonoTime> deadline() const { return reopen_at_; }
  bool due(Clock::MonoTime now) const { return reopen_at_ && now >= *reopen_at_; }

  void opened(std::string path);
  void open_failed(Clock::MonoTime now, const Error& why);
  void lost(Clock::MonoTime now, std::string why);
  void ended(std::string why);

  // When due, calls `open()` (the device's own open(now), which reports its outcome through
  // opened() / open_failed(), so the deadline moves on) and logs a failure at debug. A retry
  // that is not due does nothing.
  template <class Open>
  void retry_if_due(Clock::MonoTime now, Open&& open) {
    if (!due(now)) {
      return;
    }
    if (Status st = open(); !st.ok()) {
      still_missing(st.error());
    }
  }

 private:
  void missing(std::string why);
  void still_missing(const Error& why) const;

  std::string module_;
  DeviceStatus status_;
  Backoff backoff_;
  std::optional<Clock::MonoTime> reopen_at_;
};

}  // namespace hal
