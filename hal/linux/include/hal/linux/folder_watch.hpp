// SPDX-License-Identifier: Apache-2.0
// FolderWatch: a directory watched with inotify (IN_CLOSE_WRITE | IN_MOVED_TO) as a
// hal::Device; each complete file that appears becomes a file event through a FolderFilter
// (hal/folder.hpp: pattern, readability, size). Files already there when the watch starts are
// not reported: the folder says what is new, it is not a queue.
//
// One non-blocking inotify fd in the station's loop. A directory that is missing (not mounted
// yet, deleted, moved away: IN_DELETE_SELF / IN_MOVE_SELF / IN_IGNORED) reports missing in
// status() and is watched again with backoff (ReopenSchedule, as the scanners). A queue
// overflow (IN_Q_OVERFLOW: files arrived faster than the loop read them) is logged at warning;
// the files lost that way got no light at all, so the operator sees nothing accepted.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/folder.hpp"
#include "hal/reopen_schedule.hpp"

namespace hal::linux_folder {

struct FolderWatchOptions {
  FolderOptions folder;
  std::chrono::milliseconds reopen_min{250};
  std::chrono::milliseconds reopen_max{10000};
};

class FolderWatch final : public Device {
 public:
  explicit FolderWatch(FolderWatchOptions options);

  // Checks the options without touching the directory (config error naming the option).
  static Status validate(const FolderWatchOptions& options);

  // First watch. On failure a retry is scheduled and the reason returned.
  Status open(Clock::MonoTime now);

  int fd() const override { return fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override { return reopen_.status(); }

 private:
  void lost(Clock::MonoTime now, std::string why);

  FolderWatchOptions options_;
  FolderFilter filter_;
  UniqueFd fd_;
  ReopenSchedule reopen_;
};

}  // namespace hal::linux_folder
