// SPDX-License-Identifier: Apache-2.0
// FolderWatch: a directory watched with inotify (IN_CLOSE_WRITE | IN_MOVED_TO) as a
// hal::Device; each complete file that appears becomes a file event through a FolderFilter
// (hal/folder.hpp: pattern, readability, size, first line). Files already there when the
// watch starts are not reported: the folder says what is new, it is not a queue.
//
// One non-blocking inotify fd in the station's loop, and no timer: a directory that is
// missing (not mounted or created yet, deleted, moved away: IN_DELETE_SELF / IN_MOVE_SELF)
// reports missing in status() and the same fd watches its nearest existing parent for
// entries appearing; the directory is watched again as soon as it is there. An idle station
// with a missing folder still sleeps in the kernel. Only when inotify itself fails (out of
// watches) is it retried with backoff. A queue overflow (IN_Q_OVERFLOW: files arrived faster
// than the loop read them) is logged at warning; files lost that way got no light at all.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hal/backoff.hpp"
#include "hal/c_handle.hpp"
#include "hal/folder.hpp"

namespace hal::linux_folder {

struct FolderWatchOptions {
  FolderOptions folder;
  std::chrono::milliseconds reopen_min{250};    // inotify unavailable: retry after this,
  std::chrono::milliseconds reopen_max{10000};  // doubling up to this
};

class FolderWatch final : public Device {
 public:
  explicit FolderWatch(FolderWatchOptions options);

  // Checks the options without touching the directory (config error naming the option).
  static Status validate(const FolderWatchOptions& options);

  // First watch. A missing directory is waited for (see above) and the reason returned.
  Status open(Clock::MonoTime now);

  int fd() const override { return fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override { return retry_at_; }
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override { return status_; }

 private:
  Status watch(Clock::MonoTime now);
  void missing(Clock::MonoTime now, const std::string& why, bool was_connected);

  FolderWatchOptions options_;
  FolderFilter filter_;
  UniqueFd fd_;
  bool watching_dir_ = false;  // false: fd_ (if any) watches a parent for the directory
  DeviceStatus status_;
  Backoff backoff_;
  std::optional<Clock::MonoTime> retry_at_;
};

}  // namespace hal::linux_folder
