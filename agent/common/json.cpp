// SPDX-License-Identifier: Apache-2.0
#include "agent/common/json.hpp"

#include <cmath>
#include <cstdio>

namespace agent::json {

const cJSON* get(const cJSON* obj, const char* key) {
  if (obj == nullptr || !cJSON_IsObject(obj)) {
    return nullptr;
  }
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const cJSON* at(const cJSON* root, std::initializer_list<const char*> path) {
  const cJSON* cur = root;
  for (const char* k : path) {
    cur = get(cur, k);
    if (cur == nullptr) {
      return nullptr;
    }
  }
  return cur;
}

std::optional<std::string> str(const cJSON* obj, const char* key) {
  const cJSON* v = get(obj, key);
  if (v == nullptr || !cJSON_IsString(v) || v->valuestring == nullptr) {
    return std::nullopt;
  }
  return std::string(v->valuestring);
}

std::string id(const cJSON* obj, const char* key) {
  const cJSON* v = obj != nullptr && key == nullptr ? obj : get(obj, key);
  if (v == nullptr) {
    return {};
  }
  if (cJSON_IsString(v) && v->valuestring != nullptr) {
    return v->valuestring;
  }
  if (cJSON_IsNumber(v) && std::isfinite(v->valuedouble)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
    return buf;
  }
  return {};
}

std::optional<double> num(const cJSON* obj, const char* key) {
  const cJSON* v = get(obj, key);
  if (v == nullptr || !cJSON_IsNumber(v)) {
    return std::nullopt;
  }
  return v->valuedouble;
}

std::string print(const cJSON* node) {
  if (node == nullptr) {
    return "null";
  }
  JsonText t(cJSON_PrintUnformatted(node));
  return t ? std::string(t.get()) : std::string("null");
}

Json parse(const std::string& text) {
  return Json(cJSON_ParseWithLength(text.data(), text.size()));
}

Json object() {
  return Json(cJSON_CreateObject());
}

void put(cJSON* obj, const char* key, const std::string& value) {
  cJSON_AddItemToObject(obj, key, cJSON_CreateString(value.c_str()));
}

void put_id(cJSON* obj, const char* key, const std::string& id_text) {
  put(obj, key, id_text);
}

void put_copy(cJSON* obj, const char* key, const cJSON* value) {
  cJSON* copy = value != nullptr ? cJSON_Duplicate(value, 1) : cJSON_CreateNull();
  cJSON_AddItemToObject(obj, key, copy);
}

}  // namespace agent::json
