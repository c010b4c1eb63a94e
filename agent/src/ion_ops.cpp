// SPDX-License-Identifier: Apache-2.0
// Intent validation (at append time, so a bad rule gets a red light instead of a dead letter
// hours later) and the kind -> operation factory.
#include "agent/ion_ops.hpp"

#include <cmath>

#include "ion_op_base.hpp"
#include "json_util.hpp"

namespace agent {
namespace {

enum class Type { text, id, step, object, any };
struct Key {
  const char* name;
  Type type;
  bool required;
};
struct Kind {
  std::string_view name;
  std::vector<Key> keys;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"unit.ensure",
       {{"serial", Type::text, true},
        {"partNumber", Type::text, true},
        {"revision", Type::text, false},
        {"location", Type::text, false}}},
      {"unit.move",
       {{"serial", Type::text, true}, {"location", Type::text, true}, {"partNumber", Type::text, false}}},
      {"run.ensure",
       {{"serial", Type::text, true},
        {"procedureId", Type::id, true},
        {"partNumber", Type::text, false},
        {"title", Type::text, false}}},
      {"step.status",
       {{"serial", Type::text, true},
        {"procedureId", Type::id, true},
        {"status", Type::text, true},
        {"partNumber", Type::text, false},
        {"step", Type::step, false}}},
      {"step.fields",
       {{"serial", Type::text, true},
        {"procedureId", Type::id, true},
        {"fields", Type::object, true},
        {"partNumber", Type::text, false},
        {"step", Type::step, false}}},
      {"issue.create",
       {{"serial", Type::text, true},
        {"text", Type::text, true},
        {"partNumber", Type::text, false},
        {"title", Type::text, false}}},
      {"graphql.raw", {{"document", Type::text, true}, {"variables", Type::object, false}}},
  };
  return k;
}

bool is_integer(const cJSON* v) {
  return cJSON_IsNumber(v) && std::isfinite(v->valuedouble) && v->valuedouble == std::floor(v->valuedouble);
}

const char* type_problem(const cJSON* v, Type t) {
  const bool text = cJSON_IsString(v) && v->valuestring != nullptr && v->valuestring[0] != '\0';
  switch (t) {
    case Type::text:
      return text ? nullptr : "expected a non-empty string";
    case Type::id:
      return text || is_integer(v) ? nullptr : "expected an id (string or integer)";
    case Type::step:
      return text || is_integer(v) ? nullptr : "expected a step title (string) or position (integer)";
    case Type::object:
      return cJSON_IsObject(v) ? nullptr : "expected an object";
    case Type::any:
      return nullptr;
  }
  return nullptr;
}

hal::Status check_fields(std::string_view kind, const cJSON* fields) {
  if (fields->child == nullptr) {
    return hal::Error(hal::Errc::parse, std::string(kind) + ": inputs.fields: is empty");
  }
  for (const cJSON* f = fields->child; f != nullptr; f = f->next) {
    if (!cJSON_IsString(f) && !cJSON_IsNumber(f) && !cJSON_IsBool(f)) {
      return hal::Error(hal::Errc::parse, std::string(kind) + ": inputs.fields." + f->string +
                                              ": expected a string, number or boolean");
    }
  }
  return {};
}

}  // namespace

const std::vector<std::string_view>& intent_kinds() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const auto& k : kinds()) {
      v.push_back(k.name);
    }
    return v;
  }();
  return names;
}

hal::Status validate_intent(std::string_view kind, std::string_view inputs_json) {
  const Kind* spec = nullptr;
  for (const auto& k : kinds()) {
    if (k.name == kind) {
      spec = &k;
    }
  }
  if (spec == nullptr) {
    return hal::Error(hal::Errc::parse, "unknown intent kind '" + std::string(kind) + "'");
  }
  const std::string prefix = std::string(kind) + ": ";
  const char* end = nullptr;
  Json in(cJSON_ParseWithLengthOpts(inputs_json.data(), inputs_json.size(), &end, 0));
  if (!in || !cJSON_IsObject(in.get())) {
    std::size_t offset = end != nullptr ? static_cast<std::size_t>(end - inputs_json.data()) : 0;
    return hal::Error(hal::Errc::parse,
                      prefix + "inputs: not a JSON object (byte offset " + std::to_string(offset) + ")");
  }
  for (const cJSON* m = in->child; m != nullptr; m = m->next) {
    bool known = false;
    for (const auto& key : spec->keys) {
      known = known || std::string_view(key.name) == m->string;
    }
    if (!known) {
      return hal::Error(hal::Errc::parse, prefix + "inputs." + m->string + ": not an input of this kind");
    }
  }
  for (const auto& key : spec->keys) {
    const cJSON* v = json::get(in.get(), key.name);
    if (v == nullptr) {
      if (key.required) {
        return hal::Error(hal::Errc::parse, prefix + "inputs." + key.name + ": missing");
      }
      continue;
    }
    if (const char* p = type_problem(v, key.type)) {
      return hal::Error(hal::Errc::parse, prefix + "inputs." + key.name + ": " + p);
    }
  }
  if (kind == "step.fields") {
    return check_fields(kind, json::get(in.get(), "fields"));
  }
  return {};
}

std::shared_ptr<IonOp> make_ion_op(const IntentRecord& intent, OpHost& host, IonOp::Done done,
                                   OpOptions options) {
  OpArgs a{intent, host, std::move(done), options};
  const std::string& k = intent.kind;
  if (k == "unit.ensure") {
    return make_unit_ensure(std::move(a));
  }
  if (k == "unit.move") {
    return make_unit_move(std::move(a));
  }
  if (k == "run.ensure") {
    return make_run_ensure(std::move(a));
  }
  if (k == "step.status") {
    return make_step_status(std::move(a));
  }
  if (k == "step.fields") {
    return make_step_fields(std::move(a));
  }
  if (k == "issue.create") {
    return make_issue_create(std::move(a));
  }
  if (k == "graphql.raw") {
    return make_graphql_raw(std::move(a));
  }
  return make_unknown(std::move(a));
}

}  // namespace agent
