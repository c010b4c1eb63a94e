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
  void run() override { lookup(false); }

  // Every unit with the serial (the part is matched here, as pick_unit does anyway), so the
  // answer also says whether the serial alone names the unit (for the lookup cache). Should
  // more than a page of units share the serial, the part goes into the filter instead.
  void lookup(bool by_part) {
    const bool with_loc = input_opt("location").has_value();
    std::string units = by_part
                            ? unit_lookup_field(true)
                            : "units: partInventories(filters: {serialNumber: {eq: $serial}}, first: 20)"
                              " { edges { node { id _etag serialNumber locationId part { id partNumber } } }"
                              " pageInfo { hasNextPage } }";
    std::string doc = "query EnsureUnit(" + unit_lookup_vars(true) +
                      (with_loc ? ", $location: String!" : "") + ") { " + units +
                      " parts: parts(filters: {partNumber: {ilike: $partNumber}}, first: 20)"
                      " { edges { node { id partNumber revision isLatestRevision } } }" +
                      (with_loc ? kLocationsField : "") + " }";
    Json vars = unit_vars();
    if (with_loc) {
      json::put(vars.get(), "location", input_text("location"));
    }
    send(std::move(doc), std::move(vars), [this, by_part](const cJSON* data) {
      if (!by_part && cJSON_IsTrue(json::at(data, {"units", "pageInfo", "hasNextPage"}))) {
        lookup(true);
        return;
      }
      decide(data, by_part);
    });
  }

  void decide(const cJSON* data, bool by_part) {
    auto unit = pick_unit(data, input_text("serial"), input_text("partNumber"));
    // Units with this serial, whatever their part: -1 if the lookup did not say.
    int same_serial = 0;
    const cJSON* e = nullptr;
    cJSON_ArrayForEach(e, json::at(data, {"units", "edges"})) {
      same_serial +=
          json::str(json::get(e, "node"), "serialNumber").value_or("") == input_text("serial") ? 1 : 0;
    }
    if (by_part) {
      same_serial = -1;
    }
    if (unit.ok()) {
      learn_unit(*unit, same_serial == 1);
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
        " createPartInventory(input: $input) {"
        " partInventory { id _etag serialNumber locationId part { id partNumber } } } }",
        std::move(vars), [this, same_serial](const cJSON* reply) {
          const cJSON* n = json::at(reply, {"createPartInventory", "partInventory"});
          UnitRef u;
          u.id = json::id(n);
          u.etag = json::str(n, "_etag").value_or("");
          u.serial = json::str(n, "serialNumber").value_or("");
          u.location_id = json::id(n, "locationId");
          u.part_id = json::id(json::get(n, "part"));
          u.part_number = json::str(json::get(n, "part"), "partNumber").value_or("");
          if (u.serial == input_text("serial") && !u.part_number.empty()) {
            learn_unit(u, same_serial == 0);  // none had the serial before: ours is the only one
          }
          deliver();
        });
  }

  // The run.ensure and step.status of the same scan need not look the unit up again.
  void learn_unit(const UnitRef& unit, bool only_one_with_serial) {
    if (LookupCache* c = learn()) {
      c->put_unit(input_text("partNumber"), unit);
      if (only_one_with_serial) {
        c->put_unit(std::nullopt, unit);
      }
    }
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
        std::move(vars), [this](const cJSON*) {
          if (LookupCache* c = learn()) {
            c->forget(input_text("serial"));  // its etag and location moved
          }
          deliver();
        });
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
