// SPDX-License-Identifier: Apache-2.0
// The daemon's live status file, <state-dir>/status.json, read by `ion-agent status`.
// The queue itself is read from the outbox database; this file adds what only the running
// daemon knows. Contract (version 1), a JSON object:
//   "version":    1
//   "pid":        the daemon's process id
//   "pid_start":  its start time, clock ticks after boot (/proc/PID/stat field 22), and
//   "boot_id":    the boot it ran in: with these, status tells the daemon from a dead one or a
//                 later process with the same pid (absent/0 in older files: pid alone)
//   "started_ms": wall ms when the daemon started
//   "updated_ms": wall ms of this write. The daemon writes the file when something changes
//                 (at most once a second), never as a heartbeat: an idle daemon does not wake,
//                 so an old file from a live pid is normal. Relative figures (retry_in_ms,
//                 expires_in_s) hold as of updated_ms; readers age them.
//   "dispatcher": dispatcher_status_json() (link state, in flight, counters, last error)
//   "token":      object, e.g. {"state": "valid", "expires_in_s": 240, "valid_until_ms": ...,
//                 "last_error": ""}; printed as key=value pairs in that order
//   "devices":    array of {"name", "state", "detail"} (state e.g. "connected", "missing")
// Unknown members are ignored by readers, so later versions may add members freely.
// Written atomically (temp file + rename, mode 0640) and without fsync: it is worthless after
// a reboot, so flash wear matters more than durability here.
#pragma once

#include <chrono>
#include <string>

#include "agent/common/json.hpp"
#include "agent/dispatch/dispatcher.hpp"
#include "hal/result.hpp"

namespace agent {

inline constexpr const char* kStatusFileName = "status.json";

Json dispatcher_status_json(const DispatcherStatus& s);
hal::Status write_status_file(const std::string& state_dir, const cJSON* status);
// not_found when there is no file; parse when it is not a JSON object.
hal::Result<Json> read_status_file(const std::string& state_dir);

}  // namespace agent
