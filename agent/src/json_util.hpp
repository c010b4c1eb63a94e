// SPDX-License-Identifier: Apache-2.0
// Small cJSON helpers for the ION operations (private to agent/src). Lookups never throw and
// return null/empty for absent or mistyped members; builders abort nothing (cJSON allocation
// failure leaves the member out, which ION then reports as a missing variable).
#pragma once

#include <optional>
#include <string>

#include "agent/c_handles.hpp"

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
