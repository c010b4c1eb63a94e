// SPDX-License-Identifier: Apache-2.0
// A unique temporary directory for one test, removed (with its files) when the test ends.
#pragma once

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

namespace test_support {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ion-agent-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path_ = p != nullptr ? p : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      ::nftw(
          path_.c_str(), [](const char* f, const struct stat*, int, struct FTW*) { return ::remove(f); }, 16,
          FTW_DEPTH | FTW_PHYS);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace test_support
