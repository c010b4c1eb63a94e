// SPDX-License-Identifier: Apache-2.0
// Reading the ION simulator's state dump (IonSim::state(), GET /_sim/state) in tests: its
// tables by name, a record's fields, units by serial number, a unit's runs of a procedure and
// a run's step statuses by position. Missing tables, records or fields read as empty, -1 or
// null, so a failed lookup shows in the test's comparison rather than crashing it.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "agent/common/json.hpp"

namespace ion_test {

inline const cJSON* table(const agent::Json& state, const char* name) {
  return cJSON_GetObjectItemCaseSensitive(state.get(), name);
}

inline double num(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

inline std::string str(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

inline const cJSON* unit_by_serial(const agent::Json& state, const std::string& serial) {
  const cJSON* u = nullptr;
  cJSON_ArrayForEach(u, table(state, "part_inventories")) {
    if (str(u, "serialNumber") == serial) {
      return u;
    }
  }
  return nullptr;
}

inline std::vector<const cJSON*> runs_of(const agent::Json& state, double unit_id, double procedure) {
  std::vector<const cJSON*> out;
  const cJSON* r = nullptr;
  cJSON_ArrayForEach(r, table(state, "runs")) {
    if (num(r, "partInventoryId") == unit_id && num(r, "procedureId") == procedure) {
      out.push_back(r);
    }
  }
  return out;
}

// Step statuses of a run by position: "COMPLETE,TODO".
inline std::string step_statuses(const agent::Json& state, const cJSON* run) {
  std::vector<std::pair<double, std::string>> steps;
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, table(state, "run_steps")) {
    if (num(s, "runId") == num(run, "id")) {
      steps.emplace_back(num(s, "position"), str(s, "status"));
    }
  }
  std::sort(steps.begin(), steps.end());
  std::string out;
  for (const auto& p : steps) {
    out += (out.empty() ? "" : ",") + p.second;
  }
  return out;
}

// Step statuses of every run of `procedure` for the unit with this serial: "IN_PROGRESS,TODO",
// runs separated by ';' ("" if the unit has no run).
inline std::string run_statuses(const agent::Json& state, const std::string& serial, double procedure) {
  const cJSON* unit = unit_by_serial(state, serial);
  std::string out;
  for (const cJSON* run : runs_of(state, unit != nullptr ? num(unit, "id") : -2, procedure)) {
    out += (out.empty() ? "" : ";") + step_statuses(state, run);
  }
  return out;
}

}  // namespace ion_test
