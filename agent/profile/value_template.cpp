// SPDX-License-Identifier: Apache-2.0
#include "agent/profile/value_template.hpp"

#include <cctype>

namespace agent {
namespace {

bool valid_name(const std::string& name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::islower(u) || std::isdigit(u) || c == '_' || c == '.' || std::isupper(u))) {
      return false;
    }
  }
  return name.front() != '.' && name.back() != '.';
}

std::string strip_context(std::string name) {
  constexpr const char* kPrefix = "context.";
  if (name.rfind(kPrefix, 0) == 0) {
    name.erase(0, 8);
  }
  return name;
}

// Walks the template once; calls on_text for literal runs and on_var for variables.
template <class Text, class Var>
hal::Status walk(const std::string& tpl, Text on_text, Var on_var) {
  std::size_t i = 0;
  while (i < tpl.size()) {
    char c = tpl[i];
    if ((c == '{' || c == '}') && i + 1 < tpl.size() && tpl[i + 1] == c) {
      on_text(std::string(1, c));
      i += 2;
      continue;
    }
    if (c == '}') {
      return hal::Error(hal::Errc::parse, "unmatched '}' at offset " + std::to_string(i));
    }
    if (c != '{') {
      std::size_t next = tpl.find_first_of("{}", i);
      if (next == std::string::npos) {
        next = tpl.size();
      }
      on_text(tpl.substr(i, next - i));
      i = next;
      continue;
    }
    std::size_t close = tpl.find('}', i + 1);
    if (close == std::string::npos) {
      return hal::Error(hal::Errc::parse, "unterminated '{' at offset " + std::to_string(i));
    }
    std::string name = tpl.substr(i + 1, close - i - 1);
    if (name.empty()) {
      return hal::Error(hal::Errc::parse, "empty variable name at offset " + std::to_string(i));
    }
    if (!valid_name(name)) {
      return hal::Error(hal::Errc::parse, "bad variable name '" + name + "'");
    }
    ION_TRY(on_var(strip_context(name)), "template");
    i = close + 1;
  }
  return hal::ok();
}

}  // namespace

hal::Result<std::vector<std::string>> template_variables(const std::string& tpl) {
  std::vector<std::string> names;
  auto st = walk(
      tpl, [](const std::string&) {},
      [&](const std::string& name) {
        names.push_back(name);
        return hal::ok();
      });
  if (!st.ok()) {
    return st.error();
  }
  return names;
}

hal::Result<std::string> render_template(const std::string& tpl, const TemplateLookup& lookup) {
  std::string out;
  auto st = walk(
      tpl, [&](const std::string& text) { out += text; },
      [&](const std::string& name) -> hal::Status {
        auto v = lookup(name);
        if (!v) {
          return hal::Error(hal::Errc::not_found, "no value for {" + name + "}");
        }
        out += *v;
        return hal::ok();
      });
  if (!st.ok()) {
    return st.error();
  }
  return out;
}

}  // namespace agent
