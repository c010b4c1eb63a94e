// SPDX-License-Identifier: Apache-2.0
#include "process_identity.hpp"

#include <fstream>
#include <sstream>

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
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) {
    return std::nullopt;
  }
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(line.substr(close + 1));
  ProcStat st;
  std::string skip;
  fields >> st.state;
  for (int field = 4; field < 22 && fields >> skip; ++field) {
  }
  if (!(fields >> st.start_ticks)) {
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
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
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
