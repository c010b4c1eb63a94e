// SPDX-License-Identifier: Apache-2.0
// The one table of intent kinds: the inputs each takes, their types, and which come from the
// station's context. The profile reader checks rules against it, the workflow fills the
// implicit inputs from it, and the outbox validates every intent with it before accepting.
// What each kind does at ION lives in agent/ion/ops.hpp. A new kind is a row here plus an
// operation there.
//
// The optional `interlock` input of the unit, run, step and issue kinds is written by the
// workflow, not the profile: "skipped: <why>" when a rule's `require` check could not reach
// ION and the rule says "offline": "accept" (agent/intent/interlock.hpp).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "hal/result.hpp"

namespace agent {

enum class InputType {
  text,    // a non-empty string
  id,      // a string or an integer (ION's ID)
  step,    // a step title (string) or position (integer)
  object,  // a JSON object
};

struct IntentInput {
  const char* name;
  InputType type;
  bool required;
};

struct IntentKind {
  std::string_view name;
  std::vector<IntentInput> inputs;
  // `serial` comes from the context's unit.serial when the rule does not give it.
  bool serial_from_unit;
  // `procedureId` comes from the last run.ensure of the unit when the rule does not give it.
  bool procedure_from_run;
  // `source` is the path of the event's file (a folder input's "file" event), and the outbox
  // copies that file into the state directory when it accepts the intent (agent/outbox).
  bool file_from_event = false;
};

const std::vector<IntentKind>& intent_kinds();
const IntentKind* find_intent_kind(std::string_view name);
// "unit.ensure, unit.move, ..." for messages.
std::string intent_kind_names();

// The largest inputs document an intent may have: its GraphQL request must stay well inside
// what ION accepts, and the outbox (64 KiB per intent) must hold it.
inline constexpr std::size_t kMaxIntentInputsBytes = 64 * 1024;

// Checks a kind and its inputs (JSON object, required keys, key types, valid UTF-8 and at most
// kMaxIntentInputsBytes: what ION can never take is refused here, before anything is green).
// Errc::parse with the offending key, e.g. "step.fields: inputs.fields: expected an object".
hal::Status validate_intent(std::string_view kind, std::string_view inputs_json);

}  // namespace agent
