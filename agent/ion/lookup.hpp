// SPDX-License-Identifier: Apache-2.0
// Lookups shared by the ION operations (private to agent/ion): the unit (part inventory) by
// serial, the unit's open run of a procedure, and the step a step-level intent targets.
// Documents follow what ION's own example code sends (agent/ion/README.md §3): connections with
// `first`/`after`, `filters: {field: {op: value}}`, ids as `ID`, scanned text in variables.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/ion/lookup_cache.hpp"
#include "op_base.hpp"

namespace agent {

struct StepRef {
  std::string id;
  std::string etag;
  std::string title;
  std::string status;
  long position = 0;
  const cJSON* node = nullptr;  // borrowed from the run JSON it came from
};

// The GraphQL field text of a unit lookup aliased `units`, and the variable declarations it
// needs: `$serial: String!` (+ `$partNumber: String!` when with_part).
std::string unit_lookup_field(bool with_part);
std::string unit_lookup_vars(bool with_part);
// Picks the unit from the `units` connection in `data`. not_found / rejected with a message
// fit for a dead letter.
hal::Result<UnitRef> pick_unit(const cJSON* data, const std::string& serial,
                               const std::optional<std::string>& part_number);

// Run selection with steps and fields, used by run lookups and `run(id)` reads.
extern const char* const kRunStepsSelection;
bool run_is_open(const std::string& status);
std::vector<StepRef> run_steps(const cJSON* run);  // top-level steps sorted by position
// The step an intent targets: by title (string) or position (number), else the current step
// (first not COMPLETE/CANCELED). Error text for a dead letter when there is none.
hal::Result<StepRef> choose_step(const cJSON* run, const cJSON* step_input);

// Base for operations that start from a serial: resolves the unit, then its open run. Both
// come from the lookup cache when it knows them (lookup_cache.hpp for when that is safe).
class UnitRunOp : public OpBase {
 protected:
  using OpBase::OpBase;
  using UnitNext = std::function<void(const UnitRef&)>;
  using RunNext = std::function<void(const UnitRef&, Json run /* null = none open */)>;

  bool with_part() const { return input_opt("partNumber").has_value(); }
  Json unit_vars() const;
  // Resolves the unit from the intent's serial/partNumber; rejects if there is none.
  void find_unit(UnitNext next);
  // Resolves the unit, then its newest open run of inputs.procedureId (pages through runs).
  // cached_run: a cached run (with steps) may stand in for the lookup; run_from_cache() then
  // says so, and the op must not finish without acting on it (reread_fresh() first).
  // with_procedure: the first page also reads procedure(id) (procedure() afterwards).
  void find_open_run(bool with_steps, RunNext next, bool cached_run = false, bool with_procedure = false);
  // Reads run(id) with steps (for checkpointed operations).
  void read_run(const std::string& run_id, std::function<void(Json run)> next);
  bool run_from_cache() const { return run_from_cache_; }
  // procedure(id) as the first runs page read it: null if ION has none, unset if not read.
  const std::optional<Json>& procedure() const { return procedure_; }
  // Tells the cache what ION answered about the unit's run (after a create or a mutation).
  void learn_run(const UnitRef& unit, const cJSON* run);

 private:
  void runs_page(const UnitRef& unit, bool with_steps, bool with_procedure, std::string after, Json best,
                 int pages, RunNext next);
  bool run_from_cache_ = false;
  std::optional<Json> procedure_;
};

}  // namespace agent
