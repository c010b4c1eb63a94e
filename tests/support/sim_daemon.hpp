// SPDX-License-Identifier: Apache-2.0
// The real daemon on a simulated station, for integration tests: `ion-agent run` on
// <dir>/profile.json with the station's inputs read from stdin (`--sim -`), and its log
// (stderr) searched as it grows.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace ion_test {

// Started and up (status.json written), or nullptr.
inline std::unique_ptr<Subprocess> start_sim_daemon(const std::string& exe, const std::string& dir) {
  auto p = std::make_unique<Subprocess>(std::vector<std::string>{
      exe, "run", "--config", dir + "/profile.json", "--state-dir", dir, "--sim", "-"});
  if (!p->start()) {
    return nullptr;
  }
  for (int i = 0; i < 200; ++i) {
    struct stat st {};
    if (::stat((dir + "/status.json").c_str(), &st) == 0) {
      return p;
    }
    p->pump(std::chrono::milliseconds(50));
  }
  return nullptr;
}

// How many times `what` appears in the log so far.
inline int log_count(const Subprocess& p, const std::string& what) {
  int n = 0;
  const std::string& err = p.err_so_far();
  for (std::size_t at = err.find(what); at != std::string::npos; at = err.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Until the log holds `what` `n` times; false after `limit`.
inline bool wait_for_log(Subprocess& p, const std::string& what, int n, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (log_count(p, what) >= n) {
      return true;
    }
    p.pump(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace ion_test
