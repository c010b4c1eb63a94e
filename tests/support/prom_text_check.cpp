// SPDX-License-Identifier: Apache-2.0
#include "prom_text_check.hpp"

#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace ion_test {
namespace {

const std::regex kName("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
const std::regex kLabel("^[a-zA-Z_][a-zA-Z0-9_]*$");

bool parse_value(const std::string& v) {
  if (v == "NaN" || v == "+Inf" || v == "-Inf") {
    return true;
  }
  char* end = nullptr;
  std::strtod(v.c_str(), &end);
  return !v.empty() && end != nullptr && *end == '\0';
}

// Parses `{a="x",b="y"}` starting at text[i] == '{'; returns "" or the problem.
std::string parse_labels(const std::string& text, std::size_t& i) {
  ++i;
  std::set<std::string> seen;
  while (i < text.size() && text[i] != '}') {
    std::size_t eq = text.find('=', i);
    if (eq == std::string::npos) {
      return "label without '='";
    }
    std::string name = text.substr(i, eq - i);
    if (!std::regex_match(name, kLabel) || !seen.insert(name).second) {
      return "bad or repeated label name '" + name + "'";
    }
    i = eq + 1;
    if (i >= text.size() || text[i] != '"') {
      return "label value must be quoted";
    }
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') {
        if (i + 1 >= text.size() || std::string("\\\"n").find(text[i + 1]) == std::string::npos) {
          return "bad escape in label value";
        }
        ++i;
      } else if (text[i] == '\n') {
        return "raw newline in label value";
      }
    }
    if (i >= text.size()) {
      return "unterminated label value";
    }
    ++i;
    if (i < text.size() && text[i] == ',') {
      ++i;
    }
  }
  if (i >= text.size()) {
    return "unterminated label set";
  }
  ++i;
  return "";
}

}  // namespace

std::string check_prometheus_text(const std::string& text) {
  std::map<std::string, std::string> types;
  std::set<std::string> series;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  if (!text.empty() && text.back() != '\n') {
    return "last line must end with a newline";
  }
  while (std::getline(in, line)) {
    ++n;
    std::string at = "line " + std::to_string(n) + ": ";
    if (line.empty()) {
      continue;
    }
    if (line[0] == '#') {
      std::istringstream c(line);
      std::string hash, kind, name, rest;
      c >> hash >> kind >> name;
      std::getline(c, rest);
      if (kind == "TYPE") {
        static const std::set<std::string> kTypes = {" counter", " gauge", " histogram", " summary",
                                                     " untyped"};
        if (!std::regex_match(name, kName) || kTypes.count(rest) == 0 || types.count(name) != 0) {
          return at + "bad or repeated TYPE line";
        }
        if (rest == " counter" && (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0)) {
          return at + "counter " + name + " should end in _total";
        }
        types[name] = rest.substr(1);
      } else if (kind == "HELP" && !std::regex_match(name, kName)) {
        return at + "bad HELP line";
      }
      continue;
    }
    std::size_t i = line.find_first_of("{ ");
    std::string name = line.substr(0, i);
    if (!std::regex_match(name, kName)) {
      return at + "bad metric name '" + name + "'";
    }
    if (types.count(name) == 0) {
      return at + "sample of " + name + " before its TYPE";
    }
    std::string labels;
    if (i != std::string::npos && line[i] == '{') {
      std::size_t start = i;
      std::string why = parse_labels(line, i);
      if (!why.empty()) {
        return at + why;
      }
      labels = line.substr(start, i - start);
    }
    if (i == std::string::npos || line[i] != ' ') {
      return at + "expected a space before the value";
    }
    std::istringstream v(line.substr(i + 1));
    std::string value, stamp, extra;
    v >> value >> stamp >> extra;
    if (!parse_value(value) || !extra.empty() || (!stamp.empty() && !parse_value(stamp))) {
      return at + "bad value";
    }
    if (!series.insert(name + labels).second) {
      return at + "duplicate series " + name + labels;
    }
  }
  return "";
}

}  // namespace ion_test
