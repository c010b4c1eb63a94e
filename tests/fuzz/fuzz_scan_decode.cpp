// SPDX-License-Identifier: Apache-2.0
// Fuzz target: scan decoding (AIM identifier, GS1 element strings, JSON output) on any bytes.
// Whatever the input, decode_scan() must return (never crash or hang) and give either a valid
// decode or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/scan/decode.hpp"
#include "agent/scan/gs1.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  agent::DecodeOptions options;
  options.assume_gs1 = size > 0 && (data[0] & 1) != 0;
  auto decoded = agent::decode_scan(bytes, options);
  (void)agent::to_json(decoded);
  (void)agent::gs1::parse(bytes, 0);
  (void)agent::gs1::parse_bracketed(bytes, 0);
  return 0;
}
