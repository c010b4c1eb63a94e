// SPDX-License-Identifier: Apache-2.0
// Subprocess: runs a program (usually the built ion-agent) for CLI tests with pipes on stdin,
// stdout and stderr, so a test can feed input, inspect the process while it runs
// (/proc/<pid>/cmdline, environ) and collect its output and exit status. The destructor kills
// (SIGKILL) and reaps a child that is still running. No shell is involved: argv is passed as is.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ion_test {

struct ProcessResult {
  int exit_code = -1;  // exit status, or -1 if killed by a signal / not started
  int term_signal = 0;
  bool timed_out = false;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr

  // Exit code, stdout and stderr in one text, for failure messages.
  std::string describe() const {
    return "exit " + std::to_string(exit_code) + "\nstdout:\n" + out + "\nstderr:\n" + err;
  }
};

class Subprocess {
 public:
  // env: full environment for the child ("NAME=value"); empty = inherit the test's environment.
  explicit Subprocess(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool start();  // false if fork/exec setup failed (see error())
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }

  bool write_stdin(const std::string& text);
  void close_stdin();

  // Reads whatever output is available for up to `for_at_least` without waiting for exit.
  void pump(std::chrono::milliseconds for_at_least);
  const std::string& out_so_far() const { return result_.out; }
  const std::string& err_so_far() const { return result_.err; }

  // Closes stdin (if still open), collects output until the child exits or the timeout passes
  // (then kills it and sets timed_out).
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  void read_available(int timeout_ms);

  std::vector<std::string> argv_, env_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string error_;
  ProcessResult result_;
};

// Convenience: run to completion with `input` on stdin.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::vector<std::string>& env = {});

}  // namespace ion_test
