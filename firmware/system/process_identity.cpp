// SPDX-License-Identifier: Apache-2.0
#include "process_identity.hpp"

#include <cctype>
#include <charconv>
#include <string_view>
#include <vector>

#include "agent/common/read_file.hpp"

namespace firmware {
namespace {

struct ProcStat {
  char state = '?';
  std::uint64_t start_ticks = 0;
};

// /proc/PID/stat: "pid (comm) state ppid ... starttime(22) ..."; comm may hold spaces and
// parentheses, so fields are counted from the last ')'.
std::optional<ProcStat> read_stat(pid_t pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  auto text = agent::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok() || text->empty()) {
    return std::nullopt;
  }
  const std::string line = agent::first_line(text.value());
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  // The whitespace-separated fields after the ')': state is the first (field 3), starttime
  // the 20th (field 22).
  std::vector<std::string_view> fields;
  const std::string_view rest = std::string_view(line).substr(close + 1);
  for (std::size_t i = 0; i < rest.size() && fields.size() < 20;) {
    if (std::isspace(static_cast<unsigned char>(rest[i])) != 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < rest.size() && std::isspace(static_cast<unsigned char>(rest[end])) == 0) {
      ++end;
    }
    fields.push_back(rest.substr(i, end - i));
    i = end;
  }
  if (fields.size() < 20) {
    return std::nullopt;
  }
  ProcStat st;
  st.state = fields[0].front();
  const std::string_view ticks = fields[19];
  auto r = std::from_chars(ticks.data(), ticks.data() + ticks.size(), st.start_ticks);
  if (r.ec != std::errc()) {
    return std::nullopt;
  }
  return st;
}

}  // namespace

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
  auto st = read_stat(pid);
  return st ? std::optional<std::uint64_t>(st->start_ticks) : std::nullopt;
}

const char* to_string(Liveness l) noexcept {
  switch (l) {
    case Liveness::alive:
      return "alive";
    case Liveness::stopped:
      return "stopped";
    case Liveness::zombie:
      return "zombie";
    case Liveness::gone:
      return "gone";
    case Liveness::reused:
      return "reused";
  }
  return "unknown";
}

std::string current_boot_id() {
  auto text = agent::read_file("/proc/sys/kernel/random/boot_id");
  return text.ok() ? agent::first_line(text.value()) : std::string();
}

Liveness process_liveness(pid_t pid, std::uint64_t start_ticks, const std::string& boot_id) {
  const std::string now_boot = current_boot_id();
  const bool known = !boot_id.empty() && boot_id != "unknown";  // TimeSync's "unreadable"
  if (known && !now_boot.empty() && boot_id != now_boot) {
    return Liveness::gone;  // written before a reboot: whatever has that pid now is not it
  }
  auto st = read_stat(pid);
  if (!st) {
    return Liveness::gone;
  }
  if (start_ticks != 0 && st->start_ticks != start_ticks) {
    return Liveness::reused;
  }
  switch (st->state) {
    case 'Z':
    case 'X':
    case 'x':
      return Liveness::zombie;
    case 'T':
    case 't':
      return Liveness::stopped;
    default:
      return Liveness::alive;
  }
}

}  // namespace firmware
