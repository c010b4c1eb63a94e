// SPDX-License-Identifier: Apache-2.0
// Logging to stderr with syslog priority prefixes ("<3>outbox: ..."), which journald turns
// into priorities. One process-wide level; messages below it cost one comparison.
// Never pass a secret here: secrets live in agent::Secret, which has no string conversion.
#pragma once

#include <string>
#include <string_view>

namespace hal::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_level(Level level) noexcept;
Level level() noexcept;
bool parse_level(std::string_view text, Level& out) noexcept;

// Where lines go; defaults to stderr. Tests redirect it to capture output.
using Sink = void (*)(Level level, std::string_view line);
void set_sink(Sink sink) noexcept;

void write(Level level, std::string_view module, std::string_view message);
// Each line of a multi-line message (a profile's list of problems) as its own record, split
// at '\n' as std::getline splits: no record for an empty text or after a final newline.
void write_lines(Level level, std::string_view module, std::string_view text);

inline void error(std::string_view m, std::string_view msg) {
  write(Level::error, m, msg);
}
inline void warning(std::string_view m, std::string_view msg) {
  write(Level::warning, m, msg);
}
inline void notice(std::string_view m, std::string_view msg) {
  write(Level::notice, m, msg);
}
inline void info(std::string_view m, std::string_view msg) {
  write(Level::info, m, msg);
}
inline void debug(std::string_view m, std::string_view msg) {
  write(Level::debug, m, msg);
}

}  // namespace hal::log
