// SPDX-License-Identifier: Apache-2.0
// Intent: what the station asked ION to do, recorded with the moment it happened. Inputs are
// a JSON object whose shape depends on `kind` (the one table of kinds is agent/intent/kinds.hpp;
// what each kind does at ION is agent/ion/ops.hpp). Intents with
// the same non-empty `subject` (a unit's serial, usually) are delivered strictly in order and
// depend on each other: when one dies, the later ones for that subject die with it.
#pragma once

#include <cstdint>
#include <string>

namespace agent {

// Board time may be wrong (README "Time without an RTC"): wall time may be wrong before the clock is
// synchronised, so each event also carries the boot it happened in and the time since that boot.
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

// An intent as the outbox holds it.
enum class IntentState { pending = 0, in_flight = 1, done = 2, dead = 3 };
const char* to_string(IntentState s) noexcept;

struct IntentRecord {
  std::int64_t seq = 0;
  std::string uuid;
  std::string kind;
  std::string inputs_json;
  std::string subject;
  EventTime at;
  IntentState state = IntentState::pending;
  int attempts = 0;                  // failed deliveries so far
  std::int64_t next_attempt_ms = 0;  // not before this wall time (0 = now)
  std::string last_error;
  std::string progress;    // an operation's durable checkpoint (JSON), see IonOp
  std::string failed_dep;  // uuid of the dead intent that killed this one
  std::int64_t accepted_ms = 0;
  std::int64_t finished_ms = 0;  // when it became done or dead
};

}  // namespace agent
