// SPDX-License-Identifier: Apache-2.0
#include "atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "hal/c_handle.hpp"

namespace firmware {

hal::Status write_file_atomic(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tmp";
  hal::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return hal::errno_error(hal::Errc::io, "write " + tmp, errno);
  }
  ::fchmod(fd.get(), mode);  // umask may have narrowed it; node_exporter must read it
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return hal::errno_error(hal::Errc::io, "write " + tmp, err);
    }
    done += static_cast<std::size_t>(n);
  }
  // No fsync: the file is rewritten every few seconds and worthless after a power cut, so
  // flash wear matters more (ext4's rename heuristics still avoid a zero-length result).
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return hal::errno_error(hal::Errc::io, "replace " + path, err);
  }
  return hal::ok();
}

}  // namespace firmware
