// SPDX-License-Identifier: Apache-2.0
#include "lookup.hpp"

#include <strings.h>

#include <algorithm>
#include <cstdlib>

#include "agent/common/json.hpp"

namespace agent {
namespace {

constexpr int kMaxRunPages = 40;  // 2000 runs of one procedure for one unit is already absurd

bool equal_nocase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strcasecmp(a.c_str(), b.c_str()) == 0;
}

// Ids are numeric at ION; compare numerically when both are, else as text.
bool id_less(const std::string& a, const std::string& b) {
  char* ea = nullptr;
  char* eb = nullptr;
  long long na = std::strtoll(a.c_str(), &ea, 10);
  long long nb = std::strtoll(b.c_str(), &eb, 10);
  if (*ea == '\0' && *eb == '\0' && !a.empty() && !b.empty()) {
    return na < nb;
  }
  return a < b;
}

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

}  // namespace

const char* const kRunStepsSelection =
    " steps { id title position status _etag fields { id name type value _etag } }";

std::string unit_lookup_field(bool with_part) {
  std::string f = "units: partInventories(filters: {serialNumber: {eq: $serial}";
  if (with_part) {
    // ilike without wildcards = case-insensitive equality, as ION's own tooling matches parts.
    f += ", part: {partNumber: {ilike: $partNumber}}";
  }
  f += "}, first: 10) { edges { node { id _etag serialNumber locationId part { id partNumber } } } }";
  return f;
}

std::string unit_lookup_vars(bool with_part) {
  return with_part ? "$serial: String!, $partNumber: String!" : "$serial: String!";
}

hal::Result<UnitRef> pick_unit(const cJSON* data, const std::string& serial,
                               const std::optional<std::string>& part_number) {
  std::vector<UnitRef> found;
  const cJSON* edges = json::at(data, {"units", "edges"});
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, edges) {
    const cJSON* n = json::get(e, "node");
    UnitRef u;
    u.id = json::id(n);
    u.serial = json::str(n, "serialNumber").value_or("");
    u.part_number = json::str(json::get(n, "part"), "partNumber").value_or("");
    if (u.id.empty() || u.serial != serial || (part_number && !equal_nocase(u.part_number, *part_number))) {
      continue;  // a server-side filter we cannot trust blindly
    }
    u.etag = json::str(n, "_etag").value_or("");
    u.location_id = json::id(n, "locationId");
    u.part_id = json::id(json::get(n, "part"));
    found.push_back(std::move(u));
  }
  const std::string what =
      "serial " + quoted(serial) + (part_number ? " of part " + quoted(*part_number) : "");
  if (found.empty()) {
    return hal::Error(hal::Errc::not_found, "no unit with " + what + " at ION");
  }
  if (found.size() > 1) {
    return hal::Error(hal::Errc::rejected, what + " matches " + std::to_string(found.size()) +
                                               " units; add partNumber to the rule");
  }
  return found.front();
}

bool run_is_open(const std::string& status) {
  return status != "COMPLETE" && status != "CANCELED" && status != "PARTIAL_COMPLETE";
}

std::vector<StepRef> run_steps(const cJSON* run) {
  std::vector<StepRef> steps;
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, json::get(run, "steps")) {
    StepRef r;
    r.id = json::id(s);
    r.etag = json::str(s, "_etag").value_or("");
    r.title = json::str(s, "title").value_or("");
    r.status = json::str(s, "status").value_or("");
    r.position = static_cast<long>(json::num(s, "position").value_or(0));
    r.node = s;
    steps.push_back(std::move(r));
  }
  std::stable_sort(steps.begin(), steps.end(),
                   [](const StepRef& a, const StepRef& b) { return a.position < b.position; });
  return steps;
}

hal::Result<StepRef> choose_step(const cJSON* run, const cJSON* step_input) {
  auto steps = run_steps(run);
  const std::string run_name = "run " + json::id(run);
  if (step_input != nullptr && cJSON_IsString(step_input)) {
    const std::string title = step_input->valuestring;
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& s : steps) {
        if (pass == 0 ? s.title == title : equal_nocase(s.title, title)) {
          return s;
        }
      }
    }
    return hal::Error(hal::Errc::not_found, run_name + " has no step titled " + quoted(title));
  }
  if (step_input != nullptr && cJSON_IsNumber(step_input)) {
    for (const auto& s : steps) {
      if (s.position == static_cast<long>(step_input->valuedouble)) {
        return s;
      }
    }
    return hal::Error(hal::Errc::not_found, run_name + " has no step at position " +
                                                std::to_string(static_cast<long>(step_input->valuedouble)));
  }
  for (const auto& s : steps) {
    if (s.status != "COMPLETE" && s.status != "CANCELED") {
      return s;
    }
  }
  return hal::Error(hal::Errc::not_found, run_name + " has no open step (all are complete)");
}

Json UnitRunOp::unit_vars() const {
  Json v = json::object();
  json::put(v.get(), "serial", input_text("serial"));
  if (with_part()) {
    json::put(v.get(), "partNumber", input_text("partNumber"));
  }
  return v;
}

