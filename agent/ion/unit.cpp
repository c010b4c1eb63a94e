// SPDX-License-Identifier: Apache-2.0
// unit.ensure and unit.move: the part inventory of a serialized unit (agent/ion/README.md §5.2, §5.3).
#include <strings.h>

#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

const char* const kLocationsField =
    " locs: locations(filters: {name: {eq: $location}}, first: 5) { edges { node { id name } } }";

// The location whose name is exactly `name`, or "" if none.
std::string pick_location(const cJSON* data, const std::string& name) {
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, json::at(data, {"locs", "edges"})) {
    const cJSON* n = json::get(e, "node");
    if (json::str(n, "name").value_or("") == name) {
      return json::id(n);
    }
  }
  return {};
}

// The revision asked for, else the latest revision, else the only/newest one.
std::string pick_part(const cJSON* data, const std::string& number,
                      const std::optional<std::string>& revision) {
  std::string latest;
  std::string any;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, json::at(data, {"parts", "edges"})) {
    const cJSON* n = json::get(e, "node");
    std::string pn = json::str(n, "partNumber").value_or("");
    if (pn.size() != number.size() || strcasecmp(pn.c_str(), number.c_str()) != 0) {
      continue;
    }
    if (revision) {
      if (json::str(n, "revision").value_or("") == *revision) {
        return json::id(n);
      }
      continue;
    }
    if (cJSON_IsTrue(json::get(n, "isLatestRevision"))) {
      latest = json::id(n);
    }
    any = json::id(n);
  }
  return revision ? std::string() : (latest.empty() ? any : latest);
}

class UnitEnsure final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    const bool with_loc = input_opt("location").has_value();
    std::string doc = "query EnsureUnit(" + unit_lookup_vars(true) +
                      (with_loc ? ", $location: String!" : "") + ") { " + unit_lookup_field(true) +
                      " parts: parts(filters: {partNumber: {ilike: $partNumber}}, first: 20)"
                      " { edges { node { id partNumber revision isLatestRevision } } }" +
                      (with_loc ? kLocationsField : "") + " }";
    Json vars = unit_vars();
    if (with_loc) {
      json::put(vars.get(), "location", input_text("location"));
    }
    send(std::move(doc), std::move(vars), [this](const cJSON* data) { decide(data); });
  }

  void decide(const cJSON* data) {
    auto unit = pick_unit(data, input_text("serial"), input_text("partNumber"));
    if (unit.ok()) {
      deliver();  // already there: nothing to do
      return;
    }
    if (unit.error().code != hal::Errc::not_found) {
      reject(unit.error().what);
      return;
    }
    const std::string part = pick_part(data, input_text("partNumber"), input_opt("revision"));
    if (part.empty()) {
      reject("no part '" + input_text("partNumber") +
             (input_opt("revision") ? "' revision '" + input_text("revision") : "") + "' at ION");
      return;
    }
    Json in = json::object();
    json::put_id(in.get(), "partId", part);
    json::put(in.get(), "serialNumber", input_text("serial"));
    cJSON_AddNumberToObject(in.get(), "quantity", 1);  // serial-tracked inventory has qty 1
    if (input_opt("location")) {
      const std::string loc = pick_location(data, input_text("location"));
      if (loc.empty()) {
        reject("no location named '" + input_text("location") + "' at ION");
        return;
      }
      json::put_id(in.get(), "locationId", loc);
    }
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation CreateUnit($input: CreatePartInventoryInput!) {"
        " createPartInventory(input: $input) { partInventory { id _etag serialNumber } } }",
        std::move(vars), [this](const cJSON*) { deliver(); });
  }
};

class UnitMove final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    std::string doc = "query MoveUnit(" + unit_lookup_vars(with_part()) + ", $location: String!) { " +
                      unit_lookup_field(with_part()) + kLocationsField + " }";
    Json vars = unit_vars();
    json::put(vars.get(), "location", input_text("location"));
    send(std::move(doc), std::move(vars), [this](const cJSON* data) { decide(data); });
  }

  void decide(const cJSON* data) {
    auto unit = pick_unit(data, input_text("serial"), input_opt("partNumber"));
    if (!unit.ok()) {
      reject(unit.error().what);
      return;
    }
    const std::string loc = pick_location(data, input_text("location"));
    if (loc.empty()) {
      reject("no location named '" + input_text("location") + "' at ION");
      return;
    }
    if (unit->location_id == loc) {
      deliver();  // already there (maybe our own earlier attempt)
      return;
    }
    Json in = json::object();
    json::put_id(in.get(), "id", unit->id);
    json::put(in.get(), "etag", unit->etag);
    json::put_id(in.get(), "locationId", loc);
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation MoveUnit($input: UpdatePartInventoryInput!) {"
        " updatePartInventory(input: $input) { partInventory { id _etag locationId } } }",
        std::move(vars), [this](const cJSON*) { deliver(); });
  }
};

}  // namespace

std::shared_ptr<IonOp> make_unit_ensure(OpArgs a) {
  return std::make_shared<UnitEnsure>(std::move(a));
}

std::shared_ptr<IonOp> make_unit_move(OpArgs a) {
  return std::make_shared<UnitMove>(std::move(a));
}

}  // namespace agent
