// SPDX-License-Identifier: Apache-2.0
#include "agent/intent/interlock.hpp"

namespace agent {

const char* to_string(Condition::Kind k) noexcept {
  switch (k) {
    case Condition::Kind::no_open_issues:
      return "no_open_issues";
    case Condition::Kind::run_not_held:
      return "run_not_held";
    case Condition::Kind::at_location:
      return "at_location";
  }
  return "?";
}

std::optional<Condition> parse_condition(const std::string& text) {
  Condition c;
  if (text == "no_open_issues") {
    c.kind = Condition::Kind::no_open_issues;
    return c;
  }
  if (text == "run_not_held") {
    c.kind = Condition::Kind::run_not_held;
    return c;
  }
  const std::string loc = "at_location:";
  if (text.size() > loc.size() && text.compare(0, loc.size(), loc) == 0) {
    c.kind = Condition::Kind::at_location;
    c.arg = text.substr(loc.size());
    return c;
  }
  return std::nullopt;
}

std::string to_string(const Condition& c) {
  std::string s = to_string(c.kind);
  if (c.kind == Condition::Kind::at_location) {
    s += ":" + c.arg;
  }
  return s;
}

}  // namespace agent
