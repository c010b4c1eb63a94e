// SPDX-License-Identifier: Apache-2.0
// SdNotify: systemd's notify protocol by hand (sd_notify(3) without libsystemd): one datagram
// per message to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" = abstract namespace).
// Messages: READY=1 once the station is up, STATUS=<text> with the pending count,
// WATCHDOG=1 from the loop at half of $WATCHDOG_USEC (so a stuck loop is restarted), and
// STOPPING=1 when draining. Best effort: a failed send is logged once and never stops the
// daemon. Without $NOTIFY_SOCKET every call is a no-op. Loop thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "hal/c_handle.hpp"

namespace firmware {

class SdNotify {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog applies only when
  // WATCHDOG_PID is unset or names this process).
  static SdNotify from_environment();
  SdNotify() = default;

  bool enabled() const { return !path_.empty(); }
  // Sends "KEY=VALUE\n..." as one datagram. Returns false if it could not be sent.
  bool send(std::string_view message);
  // Half the watchdog timeout, or nullopt when systemd runs no watchdog for us.
  std::optional<std::chrono::milliseconds> watchdog_interval() const { return watchdog_; }

 private:
  std::string path_;
  std::optional<std::chrono::milliseconds> watchdog_;
  hal::UniqueFd fd_;
  bool warned_ = false;
};

}  // namespace firmware
