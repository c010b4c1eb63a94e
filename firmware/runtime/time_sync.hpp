// SPDX-License-Identifier: Apache-2.0
// TimeSync: knows whether the wall clock can be trusted and stamps events with an
// agent::EventTime (agent/README.md rule 8). Boards without an RTC boot in 1970 or at their last
// shutdown; events recorded then carry wall_synced = false plus boot id and CLOCK_BOOTTIME,
// and once the clock is synchronised the daemon rewrites their wall time (same boot) from
// boot_wall = wall_now - since_boot_now before they are sent (Outbox::correct_unsynced_times).
//
// Synchronised means: systemd-timesyncd's flag file exists (/run/systemd/timesync/
// synchronized), or adjtimex() reports a clock not in TIME_ERROR without STA_UNSYNC (chrony,
// ntpd and timesyncd all clear it). A test may name its own flag file; then only that file
// decides. Detecting the change costs no periodic wakeups: fd() is a CLOCK_REALTIME timerfd
// with TFD_TIMER_CANCEL_ON_SET, readable when the clock is stepped (the usual first sync);
// a slewed sync is noticed at the next check (every event and every dispatcher pass).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/intent/intent.hpp"
#include "hal/c_handle.hpp"
#include "hal/clock.hpp"

namespace firmware {

class TimeSync {
 public:
  // flag_file empty: timesyncd's flag file or adjtimex; else only that file.
  TimeSync(const hal::Clock& clock, std::string flag_file = {});

  bool synced() const;
  agent::EventTime stamp() const;
  const std::string& boot_id() const { return boot_id_; }

  // -1 when the clock-step timerfd could not be made (checks still happen on events).
  int fd() const { return timer_.get(); }
  void on_readable();  // re-arms the timerfd after a clock step

  // When the clock has become synchronised since the last call: the true wall time (ms) at
  // which this boot started, for correcting events stamped before. Else nullopt.
  std::optional<std::int64_t> newly_synced();

 private:
  void arm();

  const hal::Clock& clock_;
  std::string flag_file_;
  std::string boot_id_;
  hal::UniqueFd timer_;
  bool was_synced_ = false;
};

}  // namespace firmware
