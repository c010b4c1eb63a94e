// SPDX-License-Identifier: Apache-2.0
// Test helpers for the recorded evdev streams in tests/data/evdev/ (24-byte little-endian
// records written by gen_evdev_streams.py): load, run through a ScanAssembler.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hal/input_records.hpp"
#include "hal/scan_assembler.hpp"

namespace test_streams {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline std::string stream_path(const std::string& name) {
  return std::string(ION_TEST_DATA_DIR) + "/evdev/" + name;
}

inline std::vector<input_event> load(const std::string& name) {
  std::vector<input_event> events;
  std::string bytes = read_file(stream_path(name));
  hal::parse_input_records(bytes, hal::RecordLayout::le64, events);
  return events;
}

// Feeds every record, then ends a scan in progress as if the gap had passed.
inline std::vector<hal::ScanRead> assemble(const std::vector<input_event>& events,
                                           hal::ScanAssemblerOptions o = {}) {
  hal::ScanAssembler a(std::move(o));
  std::vector<hal::ScanRead> out;
  for (const auto& ev : events) {
    a.feed(ev, out);
  }
  a.flush_idle(out);
  return out;
}

inline hal::ScanAssemblerOptions with_keymap(const char* name) {
  hal::ScanAssemblerOptions o;
  o.keymap = hal::Keymap::by_name(name).value();
  return o;
}

}  // namespace test_streams
