// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/folder_watch.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "hal/log.hpp"

namespace hal::linux_folder {
namespace {

constexpr const char* kModule = "folder";

}  // namespace

FolderWatch::FolderWatch(FolderWatchOptions options)
    : options_(std::move(options)),
      filter_(options_.folder),
      reopen_(kModule, options_.folder.name, options_.folder.path,
              Backoff(options_.reopen_min, options_.reopen_max)) {}

Status FolderWatch::validate(const FolderWatchOptions& o) {
  const std::string where = "input " + o.folder.name + ": ";
  if (o.folder.path.empty() || o.folder.path[0] != '/') {
    return Error(Errc::config, where + "path: expected an absolute directory path");
  }
  if (o.folder.pattern.empty() || o.folder.pattern.find('/') != std::string::npos) {
    return Error(Errc::config, where + "pattern: expected a file name glob such as \"*.csv\" (no '/')");
  }
  if (o.reopen_min.count() <= 0) {
    return Error(Errc::config, where + "reopen_min_ms must be positive");
  }
  return ok();
}

Status FolderWatch::open(Clock::MonoTime now) {
  fd_.reset();
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    Error e(Errc::io, std::string("inotify_init1: ") + std::strerror(errno));
    reopen_.open_failed(now, e);
    return e;
  }
  const std::string& path = options_.folder.path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    Error e(Errc::io, path + ": " + std::strerror(errno));
    reopen_.open_failed(now, e);
    return e;
  }
  if (!S_ISDIR(st.st_mode)) {
    Error e(Errc::io, path + ": not a directory");
    reopen_.open_failed(now, e);
    return e;
  }
  if (::inotify_add_watch(fd.get(), path.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
    Error e(Errc::io, "inotify_add_watch " + path + ": " + std::strerror(errno));
    reopen_.open_failed(now, e);
    return e;
  }
  fd_ = std::move(fd);
  reopen_.opened(path);
  return ok();
}

std::optional<Clock::MonoTime> FolderWatch::next_deadline() const {
  return fd_.valid() ? std::nullopt : reopen_.deadline();
}

void FolderWatch::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  // Big enough for many events at once; the kernel never splits one event across reads.
  alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        lost(now, std::string("read inotify: ") + std::strerror(errno));
      }
      return;
    }
    if (n == 0) {
      return;
    }
    bool gone = false;
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + e->len;
      if ((e->mask & IN_Q_OVERFLOW) != 0) {
        log::warning(kModule, "input '" + options_.folder.name +
                                  "': inotify queue overflowed; files that arrived meanwhile were not seen");
        continue;
      }
      if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0) {
        gone = true;
        continue;
      }
      if ((e->mask & IN_ISDIR) != 0 || e->len == 0 || (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) == 0) {
        continue;
      }
      if (auto ev = filter_.examine(e->name, now)) {
        out.push_back(std::move(*ev));
      }
    }
    if (gone) {
      lost(now, "the directory was deleted or moved away");
      return;
    }
  }
}

void FolderWatch::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  (void)out;
  if (!fd_.valid()) {
    reopen_.retry_if_due(now, [&] { return open(now); });
  }
}

void FolderWatch::lost(Clock::MonoTime now, std::string why) {
  fd_.reset();
  reopen_.lost(now, std::move(why));
}

}  // namespace hal::linux_folder
