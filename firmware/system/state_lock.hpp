// SPDX-License-Identifier: Apache-2.0
// One writer per state directory: an exclusive flock(2) on <state-dir>/ion-agent.lock, the
// directory resolved through symlinks first (two spellings of one directory are one lock).
// `ion-agent run` takes it before it opens anything and holds it for its whole life; the
// kernel releases it when the process dies, however it dies (kill -9 included), so there is
// no stale lock to clean up. The file records "PID COMMAND" of the holder for the message
// the next one prints. Writers from the command line (`provision`, `queue retry|drop`) try it
// too and hold it while they work when it is free. Readers (`status`, `queue list`) never
// touch it: nothing they do can make a starting daemon fail.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "hal/result.hpp"

namespace firmware {

class StateLock {
 public:
  struct Holder {
    pid_t pid = 0;        // 0 = not recorded yet (the holder is between flock and write)
    std::string command;  // "run", "provision", "queue"
  };

  // Takes the lock without waiting. Errc::busy when another process holds it (the message
  // names its PID and command; `holder`, when given, gets them), Errc::io when the directory
  // or the file cannot be opened.
  static hal::Result<StateLock> acquire(const std::string& state_dir, std::string_view command,
                                        Holder* holder = nullptr);
  // <state-dir resolved>/ion-agent.lock; the input as given when it cannot be resolved.
  static std::string path_for(const std::string& state_dir);

  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

  const std::string& path() const { return path_; }

 private:
  StateLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// "another ion-agent run (PID 123) holds /var/lib/ion-agent/ion-agent.lock"
std::string describe(const StateLock::Holder& h, const std::string& lock_path);

}  // namespace firmware
