// SPDX-License-Identifier: Apache-2.0
// Text from outside (scans, ION's messages, file names): UTF-8 validation and escaping for
// places where raw bytes must not go (the journal, a terminal, a JSON document).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hal {

// Length of the longest prefix of `s` that is valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). Equal to s.size() when all of it is valid.
std::size_t utf8_valid_prefix(std::string_view s) noexcept;
inline bool is_valid_utf8(std::string_view s) noexcept {
  return utf8_valid_prefix(s) == s.size();
}

// `s` with every control character (U+0000-U+001F, U+007F) and every byte that is not part
// of valid UTF-8 written as \xNN; valid printable UTF-8 is kept as it is. Newlines and
// carriage returns become spaces (a log line never spans lines). Backslashes stay as they are.
std::string escape_control(std::string_view s);

}  // namespace hal