void UnitRunOp::find_unit(UnitNext next) {
  const std::string serial = input_text("serial");
  const auto part = input_opt("partNumber");
  if (LookupCache* c = cached()) {
    if (auto unit = c->unit(serial, part)) {
      used_cache();
      next(*unit);
      return;
    }
  }
  std::string doc =
      "query FindUnit(" + unit_lookup_vars(with_part()) + ") { " + unit_lookup_field(with_part()) + " }";
  send(std::move(doc), unit_vars(), [this, serial, part, next = std::move(next)](const cJSON* data) {
    auto unit = pick_unit(data, serial, part);
    if (!unit.ok()) {
      reject(unit.error().what);
      return;
    }
    if (LookupCache* c = learn()) {
      c->put_unit(part, *unit);
    }
    next(*unit);
  });
}

void UnitRunOp::find_open_run(bool with_steps, RunNext next, bool cached_run, bool with_procedure) {
  find_unit([this, with_steps, cached_run, with_procedure, next = std::move(next)](const UnitRef& unit) {
    run_from_cache_ = false;
    if (LookupCache* c = cached(); c != nullptr && cached_run && with_steps) {
      if (Json run = c->run(unit.id, input_id("procedureId"))) {
        used_cache();
        run_from_cache_ = true;
        next(unit, std::move(run));
        return;
      }
    }
    runs_page(unit, with_steps, with_procedure, {}, Json(), 0, next);
  });
}

void UnitRunOp::learn_run(const UnitRef& unit, const cJSON* run) {
  if (LookupCache* c = learn()) {
    c->put_run(unit.serial, unit.id, input_id("procedureId"), run);
  }
}

void UnitRunOp::runs_page(const UnitRef& unit, bool with_steps, bool with_procedure, std::string after,
                          Json best, int pages, RunNext next) {
  // The procedure does not depend on the runs: asked in the same document (one round trip).
  with_procedure = with_procedure && pages == 0;
  std::string doc =
      "query OpenRuns($procedureId: ID!, $unitId: ID!, $after: String) {"
      " runs(filters: {procedureId: {eq: $procedureId}, partInventoryId: {eq: $unitId}},"
      " first: 50, after: $after) { edges { node { id title status partInventoryId";
  doc += with_steps ? kRunStepsSelection : "";
  doc += " } } pageInfo { hasNextPage endCursor } }";
  doc += with_procedure ? " procedure(id: $procedureId) { id title } }" : " }";
  Json vars = json::object();
  json::put_id(vars.get(), "procedureId", input_id("procedureId"));
  json::put_id(vars.get(), "unitId", unit.id);
  if (!after.empty()) {
    json::put(vars.get(), "after", after);
  }
  auto best_holder = std::make_shared<Json>(std::move(best));
  send(std::move(doc), std::move(vars),
       [this, unit, with_steps, with_procedure, pages, next, best_holder](const cJSON* data) {
         if (const cJSON* proc = json::get(data, "procedure"); with_procedure && proc != nullptr) {
           procedure_ = cJSON_IsObject(proc) ? Json(cJSON_Duplicate(proc, 1)) : Json();  // null: none
         }
         const cJSON* e = nullptr;
         cJSON_ArrayForEach(e, json::at(data, {"runs", "edges"})) {
           const cJSON* n = json::get(e, "node");
           std::string owner = json::id(n, "partInventoryId");
           if ((!owner.empty() && owner != unit.id) || !run_is_open(json::str(n, "status").value_or(""))) {
             continue;
           }
           if (!*best_holder || id_less(json::id(best_holder->get()), json::id(n))) {
             *best_holder = Json(cJSON_Duplicate(n, 1));  // newest open run wins
           }
         }
         const cJSON* info = json::at(data, {"runs", "pageInfo"});
         const bool more = cJSON_IsTrue(json::get(info, "hasNextPage"));
         auto cursor = json::str(info, "endCursor");
         if (more && cursor && pages + 1 < kMaxRunPages) {
           runs_page(unit, with_steps, false, *cursor, std::move(*best_holder), pages + 1, next);
           return;
         }
         if (with_steps && *best_holder) {
           learn_run(unit, best_holder->get());
         }
         next(unit, std::move(*best_holder));
       });
}

void UnitRunOp::read_run(const std::string& run_id, std::function<void(Json run)> next) {
  std::string doc = "query ReadRun($id: ID!) { run(id: $id) { id title status partInventoryId";
  doc += kRunStepsSelection;
  doc += " } }";
  Json vars = json::object();
  json::put_id(vars.get(), "id", run_id);
  send(std::move(doc), std::move(vars), [next = std::move(next)](const cJSON* data) {
    const cJSON* run = json::get(data, "run");
    next(run != nullptr && cJSON_IsObject(run) ? Json(cJSON_Duplicate(run, 1)) : Json());
  });
}

}  // namespace agent
