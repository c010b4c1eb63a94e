// SPDX-License-Identifier: Apache-2.0
// Station profile loading and validation. Every object is read through a key table
// (ProfileKey<T>: name, JSON type, required, range, how to store it, one line of docs), after
// Fluent Bit's config_map, so adding a key is one table row and unknown keys, wrong types,
// missing values and ranges are checked in one place (read_object). Cross-references (rule ->
// input, pattern -> output, template -> variable) are checked after the tables, and every
// problem is collected: an engineer fixing a profile sees all of them at once.
#include "agent/profile/profile.hpp"

#include <cstdio>
#include <set>

#include "agent/common/json.hpp"
#include "agent/common/read_file.hpp"
#include "agent/profile/value_template.hpp"
#include "hal/text.hpp"
#include "reader.hpp"

namespace agent {

const char* to_string(Signal s) noexcept {
  switch (s) {
    case Signal::accepted:
      return "accepted";
    case Signal::bad_scan:
      return "bad_scan";
    case Signal::no_unit:
      return "no_unit";
    case Signal::queue_full:
      return "queue_full";
    case Signal::storage_error:
      return "storage_error";
    case Signal::not_matched:
      return "not_matched";
    case Signal::interlock:
      return "interlock";
    case Signal::out_of_limits:
      return "out_of_limits";
    case Signal::bad_reading:
      return "bad_reading";
    case Signal::bad_file:
      return "bad_file";
  }
  return "?";
}

const InputSpec* Profile::input(const std::string& name) const {
  for (const auto& i : inputs) {
    if (i.name == name) {
      return &i;
    }
  }
  return nullptr;
}

const OutputSpec* Profile::output(const std::string& name) const {
  for (const auto& o : outputs) {
    if (o.name == name) {
      return &o;
    }
  }
  return nullptr;
}

namespace {

// The profile file, or why not in the words the operator sees: "cannot open", "cannot read:
// <strerror>", "larger than 1 MiB".
std::string read_profile_file(const std::string& path, std::string& error) {
  ReadFileError why = ReadFileError::none;
  auto text = read_file(path, 1u << 20, &why);
  if (text.ok()) {
    return std::move(text).value();
  }
  switch (why) {
    case ReadFileError::open:
      error = "cannot open";
      break;
    case ReadFileError::too_large:
      error = "larger than 1 MiB";
      break;
    default:  // a read error (EISDIR for a directory, EIO): "read PATH: strerror" without the path
      error = "cannot read" + text.error().what.substr(text.error().what.rfind(':'));
      break;
  }
  return {};
}

// A NUL inside a JSON string (raw, or the escape \u0000) would silently cut the value short in
// cJSON. Before parsing, both are replaced by the overlong encoding C0 80, which is never
// valid UTF-8, so the string check below finds and names them.
constexpr const char kNulMark[] = "\xc0\x80";

std::string mark_nuls(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') {
      out += kNulMark;
      continue;
    }
    if (in_string && c == '\\' && i + 1 < text.size()) {
      if (text.compare(i + 1, 5, "u0000") == 0) {
        out += kNulMark;
        i += 5;
        continue;
      }
      out += c;
      out += text[++i];  // an escaped character, maybe a quote
      continue;
    }
    if (c == '"') {
      in_string = !in_string;
    }
    out += c;
  }
  return out;
}

std::string string_problem(const char* s) {
  std::string_view v(s);
  std::size_t valid = hal::utf8_valid_prefix(v);
  if (valid == v.size()) {
    return "";
  }
  if (v.compare(valid, 2, kNulMark) == 0) {
    return "contains a NUL character (byte " + std::to_string(valid) + ")";
  }
  return "not valid UTF-8 (byte " + std::to_string(valid) + ")";
}

// Every key and string value: ION takes UTF-8 only, and a NUL would cut a value short.
void check_strings(const cJSON* node, const std::string& path, const std::string& file,
                   std::vector<std::string>& errors) {
  std::size_t index = 0;
  for (const cJSON* m = node->child; m != nullptr; m = m->next, ++index) {
    std::string here = path + "[" + std::to_string(index) + "]";
    if (m->string != nullptr && !cJSON_IsArray(node)) {
      std::string p = string_problem(m->string);
      here = path + "." + hal::escape_control(m->string);
      if (!p.empty()) {
        errors.push_back(file + ": " + here + ": key " + p);
      }
    }
    if (cJSON_IsString(m)) {
      std::string p = string_problem(m->valuestring);
      if (!p.empty()) {
        errors.push_back(file + ": " + here + ": " + p);
      }
    } else if (cJSON_IsObject(m) || cJSON_IsArray(m)) {
      check_strings(m, here, file, errors);
    }
  }
}

}  // namespace

hal::Result<Profile> load_profile(const std::string& path) {
  std::string error;
  std::string text = read_profile_file(path, error);
  if (!error.empty()) {
    return hal::Error(hal::Errc::config, path + ": " + error);
  }
  return parse_profile(text, path);
}

hal::Result<Profile> parse_profile(const std::string& original, const std::string& file) {
  const std::string text = mark_nuls(original);
  const char* end = nullptr;
  // Length includes the terminating NUL: cJSON checks it to refuse trailing garbage.
  Json root(cJSON_ParseWithLengthOpts(text.c_str(), text.size() + 1, &end, 1));
  if (!root) {
    std::size_t offset = end != nullptr ? static_cast<std::size_t>(end - text.data()) : 0;
    if (offset > text.size()) {
      offset = text.size();
    }
    int line = 1;
    int col = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return hal::Error(hal::Errc::config, file + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                             ": JSON syntax error (byte " + std::to_string(offset) + ")");
  }
  std::vector<std::string> bad_strings;
  check_strings(root.get(), "$", file, bad_strings);
  if (!bad_strings.empty()) {
    std::string all;
    for (const auto& e : bad_strings) {
      all += (all.empty() ? "" : "\n") + e;
    }
    return hal::Error(hal::Errc::config, all);
  }
  ProfileReader reader(file);
  Profile profile = reader.read(root.get());
  if (!reader.errors().empty()) {
    std::string all;
    for (const auto& e : reader.errors()) {
      if (!all.empty()) {
        all += '\n';
      }
      all += e;
    }
    return hal::Error(hal::Errc::config, all);
  }
  profile.file = file;
  return profile;
}

}  // namespace agent
