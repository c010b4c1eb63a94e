// SPDX-License-Identifier: Apache-2.0
// Runs a test scenario in a forked child, for scenarios that change the process itself (a
// private mount namespace with a small tmpfs, say): the child's verdict comes back through a
// pipe. The scenario returns "" on success or what went wrong.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace testing_support
