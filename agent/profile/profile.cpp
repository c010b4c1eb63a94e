// SPDX-License-Identifier: Apache-2.0
// Station profile loading and validation. Every object is read through a key table
// (ProfileKey<T>: name, JSON type, required, range, how to store it, one line of docs), after
// Fluent Bit's config_map, so adding a key is one table row and unknown keys, wrong types,
// missing values and ranges are checked in one place (read_object). Cross-references (rule ->
// input, pattern -> output, template -> variable) are checked after the tables, and every
// problem is collected: an engineer fixing a profile sees all of them at once.
#include "agent/profile/profile.hpp"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/common/json.hpp"
#include "agent/profile/value_template.hpp"
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
    case Signal::out_of_limits:
      return "out_of_limits";
    case Signal::bad_reading:
      return "bad_reading";
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

// Inputs each intent kind takes. Kept in step with the outbox's intent documentation
// (agent/ion_ops): `serial` is filled from the context's unit.serial when a rule omits it, and
// step intents take `procedureId` from the context's run.procedureId.
namespace {

std::string read_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open";
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (1u << 20)) {
    error = "larger than 1 MiB";
    return {};
  }
  return text;
}

}  // namespace

hal::Result<Profile> load_profile(const std::string& path) {
  std::string error;
  std::string text = read_file(path, error);
  if (!error.empty()) {
    return hal::Error(hal::Errc::config, path + ": " + error);
  }
  return parse_profile(text, path);
}

hal::Result<Profile> parse_profile(const std::string& text, const std::string& file) {
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
