// SPDX-License-Identifier: Apache-2.0
#include "agent/common/read_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "hal/c_handle.hpp"

namespace agent {

hal::Result<std::string> read_file(const std::string& path, std::size_t max, ReadFileError* why) {
  auto fail = [&](ReadFileError kind, hal::Error e) -> hal::Error {
    if (why != nullptr) {
      *why = kind;
    }
    return e;
  };
  hal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    return fail(ReadFileError::open,
                hal::errno_error(err == ENOENT ? hal::Errc::not_found : hal::Errc::io, "open " + path, err));
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t r = ::read(fd.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      return fail(ReadFileError::read, hal::errno_error(hal::Errc::io, "read " + path, errno));
    }
    if (r == 0) {
      break;
    }
    if (static_cast<std::size_t>(r) > max - text.size()) {
      return fail(ReadFileError::too_large, hal::Error(hal::Errc::io, "read " + path + ": larger than " +
                                                                          std::to_string(max) + " bytes"));
    }
    text.append(buf, static_cast<std::size_t>(r));
  }
  if (why != nullptr) {
    *why = ReadFileError::none;
  }
  return text;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace agent
