// SPDX-License-Identifier: Apache-2.0
// The intent kind table and the validation every intent passes before the outbox accepts it
// (so a bad rule gets a red light instead of a dead letter hours later).
#include "agent/intent/kinds.hpp"

#include <cmath>
#include <string>

#include "agent/common/json.hpp"
#include "agent/intent/intent.hpp"
#include "hal/text.hpp"

namespace agent {
namespace {

bool is_integer(const cJSON* v) {
  return cJSON_IsNumber(v) && std::isfinite(v->valuedouble) && v->valuedouble == std::floor(v->valuedouble);
}

const char* type_problem(const cJSON* v, InputType t) {
  const bool text = cJSON_IsString(v) && v->valuestring != nullptr && v->valuestring[0] != '\0';
  switch (t) {
    case InputType::text:
      return text ? nullptr : "expected a non-empty string";
    case InputType::id:
      return text || is_integer(v) ? nullptr : "expected an id (string or integer)";
    case InputType::step:
      return text || is_integer(v) ? nullptr : "expected a step title (string) or position (integer)";
    case InputType::object:
      return cJSON_IsObject(v) ? nullptr : "expected an object";
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

const std::vector<IntentKind>& intent_kinds() {
  using T = InputType;
  static const std::vector<IntentKind> k = {
      {"unit.ensure",
       {{"serial", T::text, true},
        {"partNumber", T::text, true},
        {"revision", T::text, false},
        {"location", T::text, false},
        {"interlock", T::text, false}},
       true,
       false},
      {"unit.move",
       {{"serial", T::text, true},
        {"location", T::text, true},
        {"partNumber", T::text, false},
        {"interlock", T::text, false}},
       true,
       false},
      {"run.ensure",
       {{"serial", T::text, true},
        {"procedureId", T::id, true},
        {"partNumber", T::text, false},
        {"title", T::text, false},
        {"interlock", T::text, false}},
       true,
       false},
      {"step.status",
       {{"serial", T::text, true},
        {"procedureId", T::id, true},
        {"status", T::text, true},
        {"partNumber", T::text, false},
        {"step", T::step, false},
        {"interlock", T::text, false}},
       true,
       true},
      {"step.fields",
       {{"serial", T::text, true},
        {"procedureId", T::id, true},
        {"fields", T::object, true},
        {"partNumber", T::text, false},
        {"step", T::step, false},
        {"interlock", T::text, false}},
       true,
       true},
      {"issue.create",
       {{"serial", T::text, true},
        {"text", T::text, true},
        {"partNumber", T::text, false},
        {"title", T::text, false},
        {"procedureId", T::id, false},  // from the context's run: the issue goes on its step
        {"step", T::step, false},
        {"interlock", T::text, false}},
       true,
       false},
      // source: where the file was found; copy, sha256, size: written by the outbox when it
      // copied the file at accept time (agent/outbox/outbox.hpp), read by the ION operation.
      {"file.attach",
       {{"serial", T::text, true},
        {"procedureId", T::id, true},
        {"source", T::text, true},
        {"filename", T::text, false},
        {"partNumber", T::text, false},
        {"step", T::step, false},
        {"copy", T::text, false},
        {"sha256", T::text, false},
        {"size", T::id, false},
        {"interlock", T::text, false}},
       true,
       true,
       true},
      {"graphql.raw", {{"document", T::text, true}, {"variables", T::object, false}}, false, false},
  };
  return k;
}

const IntentKind* find_intent_kind(std::string_view name) {
  for (const auto& k : intent_kinds()) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

std::string intent_kind_names() {
  std::string names;
  for (const auto& k : intent_kinds()) {
    names += names.empty() ? "" : ", ";
    names += k.name;
  }
  return names;
}

const char* to_string(IntentState s) noexcept {
  switch (s) {
    case IntentState::pending:
      return "pending";
    case IntentState::in_flight:
      return "in_flight";
    case IntentState::done:
      return "done";
    case IntentState::dead:
      return "dead";
  }
  return "unknown";
}

hal::Status validate_intent(std::string_view kind, std::string_view inputs_json) {
  const IntentKind* spec = find_intent_kind(kind);
  if (spec == nullptr) {
    return hal::Error(hal::Errc::parse, "unknown intent kind '" + std::string(kind) + "'");
  }
  const std::string prefix = std::string(kind) + ": ";
  if (inputs_json.size() > kMaxIntentInputsBytes) {
    return hal::Error(hal::Errc::parse, prefix + "inputs: " + std::to_string(inputs_json.size()) +
                                            " bytes, more than ION takes (" +
                                            std::to_string(kMaxIntentInputsBytes) + ")");
  }
  // cJSON parses (and prints) bytes that are not UTF-8 as they are; ION refuses the request
  // body ("not valid JSON"), so such an intent could never be delivered.
  if (std::size_t valid = hal::utf8_valid_prefix(inputs_json); valid != inputs_json.size()) {
    return hal::Error(hal::Errc::parse,
                      prefix + "inputs: not valid UTF-8 (byte " + std::to_string(valid) + ")");
  }
  const char* end = nullptr;
  Json in(cJSON_ParseWithLengthOpts(inputs_json.data(), inputs_json.size(), &end, 0));
  if (!in || !cJSON_IsObject(in.get())) {
    std::size_t offset = end != nullptr ? static_cast<std::size_t>(end - inputs_json.data()) : 0;
    return hal::Error(hal::Errc::parse,
                      prefix + "inputs: not a JSON object (byte offset " + std::to_string(offset) + ")");
  }
  for (const cJSON* m = in->child; m != nullptr; m = m->next) {
    bool known = false;
    for (const auto& key : spec->inputs) {
      known = known || std::string_view(key.name) == m->string;
    }
    if (!known) {
      return hal::Error(hal::Errc::parse, prefix + "inputs." + m->string + ": not an input of this kind");
    }
  }
  for (const auto& key : spec->inputs) {
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

}  // namespace agent
