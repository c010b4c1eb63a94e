// SPDX-License-Identifier: Apache-2.0
// Intent: what the station asked ION to do, recorded with the moment it happened. Inputs are
// a JSON object whose shape depends on `kind` (see agent/ion_ops for each kind). Intents with
// the same non-empty `subject` (a unit's serial, usually) are delivered strictly in order and
// depend on each other: when one dies, the later ones for that subject die with it.
#pragma once

#include <cstdint>
#include <string>

namespace agent {

// DESIGN.md idea 8: wall time may be wrong before the clock is synchronised, so each event
// also carries the boot it happened in and the time since that boot.
struct EventTime {
  std::int64_t wall_ms = 0;        // CLOCK_REALTIME at the event, ms since the epoch
  std::string boot_id;             // /proc/sys/kernel/random/boot_id
  std::int64_t since_boot_ns = 0;  // CLOCK_BOOTTIME at the event
  bool wall_synced = false;        // was the wall clock known to be synchronised then?
};

struct NewIntent {
  std::string kind;         // "unit.ensure", "run.ensure", "step.status", ...
  std::string inputs_json;  // a JSON object
  std::string subject;      // ordering/dependency key; empty = independent
  EventTime at;
};

}  // namespace agent
