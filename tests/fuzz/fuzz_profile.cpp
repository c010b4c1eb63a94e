// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the station profile parser and validator on any bytes. Whatever the input,
// parse_profile() must return a Profile or an Error naming a place; it never crashes, hangs
// or leaks, however deep, long or malformed the JSON is. An accepted profile holds only strings
// ION can take: valid UTF-8 without NUL (issue 19), in every field that reaches an intent, a
// log line or a device path.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/profile/profile.hpp"
#include "hal/text.hpp"

namespace {

bool clean(const std::string& s) {
  return hal::is_valid_utf8(s) && s.find('\0') == std::string::npos;
}

bool all_clean(const agent::Profile& p) {
  bool ok = clean(p.station);
  for (const auto& in : p.inputs) {
    ok = ok && clean(in.name) && clean(in.device) && clean(in.chip) && clean(in.line_name);
  }
  for (const auto& r : p.rules) {
    ok = ok && clean(r.on) && clean(r.match_source);
    for (const auto& a : r.actions) {
      ok = ok && clean(a.key) && clean(a.value) && clean(a.inputs_json) && clean(a.pattern.pattern);
    }
  }
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto profile = agent::parse_profile(text, "fuzz.json");
  if (!profile.ok() && profile.error().what.rfind("fuzz.json", 0) != 0) {
    __builtin_trap();  // every profile error must name the file it came from
  }
  if (profile.ok() && !all_clean(*profile)) {
    __builtin_trap();  // a NUL or invalid UTF-8 got through check
  }
  return 0;
}
