// SPDX-License-Identifier: Apache-2.0
// cJSON for every stage: RAII handles for a tree and for printed text, and small helpers.
// Lookups never throw and return null/empty for absent or mistyped members; builders abort
// nothing (cJSON allocation failure leaves the member out, which ION then reports as a missing
// variable).
#pragma once

#include <cjson/cJSON.h>

#include <optional>
#include <string>

#include "hal/c_handle.hpp"

namespace agent {

namespace detail {
inline void cjson_string_free(char* s) noexcept {
  cJSON_free(s);
}
}  // namespace detail

using Json = hal::CHandle<cJSON, cJSON_Delete>;
using JsonText = hal::CHandle<char, detail::cjson_string_free>;  // from cJSON_Print*

}  // namespace agent

namespace agent::json {

const cJSON* get(const cJSON* obj, const char* key);
// Follows object members: at(root, {"runs", "edges"}).
const cJSON* at(const cJSON* root, std::initializer_list<const char*> path);
std::optional<std::string> str(const cJSON* obj, const char* key);
// An id member as text: ION returns integers, GraphQL servers may return strings.
std::string id(const cJSON* obj, const char* key = "id");
std::optional<double> num(const cJSON* obj, const char* key);
std::string print(const cJSON* node);  // compact text; "null" for nullptr
Json parse(const std::string& text);   // null on error

Json object();
void put(cJSON* obj, const char* key, const std::string& value);
void put_id(cJSON* obj, const char* key, const std::string& id);  // as a string (GraphQL ID)
void put_copy(cJSON* obj, const char* key, const cJSON* value);   // deep copy; null -> JSON null

}  // namespace agent::json
