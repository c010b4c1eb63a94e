// SPDX-License-Identifier: Apache-2.0
// FileWatch: an inotify fd that becomes readable when one of a few files is written (by this
// process or another). The daemon watches the outbox database and its WAL so that
// `ion-agent queue retry/drop` from another process wakes the dispatcher at once, instead of
// the daemon polling the database on a timer (an idle station must sleep in the kernel).
// Owns the fd; paths that do not exist are skipped (watching() says whether anything is
// watched). drain() reads pending events without blocking. Errors are returned, never thrown.
#pragma once

#include <string>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/result.hpp"

namespace firmware {

class FileWatch {
 public:
  static hal::Result<FileWatch> create(const std::vector<std::string>& paths);

  int fd() const { return fd_.get(); }
  bool watching() const { return watches_ > 0; }
  // Consumes the pending events; returns how many there were (0 if none).
  std::size_t drain();

 private:
  FileWatch(hal::UniqueFd fd, std::size_t watches) : fd_(std::move(fd)), watches_(watches) {}

  hal::UniqueFd fd_;
  std::size_t watches_ = 0;
};

}  // namespace firmware
