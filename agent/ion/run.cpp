// SPDX-License-Identifier: Apache-2.0
// run.ensure and step.status: runs are started and completed by driving their steps, since a
// run's status is derived from its steps (agent/ion/README.md §5.5, §5.6).
#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

class RunEnsure final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    find_open_run(
        false,
        [this](const UnitRef& unit, Json open) {
          if (open) {
            deliver();  // the unit already has an open run of this procedure
            return;
          }
          create(unit, procedure() ? procedure()->get() : nullptr);
        },
        /*cached_run=*/false, /*with_procedure=*/true);
  }

  void create(const UnitRef& unit, const cJSON* proc) {
    if (proc == nullptr || !cJSON_IsObject(proc)) {
      reject("no procedure " + input_id("procedureId") + " at ION");
      return;
    }
    std::string title = input_text("title");
    if (title.empty()) {  // the importers' convention (agent/ion/README.md §5.5)
      title = unit.part_number + " - " + unit.serial + " - " + json::str(proc, "title").value_or("run");
    }
    Json in = json::object();
    json::put_id(in.get(), "procedureId", input_id("procedureId"));
    json::put_id(in.get(), "partInventoryId", unit.id);
    json::put(in.get(), "title", title);
    Json v = json::object();
    cJSON_AddItemToObject(v.get(), "input", in.release());
    // The new run comes back with its steps: the scan's step.status needs no lookup.
    send(std::string("mutation CreateRun($input: CreateRunInput!) {"
                     " createRun(input: $input) { run { id title status partInventoryId") +
             kRunStepsSelection + " } } }",
         std::move(v), [this, unit](const cJSON* data) {
           learn_run(unit, json::at(data, {"createRun", "run"}));
           deliver();
         });
  }
};

class StepStatus final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    const std::string pinned_run = json::id(progress(), "run");
    if (!pinned_run.empty()) {
      read_run(pinned_run, [this](Json run) { resume(std::move(run)); });
      return;
    }
    // Completing "the current step" moves what "current" means: the step is pinned first, so
    // a retry after a lost answer finishes this step instead of completing the next one. The
    // pin is chosen on a fresh read, never on the cache.
    const bool pins = input_text("status") == "COMPLETE" && input("step") == nullptr;
    find_open_run(
        true,
        [this](const UnitRef& unit, Json run) {
          if (!run) {
            reject("no open run of procedure " + input_id("procedureId") + " for unit '" + unit.serial + "'");
            return;
          }
          const cJSON* step_in = input("step");
          auto step = choose_step(run.get(), step_in);
          if (!step.ok()) {
            reject(step.error().what);
            return;
          }
          const std::string target = input_text("status");
          if (step->status == target) {
            if (run_from_cache() && reread_fresh()) {
              return;  // "already done" is decided on what ION says now
            }
            deliver();
            return;
          }
          if (target == "COMPLETE" && step_in == nullptr) {
            Json pin = json::object();
            json::put_id(pin.get(), "run", json::id(run.get()));
            json::put_id(pin.get(), "step", step->id);
            if (!checkpoint(std::move(pin))) {
              return;
            }
          }
          drive(step->id, step->etag, step->status, target);
        },
        /*cached_run=*/!pins);
  }

  void resume(Json run) {
    const std::string pinned = json::id(progress(), "step");
    for (const auto& s : run_steps(run.get())) {
      if (s.id == pinned) {
        if (s.status == input_text("status")) {
          deliver();
          return;
        }
        drive(s.id, s.etag, s.status, input_text("status"));
        return;
      }
    }
    reject("checkpointed step " + pinned + " of run " + json::id(progress(), "run") +
           " no longer exists at ION");
  }

  // ION only lets a step complete from IN_PROGRESS, so a TODO step is started first (what
  // ION's own example code does).
  void drive(const std::string& id, const std::string& etag, const std::string& from, const std::string& to) {
    if (to == "COMPLETE" && from == "TODO") {
      set(id, etag, "IN_PROGRESS", [this, id, to](const std::string& new_etag) {
        set(id, new_etag, to, [this](const std::string&) { deliver(); });
      });
      return;
    }
    set(id, etag, to, [this](const std::string&) { deliver(); });
  }

  void set(const std::string& id, const std::string& etag, const std::string& status,
           std::function<void(const std::string& new_etag)> next) {
    Json in = json::object();
    json::put_id(in.get(), "id", id);
    json::put(in.get(), "etag", etag);
    json::put(in.get(), "status", status);
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation SetStepStatus($input: UpdateRunStepInput!) {"
        " updateRunStep(input: $input) { runStep { id status _etag } } }",
        std::move(vars), [this, id, next = std::move(next)](const cJSON* data) {
          const cJSON* step = json::at(data, {"updateRunStep", "runStep"});
          std::string new_etag = json::str(step, "_etag").value_or("");
          if (LookupCache* c = learn()) {
            c->step_changed(id, json::str(step, "status").value_or(""), new_etag);
          }
          next(new_etag);
        });
  }
};

}  // namespace

std::shared_ptr<IonOp> make_run_ensure(OpArgs a) {
  return std::make_shared<RunEnsure>(std::move(a));
}

std::shared_ptr<IonOp> make_step_status(OpArgs a) {
  return std::make_shared<StepStatus>(std::move(a));
}

}  // namespace agent
