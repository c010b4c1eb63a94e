// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/secure_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "agent/common/atomic_file.hpp"
#include "agent/crypto/secret.hpp"
#include "hal/c_handle.hpp"

namespace agent {

hal::Status ensure_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return hal::errno_error(hal::Errc::io, "create directory " + dir, errno);
  }
  return {};
}

hal::Status write_private_file_atomic(const std::string& path, const unsigned char* data, std::size_t n) {
  return write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(data), n),
                           AtomicWrite{0600, true, true});
}

hal::Result<std::vector<unsigned char>> read_private_file(const std::string& path, std::size_t max,
                                                          PrivateFileError* why) {
  auto fail = [&](PrivateFileError kind, hal::Error e) -> hal::Error {
    if (why != nullptr) {
      *why = kind;
    }
    return e;
  };
  hal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    int err = errno;
    return fail(err == ENOENT ? PrivateFileError::missing : PrivateFileError::io,
                hal::errno_error(err == ENOENT ? hal::Errc::not_found : hal::Errc::io, "open " + path, err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail(PrivateFileError::io, hal::errno_error(hal::Errc::io, "stat " + path, errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(PrivateFileError::io,
                hal::Error(hal::Errc::security, "read " + path + ": not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(PrivateFileError::loose_mode,
                hal::Error(hal::Errc::security, "read " + path + ": mode " + mode +
                                                    " lets group/others access it; refusing (chmod 600 " +
                                                    path + ", then rotate the key if it may have leaked)"));
  }
  if (static_cast<std::size_t>(st.st_size) > max) {
    return fail(PrivateFileError::too_large,
                hal::Error(hal::Errc::security, "read " + path + ": " + std::to_string(st.st_size) +
                                                    " bytes is larger than the " + std::to_string(max) +
                                                    " expected"));
  }
  std::vector<unsigned char> buf(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t r = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      secure_zero(buf.data(), buf.size());
      return fail(PrivateFileError::io,
                  hal::errno_error(hal::Errc::io, "read " + path, r == 0 ? EIO : errno));
    }
    got += static_cast<std::size_t>(r);
  }
  if (why != nullptr) {
    *why = PrivateFileError::none;
  }
  return buf;
}

}  // namespace agent
