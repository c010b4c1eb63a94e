// SPDX-License-Identifier: Apache-2.0
// step.fields: data-collection values on a run step, typed as ION expects (agent/ion/README.md §5.7).
#include <strings.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "agent/common/json.hpp"
#include "lookup.hpp"

namespace agent {
namespace {

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) {
    return false;
  }
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(out);
}

bool parse_bool(const std::string& s, bool& out) {
  static const char* const kTrue[] = {"true", "yes", "pass", "1", "on"};
  static const char* const kFalse[] = {"false", "no", "fail", "0", "off"};
  for (const char* t : kTrue) {
    if (strcasecmp(s.c_str(), t) == 0) {
      out = true;
      return true;
    }
  }
  for (const char* f : kFalse) {
    if (strcasecmp(s.c_str(), f) == 0) {
      out = false;
      return true;
    }
  }
  return false;
}

std::string as_text(const cJSON* v) {
  if (cJSON_IsString(v)) {
    return v->valuestring;
  }
  if (cJSON_IsBool(v)) {
    return cJSON_IsTrue(v) ? "true" : "false";
  }
  if (cJSON_IsNumber(v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v->valuedouble);
    return buf;
  }
  return {};
}

// The station's value typed for the field's ION type; null Json + `why` when it cannot be.
Json coerce(const cJSON* v, const std::string& type, std::string& why) {
  if (type == "NUMBER") {
    double d = 0;
    if (cJSON_IsNumber(v)) {
      return Json(cJSON_CreateNumber(v->valuedouble));
    }
    if (cJSON_IsString(v) && parse_number(v->valuestring, d)) {
      return Json(cJSON_CreateNumber(d));
    }
    why = "is a NUMBER field; " + json::print(v) + " is not a number";
    return Json();
  }
  if (type == "BOOLEAN") {
    bool b = false;
    if (cJSON_IsBool(v)) {
      return Json(cJSON_CreateBool(cJSON_IsTrue(v)));
    }
    if ((cJSON_IsString(v) && parse_bool(v->valuestring, b)) ||
        (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1) &&
         ((b = v->valuedouble == 1), true))) {
      return Json(cJSON_CreateBool(b));
    }
    why = "is a BOOLEAN field; " + json::print(v) + " is not true/false";
    return Json();
  }
  if (type == "STRING" || type == "SELECT") {
    return Json(cJSON_CreateString(as_text(v).c_str()));
  }
  why = "has type " + (type.empty() ? std::string("(none)") : type) + ", which step.fields does not write";
  return Json();
}

// Does ION's current value already equal the typed value we would write?
bool same_value(const cJSON* current, const cJSON* wanted) {
  if (current == nullptr || cJSON_IsNull(current)) {
    return false;
  }
  if (cJSON_IsNumber(wanted)) {
    double c = 0;
    if (cJSON_IsNumber(current)) {
      c = current->valuedouble;
    } else if (!cJSON_IsString(current) || !parse_number(current->valuestring, c)) {
      return false;
    }
    return std::fabs(c - wanted->valuedouble) <= 1e-9 * std::fmax(1.0, std::fabs(c));
  }
  if (cJSON_IsBool(wanted)) {
    bool c = false;
    if (cJSON_IsBool(current)) {
      c = cJSON_IsTrue(current);
    } else if (!cJSON_IsString(current) || !parse_bool(current->valuestring, c)) {
      return false;
    }
    return c == cJSON_IsTrue(wanted);
  }
  return cJSON_IsString(current) && as_text(current) == as_text(wanted);
}

const cJSON* find_field(const cJSON* step, const char* name) {
  for (int pass = 0; pass < 2; ++pass) {
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, json::get(step, "fields")) {
      std::string n = json::str(f, "name").value_or("");
      if (pass == 0 ? n == name : strcasecmp(n.c_str(), name) == 0) {
        return f;
      }
    }
  }
  return nullptr;
}

struct Write {
  std::string id;
  std::string etag;
  Json value;
};

class StepFields final : public UnitRunOp {
 public:
  using UnitRunOp::UnitRunOp;

 private:
  void run() override {
    find_open_run(true, [this](const UnitRef& unit, Json run) {
      if (!run) {
        reject("no open run of procedure " + input_id("procedureId") + " for unit '" + unit.serial + "'");
        return;
      }
      auto step = choose_step(run.get(), input("step"));
      if (!step.ok()) {
        reject(step.error().what);
        return;
      }
      plan(*step);
    });
  }

  void plan(const StepRef& step) {
    step_id_ = step.id;
    auto writes = std::make_shared<std::vector<Write>>();
    const cJSON* in = nullptr;
    cJSON_ArrayForEach(in, input("fields")) {
      const cJSON* f = find_field(step.node, in->string);
      if (f == nullptr) {
        reject("step '" + step.title + "' has no field '" + in->string + "'");
        return;
      }
      std::string why;
      Json value = coerce(in, json::str(f, "type").value_or(""), why);
      if (!value) {
        reject("field '" + std::string(in->string) + "' " + why);
        return;
      }
      if (!same_value(json::get(f, "value"), value.get())) {
        writes->push_back({json::id(f), json::str(f, "_etag").value_or(""), std::move(value)});
      }
    }
    write(writes, 0);
  }

  void write(std::shared_ptr<std::vector<Write>> writes, std::size_t i) {
    if (i == writes->size()) {
      LookupCache* c = learn();
      if (c != nullptr && i > 0) {
        c->step_changed(step_id_, "", "");  // its field etags moved: a cached copy is stale
      }
      deliver();
      return;
    }
    Write& w = (*writes)[i];
    Json in = json::object();
    json::put_id(in.get(), "id", w.id);
    json::put_copy(in.get(), "value", w.value.get());
    json::put(in.get(), "etag", w.etag);
    Json vars = json::object();
    cJSON_AddItemToObject(vars.get(), "input", in.release());
    send(
        "mutation SetField($input: UpdateRunStepFieldValueInput!) {"
        " updateRunStepFieldValue(input: $input) { runStepField { id value _etag } } }",
        std::move(vars), [this, writes, i](const cJSON* data) {
          // Field etags may be per step (agent/ion/README.md §4): fields that shared the old etag
          // share the new one.
          auto fresh = json::str(json::at(data, {"updateRunStepFieldValue", "runStepField"}), "_etag");
          const std::string old = (*writes)[i].etag;
          for (std::size_t j = i + 1; fresh && j < writes->size(); ++j) {
            if ((*writes)[j].etag == old) {
              (*writes)[j].etag = *fresh;
            }
          }
          write(writes, i + 1);
        });
  }

  std::string step_id_;
};

}  // namespace

std::shared_ptr<IonOp> make_step_fields(OpArgs a) {
  return std::make_shared<StepFields>(std::move(a));
}

}  // namespace agent
