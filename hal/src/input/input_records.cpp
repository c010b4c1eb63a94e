// SPDX-License-Identifier: Apache-2.0
#include "hal/input_records.hpp"

#include <cstdint>
#include <cstring>

namespace hal {
namespace {

std::uint64_t get_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) {
    v = (v << 8) | p[i];
  }
  return v;
}

void put_le(std::string& s, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    s += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

}  // namespace

std::size_t record_size(RecordLayout layout) {
  switch (layout) {
    case RecordLayout::native:
      return sizeof(input_event);
    case RecordLayout::le64:
      return 24;
    case RecordLayout::le32:
      return 16;
  }
  return sizeof(input_event);
}

Result<RecordLayout> parse_record_layout(std::string_view name) {
  if (name == "native") {
    return RecordLayout::native;
  }
  if (name == "24" || name == "le64") {
    return RecordLayout::le64;
  }
  if (name == "16" || name == "le32") {
    return RecordLayout::le32;
  }
  return Error(Errc::config, "evdev: unknown record layout '" + std::string(name) + "' (native, 24, 16)");
}

std::size_t parse_input_records(std::string_view bytes, RecordLayout layout, std::vector<input_event>& out) {
  const std::size_t size = record_size(layout);
  std::size_t used = 0;
  for (; bytes.size() - used >= size; used += size) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + used);
    input_event ev{};
    if (layout == RecordLayout::native) {
      std::memcpy(&ev, p, sizeof ev);
    } else {
      std::size_t w = layout == RecordLayout::le64 ? 8 : 4;  // width of sec and usec
      ev.input_event_sec = static_cast<decltype(ev.input_event_sec)>(get_le(p, w));
      ev.input_event_usec = static_cast<decltype(ev.input_event_usec)>(get_le(p + w, w));
      ev.type = static_cast<std::uint16_t>(get_le(p + 2 * w, 2));
      ev.code = static_cast<std::uint16_t>(get_le(p + 2 * w + 2, 2));
      ev.value = static_cast<std::int32_t>(static_cast<std::uint32_t>(get_le(p + 2 * w + 4, 4)));
    }
    out.push_back(ev);
  }
  return used;
}

std::string encode_input_records(const std::vector<input_event>& events, RecordLayout layout) {
  std::string s;
  s.reserve(events.size() * record_size(layout));
  for (const auto& ev : events) {
    if (layout == RecordLayout::native) {
      s.append(reinterpret_cast<const char*>(&ev), sizeof ev);
      continue;
    }
    std::size_t w = layout == RecordLayout::le64 ? 8 : 4;
    put_le(s, static_cast<std::uint64_t>(ev.input_event_sec), w);
    put_le(s, static_cast<std::uint64_t>(ev.input_event_usec), w);
    put_le(s, ev.type, 2);
    put_le(s, ev.code, 2);
    put_le(s, static_cast<std::uint32_t>(ev.value), 4);
  }
  return s;
}

}  // namespace hal
