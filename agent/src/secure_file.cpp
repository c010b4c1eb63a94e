// SPDX-License-Identifier: Apache-2.0
#include "agent/secure_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "agent/secret.hpp"
#include "hal/c_handle.hpp"

namespace agent {
namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

hal::Status write_all(int fd, const unsigned char* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return hal::errno_error(hal::Errc::io, "write " + path, errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

// Root provisioning into the service user's state directory: hand the file to that user.
void adopt_dir_owner(int fd, const std::string& dir) {
  struct stat ds {};
  if (::geteuid() == 0 && ::stat(dir.c_str(), &ds) == 0 && ds.st_uid != 0) {
    if (::fchown(fd, ds.st_uid, ds.st_gid) != 0) {
      // Not fatal: the file stays root-owned and 0600; the daemon will report it cannot read it.
    }
  }
}

}  // namespace

hal::Status ensure_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return hal::errno_error(hal::Errc::io, "create directory " + dir, errno);
  }
  return {};
}

hal::Status write_private_file_atomic(const std::string& path, const unsigned char* data, std::size_t n) {
  const std::string dir = dir_of(path);
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover from an earlier crash; O_EXCL below must not trip on it
  hal::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return hal::errno_error(hal::Errc::io, "create " + tmp, errno);
  }
  adopt_dir_owner(fd.get(), dir);
  hal::Status st = write_all(fd.get(), data, n, tmp);
  if (st.ok() && ::fsync(fd.get()) != 0) {
    st = hal::errno_error(hal::Errc::io, "fsync " + tmp, errno);
  }
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = hal::errno_error(hal::Errc::io, "rename " + tmp + " to " + path, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename is durable only once the directory entry is on disk.
  hal::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid() || ::fsync(dfd.get()) != 0) {
    return hal::errno_error(hal::Errc::io, "fsync directory " + dir, errno);
  }
  return {};
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
