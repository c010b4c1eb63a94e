// SPDX-License-Identifier: Apache-2.0
#include "file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace firmware {

hal::Result<FileWatch> FileWatch::create(const std::vector<std::string>& paths) {
  hal::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    return hal::errno_error(hal::Errc::io, "file watch: inotify_init1", errno);
  }
  std::size_t n = 0;
  for (const auto& p : paths) {
    // IN_MODIFY only: SQLite writes commits into the WAL (checkpoints into the database);
    // IN_CLOSE_WRITE would also fire whenever any reader that opened the file read-write closes.
    if (::inotify_add_watch(fd.get(), p.c_str(), IN_MODIFY) >= 0) {
      ++n;
    } else if (errno != ENOENT) {
      return hal::errno_error(hal::Errc::io, "file watch: watch " + p, errno);
    }
  }
  return FileWatch(std::move(fd), n);
}

std::size_t FileWatch::drain() {
  alignas(inotify_event) char buf[4096];
  std::size_t events = 0;
  for (;;) {
    ssize_t r = ::read(fd_.get(), buf, sizeof buf);
    if (r <= 0) {
      return events;  // EAGAIN: drained (errors: nothing more to learn here)
    }
    for (ssize_t off = 0; off < r;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      ++events;
    }
  }
}

}  // namespace firmware
