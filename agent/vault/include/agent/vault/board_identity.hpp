// SPDX-License-Identifier: Apache-2.0
// BoardIdentity: the facts that tie sealed credentials to one board, mixed into the vault's
// key derivation so a copied SD card does not open on another board. The file-based provider
// reads /etc/machine-id (fallback /var/lib/dbus/machine-id; required) and the SoC serial
// number from the device tree (/proc/device-tree/serial-number or
// /sys/firmware/devicetree/base/serial-number; optional, absent on PCs). Paths are injectable
// for tests. Note: re-imaging a board (new machine-id) makes its sealed credentials
// unreadable by design; provision again.
#pragma once

#include <string>
#include <vector>

#include "hal/result.hpp"

namespace agent {

class BoardIdentity {
 public:
  virtual ~BoardIdentity() = default;
  // A stable byte string naming this board ("machine-id=...;serial=..."), or an error.
  virtual hal::Result<std::string> identity() const = 0;
};

class FileBoardIdentity final : public BoardIdentity {
 public:
  // Defaults: the system paths above.
  FileBoardIdentity();
  FileBoardIdentity(std::vector<std::string> machine_id_paths, std::vector<std::string> serial_paths);
  hal::Result<std::string> identity() const override;

 private:
  std::vector<std::string> machine_id_paths_;
  std::vector<std::string> serial_paths_;
};

}  // namespace agent
