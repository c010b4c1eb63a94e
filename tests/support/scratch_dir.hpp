// SPDX-License-Identifier: Apache-2.0
// ScratchDir: a unique temporary directory removed (recursively) when the object dies.
#pragma once

#include <ftw.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace testing_support {

class ScratchDir {
 public:
  explicit ScratchDir(const char* tag = "ion-test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/" + tag + "-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    path_ = p != nullptr ? p : "";
  }
  ~ScratchDir() {
    if (!path_.empty()) {
      nftw(
          path_.c_str(), [](const char* f, const struct stat*, int, struct FTW*) { return ::remove(f); }, 16,
          FTW_DEPTH | FTW_PHYS);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace testing_support
