// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/board_identity.hpp"

#include "agent/common/read_file.hpp"

namespace agent {
namespace {

// First readable, non-empty file of `paths`, with trailing NULs/whitespace removed (the
// device tree stores the serial as a NUL-terminated string).
bool read_first(const std::vector<std::string>& paths, std::string& out) {
  for (const auto& p : paths) {
    auto read = read_file(p);
    if (!read.ok()) {
      continue;
    }
    std::string s = std::move(read).value();
    while (!s.empty() && (s.back() == '\0' || s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) {
      s.pop_back();
    }
    if (!s.empty()) {
      out = s;
      return true;
    }
  }
  return false;
}

}  // namespace

FileBoardIdentity::FileBoardIdentity()
    : FileBoardIdentity({"/etc/machine-id", "/var/lib/dbus/machine-id"},
                        {"/proc/device-tree/serial-number", "/sys/firmware/devicetree/base/serial-number"}) {}

FileBoardIdentity::FileBoardIdentity(std::vector<std::string> machine_id_paths,
                                     std::vector<std::string> serial_paths)
    : machine_id_paths_(std::move(machine_id_paths)), serial_paths_(std::move(serial_paths)) {}

hal::Result<std::string> FileBoardIdentity::identity() const {
  std::string machine_id;
  if (!read_first(machine_id_paths_, machine_id)) {
    std::string tried;
    for (const auto& p : machine_id_paths_) {
      tried += (tried.empty() ? "" : ", ") + p;
    }
    return hal::Error(hal::Errc::config, "board identity: no machine id in " + tried +
                                             " (run systemd-machine-id-setup on first boot)");
  }
  std::string serial;
  read_first(serial_paths_, serial);  // optional: PCs and many SoCs have none
  return "machine-id=" + machine_id + ";serial=" + serial;
}

}  // namespace agent
