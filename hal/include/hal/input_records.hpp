// SPDX-License-Identifier: Apache-2.0
// Recorded evdev streams: raw `struct input_event` records, as `cat /dev/input/eventN > file`
// writes them. The record size depends on the machine that recorded it (24 bytes on 64-bit
// Linux, 16 bytes on 32-bit ARM, also with 64-bit time_t), so files name their layout:
//  - native: this machine's struct input_event (what a device node delivers here);
//  - le64:   24-byte little-endian records (x86_64, aarch64) - the format of tests/data/*.evdev;
//  - le32:   16-byte little-endian records (armhf, i386).
// Pure functions over bytes (no I/O), so they double as fuzzing entry points.
#pragma once

#include <linux/input.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "hal/result.hpp"

namespace hal {

enum class RecordLayout { native, le64, le32 };

std::size_t record_size(RecordLayout layout);
// "native", "24"/"le64", "16"/"le32".
Result<RecordLayout> parse_record_layout(std::string_view name);

// Appends every whole record in `bytes` to `out`; returns the bytes consumed (a trailing
// partial record, e.g. from a pipe read that split one, is left for the next call).
std::size_t parse_input_records(std::string_view bytes, RecordLayout layout, std::vector<input_event>& out);
std::string encode_input_records(const std::vector<input_event>& events, RecordLayout layout);

}  // namespace hal
