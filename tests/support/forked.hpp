// SPDX-License-Identifier: Apache-2.0
// Runs a test scenario in a forked child, for scenarios that change the process itself (a
// private mount namespace with a small tmpfs, say): the child's verdict comes back through a
// pipe. The scenario returns "" on success or what went wrong.
#pragma once

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace testing_support {

struct ForkedResult {
  bool ok = false;      // the child exited 0
  std::string message;  // what the scenario returned
};

inline ForkedResult run_forked(const std::function<std::string()>& scenario) {
  int fds[2];
  if (pipe(fds) != 0) {
    return {false, "pipe failed"};
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string result = scenario();
    ssize_t n = write(fds[1], result.data(), result.size());
    (void)n;
    _exit(result.empty() ? 0 : 1);
  }
  close(fds[1]);
  ForkedResult r;
  char buf[512];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) {
    r.message.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return r;
}

// In a forked child: a private mount namespace with a tmpfs of `options` (e.g.
// "size=2m,mode=0700") on `dir`, so nothing leaks into the host's mounts (needs root). Returns
// "" or what failed.
inline std::string private_tmpfs(const std::string& dir, const char* options) {
  if (unshare(CLONE_NEWNS) != 0) {
    return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("tmpfs", dir.c_str(), "tmpfs", 0, options) != 0) {
    return std::string("mount tmpfs: ") + std::strerror(errno);
  }
  return {};
}

}  // namespace testing_support
