// SPDX-License-Identifier: Apache-2.0
// Fuzz target: a recorded evdev stream (24-byte records) through the ScanAssembler. The first
// byte picks the keymap, terminator and a small length limit, so every path is reachable. Every
// scan must come out valid or with an error, within the length limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "hal/input_records.hpp"
#include "hal/scan_assembler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  static const char* const kMaps[] = {"us", "de", "fr", "uk"};
  hal::ScanAssemblerOptions o;
  o.keymap = hal::Keymap::by_name(kMaps[data[0] & 3]).value();
  o.terminator = static_cast<hal::ScanAssemblerOptions::Terminator>((data[0] >> 2) % 3);
  o.max_length = (data[0] & 0x20) != 0 ? 8 : 1024;
  o.gs_key = (data[0] & 0x40) != 0 ? KEY_F8 : 0;
  std::vector<input_event> events;
  hal::parse_input_records(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1),
                           hal::RecordLayout::le64, events);
  hal::ScanAssembler assembler(o);
  std::vector<hal::ScanRead> out;
  for (const auto& ev : events) {
    assembler.feed(ev, out);
  }
  assembler.flush_idle(out);
  for (const auto& r : out) {
    if (r.text.size() > o.max_length) {
      std::abort();  // the limit is the assembler's promise to the rest of the agent
    }
  }
  return 0;
}
