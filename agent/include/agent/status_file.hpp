// SPDX-License-Identifier: Apache-2.0
// The daemon's live status file, <state-dir>/status.json, read by `ion-agent status`.
// The queue itself is read from the outbox database; this file adds what only the running
// daemon knows. Contract (version 1), a JSON object:
//   "version":    1
//   "pid":        the daemon's process id (status checks that it is alive)
//   "started_ms": wall ms when the daemon started
//   "updated_ms": wall ms of this write; the daemon rewrites the file at least every
//                 kStatusRefresh (status calls it stale after 3x that)
//   "dispatcher": dispatcher_status_json() (link state, in flight, counters, last error)
//   "token":      object, e.g. {"state": "valid", "expires_in_s": 240, "last_error": ""};
//                 printed as key=value pairs in that order
//   "devices":    array of {"name", "state", "detail"} (state e.g. "connected", "missing")
// Unknown members are ignored by readers, so later versions may add members freely.
// Written atomically (temp file + rename, mode 0640) and without fsync: it is rewritten often
// and worthless after a reboot, so flash wear matters more than durability here.
#pragma once

#include <chrono>
#include <string>

#include "agent/c_handles.hpp"
#include "agent/dispatcher.hpp"
#include "hal/result.hpp"

namespace agent {

inline constexpr const char* kStatusFileName = "status.json";
inline constexpr std::chrono::seconds kStatusRefresh{10};

Json dispatcher_status_json(const DispatcherStatus& s);
hal::Status write_status_file(const std::string& state_dir, const cJSON* status);
// not_found when there is no file; parse when it is not a JSON object.
hal::Result<Json> read_status_file(const std::string& state_dir);

}  // namespace agent
