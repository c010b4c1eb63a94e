// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the station profile parser and validator on any bytes. Whatever the input,
// parse_profile() must return a Profile or an Error naming a place; it never crashes, hangs
// or leaks, however deep, long or malformed the JSON is.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/profile/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto profile = agent::parse_profile(text, "fuzz.json");
  if (!profile.ok() && profile.error().what.rfind("fuzz.json", 0) != 0) {
    __builtin_trap();  // every profile error must name the file it came from
  }
  return 0;
}
