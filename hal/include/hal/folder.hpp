// SPDX-License-Identifier: Apache-2.0
// Folders as inputs: the output directory of a test stand's software, where it writes one
// result file (a log, a CSV, a photo) per unit. A file counts once it is complete: the writer
// closed it (inotify IN_CLOSE_WRITE) or moved it in whole (IN_MOVED_TO, the usual write-then-
// rename). Each becomes a StationEvent{kind=file, text=its path}; one that cannot be taken
// becomes one with `error` set and the reason, so the station shows a red light:
//   - its name does not match the input's glob pattern ("pattern mismatch"),
//   - it is not a regular file, cannot be opened for reading ("unreadable"), or
//   - it is larger than max_bytes ("too large").
// Names starting with '.' are skipped without an event: writers use them for files still
// being written (rsync's ".name.XXXXXX", editors' swap files), and moving one to its real
// name is the IN_MOVED_TO that counts.
//
// A taken file's event also carries its first line (up to the first LF, a CR before it
// dropped, at most kFirstLineMax bytes), so rules can match a tester's verdict line. Reading
// the rest is not the HAL's job: the agent copies the file when a rule accepts it
// (agent/outbox). FolderFilter is the portable part (the rules above, on a name and a path),
// used by the inotify device (hal/linux/folder_watch.hpp) and by tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hal/clock.hpp"
#include "hal/device.hpp"

namespace hal {

struct FolderOptions {
  std::string name = "folder";            // the profile's input name
  std::string path;                       // the directory to watch
  std::string pattern = "*";              // fnmatch(3) glob on the file name (no '/')
  std::uint64_t max_bytes = 64ull << 20;  // larger files are refused
};

inline constexpr std::size_t kFirstLineMax = 256;

class FolderFilter {
 public:
  explicit FolderFilter(FolderOptions options) : options_(std::move(options)) {}
  const FolderOptions& options() const { return options_; }

  // True when `name` is one the pattern takes (fnmatch, FNM_PERIOD).
  bool matches(const std::string& name) const;
  // The event for file `name` in the folder: a file event, a refusal (error set), or nothing
  // (a hidden name). Looks at the file (stat, open for reading) and reads its first line.
  std::optional<StationEvent> examine(const std::string& name, Clock::MonoTime now) const;

 private:
  FolderOptions options_;
};

// The file name part of a path ("result.csv" of "/srv/out/result.csv").
std::string base_name(const std::string& path);

}  // namespace hal
