// SPDX-License-Identifier: Apache-2.0
#include "hal/log.hpp"

#include <unistd.h>

#include <atomic>
#include <string>

#include "hal/text.hpp"

namespace hal::log {
namespace {

std::atomic<Level> g_level{Level::info};

void stderr_sink(Level, std::string_view line) {
  // One write(2) per line keeps lines whole when several processes share the journal stream.
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n <= 0) {
      return;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

std::atomic<Sink> g_sink{&stderr_sink};

}  // namespace

void set_level(Level level) noexcept {
  g_level = level;
}
Level level() noexcept {
  return g_level;
}
void set_sink(Sink sink) noexcept {
  g_sink = sink != nullptr ? sink : &stderr_sink;
}

bool parse_level(std::string_view text, Level& out) noexcept {
  struct Name {
    std::string_view name;
    Level level;
  };
  static constexpr Name kNames[] = {{"error", Level::error},
                                    {"warning", Level::warning},
                                    {"notice", Level::notice},
                                    {"info", Level::info},
                                    {"debug", Level::debug}};
  for (const auto& n : kNames) {
    if (n.name == text) {
      out = n.level;
      return true;
    }
  }
  return false;
}

void write(Level lvl, std::string_view module, std::string_view message) {
  if (static_cast<int>(lvl) > static_cast<int>(g_level.load())) {
    return;
  }
  std::string line;
  line.reserve(module.size() + message.size() + 8);
  line += '<';
  line += static_cast<char>('0' + static_cast<int>(lvl));
  line += '>';
  line += module;
  line += ": ";
  // A message never spans lines: journald would split it and lose the priority. Messages
  // carry text from outside (scans, ION's answers, file names): control characters (an ESC
  // sequence would drive the reader's terminal) and bytes that are not UTF-8 are written as
  // \xNN.
  line += escape_control(message);
  line += '\n';
  g_sink.load()(lvl, line);
}

void write_lines(Level lvl, std::string_view module, std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    write(lvl, module, text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
}

}  // namespace hal::log
