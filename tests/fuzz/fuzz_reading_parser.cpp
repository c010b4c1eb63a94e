// SPDX-License-Identifier: Apache-2.0
// Fuzz target: instrument reply parsing (agent/reading) on any bytes, through every preset
// and a custom ERE, with and without an expected unit. parse() must return a Reading or a
// refusal, never crash or hang; a Reading always has a finite value and non-empty text.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/reading/reading.hpp"

namespace {

std::vector<agent::ReadingParser> make_parsers() {
  std::vector<agent::ReadingParser> v;
  for (const char* d : {"mt-sics", "scpi", "line"}) {
    for (const char* unit : {"", "g", "kg", "V"}) {
      for (bool stable : {true, false}) {
        agent::DialectOptions o;
        o.dialect = d;
        o.unit = unit;
        o.stable_only = stable;
        v.push_back(agent::ReadingParser::create(o).value());
      }
    }
  }
  agent::DialectOptions custom;
  custom.parse = agent::Regex::compile("T=(.*) ([a-zA-Z]*)").value();
  custom.unit = "N\xC2\xB7m";
  v.push_back(agent::ReadingParser::create(custom).value());
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<agent::ReadingParser> parsers = make_parsers();
  std::string line(reinterpret_cast<const char*>(data), size);
  for (const auto& p : parsers) {
    auto r = p.parse(line);
    if (r.ok() && (!std::isfinite(r->value) || r->text.empty())) {
      std::abort();
    }
  }
  return 0;
}
