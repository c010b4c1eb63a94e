// SPDX-License-Identifier: Apache-2.0
// ProfileReader: turns a parsed cJSON tree into a Profile, collecting every problem as
// "FILE: $.path: reason". Private to agent/profile: the key tables are in schema.cpp, the
// cross-section checks in reader.cpp.
#pragma once

#include <cjson/cJSON.h>

#include <set>
#include <string>
#include <vector>

#include "agent/profile/profile.hpp"

namespace agent {

class ProfileReader {
 public:
  explicit ProfileReader(std::string file) : file_(std::move(file)) {}

  Profile read(const cJSON* root);
  const std::vector<std::string>& errors() const { return errors_; }

  // Used by the key tables' store functions.
  void error(const std::string& path, const std::string& reason);
  void read_input(const cJSON* v, InputSpec& out, const std::string& path);
  void check_instrument(const cJSON* v, const InputSpec& in, const std::string& path);
  void read_output(const cJSON* v, OutputSpec& out, const std::string& path);
  void read_rule(const cJSON* v, Rule& out, const std::string& path);
  void read_action(const cJSON* v, Action& out, const std::string& path);
  void read_pattern(const cJSON* v, Pattern& out, const std::string& path);
  void check_pattern(const Pattern& p, const std::string& output_path, const std::string& pattern_path);

 private:
  // schema.cpp: the top-level table (and every section below it), and the outputs alone.
  void read_sections(const cJSON* root, Profile& p);
  void read_outputs(const cJSON* outputs, Profile& p);
  void check_rules(const Profile& p, const cJSON* rules);
  void check_templates_in(const cJSON* v, const Rule& rule, const std::string& path);
  void check_template(const std::string& tpl, const Rule& rule, const std::string& path);
  void check_intent(const Action& a, const cJSON* obj, const Rule& rule, const std::string& path);
  void collect_context_keys(const cJSON* rules, const cJSON* location);
  void check_require(const Rule& rule, const cJSON* rv, const std::string& path);
  void apply_default_feedback(Profile& p);
  void check_feedback(const Profile& p);

  std::string file_;
  std::vector<std::string> errors_;
  std::set<std::string> context_keys_;  // keys some rule sets (plus built-ins)
  const Profile* profile_ = nullptr;
};

}  // namespace agent
