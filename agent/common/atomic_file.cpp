// SPDX-License-Identifier: Apache-2.0
#include "agent/common/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "hal/c_handle.hpp"

namespace agent {
namespace {

hal::Status write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  std::size_t n = data.size();
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return hal::errno_error(hal::Errc::io, "write " + path, w == 0 ? EIO : errno);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

void give_to_dir_owner(int fd, const std::string& dir) {
  struct stat ds {};
  if (::geteuid() == 0 && ::stat(dir.c_str(), &ds) == 0 && ds.st_uid != 0) {
    if (::fchown(fd, ds.st_uid, ds.st_gid) != 0) {
      // Not fatal: the file stays root-owned; its reader reports that it cannot open it.
    }
  }
}

}  // namespace

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

hal::Status write_file_atomic(const std::string& path, std::string_view data, AtomicWrite how) {
  const std::string dir = dir_of(path);
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover from an earlier crash; O_EXCL below must not trip on it
  hal::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, how.mode));
  if (!fd.valid()) {
    return hal::errno_error(hal::Errc::io, "create " + tmp, errno);
  }
  ::fchmod(fd.get(), how.mode);  // the umask may have narrowed it (node_exporter must read metrics)
  if (how.adopt_dir_owner) {
    give_to_dir_owner(fd.get(), dir);
  }
  hal::Status st = write_all(fd.get(), data, tmp);
  if (st.ok() && how.durable && ::fsync(fd.get()) != 0) {
    st = hal::errno_error(hal::Errc::io, "fsync " + tmp, errno);
  }
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = hal::errno_error(hal::Errc::io, "rename " + tmp + " to " + path, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (how.durable) {
    // The rename is durable only once the directory entry is on disk.
    hal::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd.valid() || ::fsync(dfd.get()) != 0) {
      return hal::errno_error(hal::Errc::io, "fsync directory " + dir, errno);
    }
  }
  return {};
}

}  // namespace agent
