// SPDX-License-Identifier: Apache-2.0
// The generic key engine of the profile reader (after Fluent Bit's flb_config_map): a table of
// keys per JSON object, each with its type, whether it is required, its integer range, where
// it is stored and what it means; read_object() checks an object against its table and
// reports every problem with its JSON path. Private to agent/profile. The tables themselves
// are in schema.cpp; the checks that span sections in reader.cpp.
#pragma once

#include <cjson/cJSON.h>

#include <cmath>
#include <set>
#include <string>

#include "reader.hpp"

namespace agent::keys {

enum class JType { string, integer, boolean, object, array, any };

inline const char* type_name(JType t) {
  switch (t) {
    case JType::string:
      return "a string";
    case JType::integer:
      return "an integer";
    case JType::boolean:
      return "true or false";
    case JType::object:
      return "an object";
    case JType::array:
      return "an array";
    case JType::any:
      return "a value";
  }
  return "?";
}

inline const char* json_kind(const cJSON* v) {
  if (cJSON_IsString(v))
    return "a string";
  if (cJSON_IsNumber(v))
    return "a number";
  if (cJSON_IsBool(v))
    return "a boolean";
  if (cJSON_IsObject(v))
    return "an object";
  if (cJSON_IsArray(v))
    return "an array";
  if (cJSON_IsNull(v))
    return "null";
  return "something else";
}

inline bool has_type(const cJSON* v, JType t) {
  switch (t) {
    case JType::string:
      return cJSON_IsString(v) != 0;
    case JType::integer:
      return cJSON_IsNumber(v) != 0 && std::floor(v->valuedouble) == v->valuedouble &&
             std::fabs(v->valuedouble) < 2147483648.0;
    case JType::boolean:
      return cJSON_IsBool(v) != 0;
    case JType::object:
      return cJSON_IsObject(v) != 0;
    case JType::array:
      return cJSON_IsArray(v) != 0;
    case JType::any:
      return true;
  }
  return false;
}

// One row of a key table (Fluent Bit's flb_config_map): the key, its JSON type, whether it
// must be present, the accepted integer range, where it goes, and what it means.
template <class T>
struct Key {
  const char* name;
  JType type;
  bool required;
  int min;
  int max;
  void (*store)(ProfileReader& r, const cJSON* v, T& out, const std::string& path);
  const char* doc;
};

inline std::string child(const std::string& path, const std::string& key) {
  return path + "." + key;
}
inline std::string index(const std::string& path, int i) {
  return path + "[" + std::to_string(i) + "]";
}

// Fixed-shape checks are plain character tests (no regex engine for them).
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
inline bool is_alpha(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z');
}
inline bool all_of(const std::string& s, std::size_t from, bool (*ok)(char)) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (!ok(s[i])) {
      return false;
    }
  }
  return true;
}
// A GS1 application identifier: 2 to 4 digits.
inline bool is_ai(const std::string& s) {
  return s.size() >= 2 && s.size() <= 4 && all_of(s, 0, is_digit);
}

// Input and output names: a letter, then up to 31 letters, digits, '_' or '-'.
inline bool valid_name(const std::string& s) {
  return !s.empty() && s.size() <= 32 && is_alpha(s[0]) &&
         all_of(s, 1, [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; });
}

// The longest time any *_ms key accepts: one hour.
inline constexpr int kMaxMs = 3600 * 1000;

// Checks `obj` against a key table and stores every key that has the right type.
template <class T, std::size_t N>
void read_object(ProfileReader& r, const cJSON* obj, const std::string& path, const Key<T> (&keys)[N],
                 T& out) {
  if (!cJSON_IsObject(obj)) {
    r.error(path, std::string("expected an object, got ") + json_kind(obj));
    return;
  }
  std::set<std::string> seen;
  for (const cJSON* m = obj->child; m != nullptr; m = m->next) {
    std::string name = m->string != nullptr ? m->string : "";
    std::string at = child(path, name);
    const Key<T>* key = nullptr;
    for (const auto& k : keys) {
      if (name == k.name) {
        key = &k;
      }
    }
    if (key == nullptr) {
      std::string expected;
      for (const auto& k : keys) {
        expected += expected.empty() ? "" : ", ";
        expected += k.name;
      }
      r.error(at, "unknown key (expected one of: " + expected + ")");
      continue;
    }
    if (!seen.insert(name).second) {
      r.error(at, "duplicate key");
      continue;
    }
    if (!has_type(m, key->type)) {
      r.error(at, std::string("expected ") + type_name(key->type) + ", got " + json_kind(m));
      continue;
    }
    if (key->type == JType::integer) {
      int v = m->valueint;
      if (v < key->min || v > key->max) {
        r.error(at, "out of range (" + std::to_string(key->min) + " to " + std::to_string(key->max) +
                        "): " + std::to_string(v));
        continue;
      }
    }
    if (key->store != nullptr) {
      key->store(r, m, out, at);
    }
  }
  for (const auto& k : keys) {
    if (k.required && seen.count(k.name) == 0 && cJSON_GetObjectItemCaseSensitive(obj, k.name) == nullptr) {
      r.error(path, std::string("missing required key '") + k.name + "'");
    }
  }
}

#define ION_STR(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = jv->valuestring; }
#define ION_INT(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = jv->valueint; }
#define ION_BOOL(T, field) \
  [](ProfileReader&, const cJSON* jv, T& o, const std::string&) { o.field = cJSON_IsTrue(jv) != 0; }

template <class T>
void store_line(ProfileReader& r, const cJSON* v, T& o, const std::string& path) {
  if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
    o.line_name = v->valuestring;
  } else if (has_type(v, JType::integer) && v->valueint >= 0 && v->valueint <= 1023) {
    o.line = v->valueint;
  } else {
    r.error(path, std::string("expected a line offset (0 to 1023) or a line name, got ") + json_kind(v));
  }
}

// Checks a word against the words a HAL option accepts.
template <class T, std::string T::*Field>
void store_word(ProfileReader& r, const cJSON* v, T& o, const std::string& path,
                std::initializer_list<const char*> words) {
  std::string got = v->valuestring;
  std::string list;
  for (const char* w : words) {
    if (got == w) {
      o.*Field = got;
      return;
    }
    list += list.empty() ? "" : ", ";
    list += w;
  }
  r.error(path, "unknown value '" + got + "' (expected " + list + ")");
}

}  // namespace agent::keys
