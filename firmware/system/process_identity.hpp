// SPDX-License-Identifier: Apache-2.0
// Process identity from /proc, so `ion-agent status` can tell the daemon that wrote
// status.json from a dead one or an unrelated process that got its pid later: a pid is only
// the same process if its start time (clock ticks after boot, /proc/PID/stat field 22) and the
// boot id match too. Reading /proc/PID/stat needs no privileges, unlike kill(pid, 0) on
// another user's process. Nothing here throws; unreadable or malformed files mean "gone".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace firmware {

// Start time of `pid` in clock ticks after boot; nullopt when there is no such process.
std::optional<std::uint64_t> process_start_ticks(pid_t pid);

enum class Liveness {
  alive,    // the very process (pid, start time, boot match), running or sleeping
  stopped,  // that process, but stopped by a signal or a debugger (state T/t)
  zombie,   // it has exited; its parent has not reaped it yet
  gone,     // no such pid, or recorded before this boot
  reused,   // the pid now belongs to another process
};
const char* to_string(Liveness l) noexcept;

// start_ticks 0 = not recorded (older status files): the pid alone decides.
Liveness process_liveness(pid_t pid, std::uint64_t start_ticks, const std::string& boot_id);

// /proc/sys/kernel/random/boot_id, "" if unreadable.
std::string current_boot_id();

}  // namespace firmware
