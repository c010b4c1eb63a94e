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
constexpr std::uint32_t kDirEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t kParentEvents =
    IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

std::string parent_of(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

FolderWatch::FolderWatch(FolderWatchOptions options)
    : options_(std::move(options)),
      filter_(options_.folder),
      backoff_(options_.reopen_min, options_.reopen_max) {
  status_.name = options_.folder.name;
  status_.path = options_.folder.path;
  status_.last_error = "not opened yet";
}

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
  return watch(now);  // the caller logs a failure (as for every device)
}

// Watches the directory, or else its nearest existing parent (for the directory to appear).
Status FolderWatch::watch(Clock::MonoTime now) {
  fd_.reset();
  watching_dir_ = false;
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    Error e(Errc::io, std::string("inotify_init1: ") + std::strerror(errno));
    status_.connected = false;
    status_.last_error = e.what;
    retry_at_ = now + backoff_.next();
    return e;
  }
  const std::string& path = options_.folder.path;
  if (::inotify_add_watch(fd.get(), path.c_str(), kDirEvents) >= 0) {
    fd_ = std::move(fd);
    watching_dir_ = true;
    status_.connected = true;
    status_.last_error.clear();
    retry_at_.reset();
    backoff_.reset();
    return ok();
  }
  int err = errno;
  struct stat st {};
  Error e(Errc::io, path + ": " +
                        (err == ENOTDIR || (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
                             ? std::string("not a directory")
                             : std::strerror(err)));
  status_.connected = false;
  status_.last_error = e.what;
  // The nearest parent that exists: an entry appearing there may be (the way to) the folder.
  for (std::string p = parent_of(path);; p = parent_of(p)) {
    if (::inotify_add_watch(fd.get(), p.c_str(), kParentEvents) >= 0) {
      fd_ = std::move(fd);
      retry_at_.reset();
      return e;
    }
    if (p == "/") {
      break;
    }
  }
  retry_at_ = now + backoff_.next();
  return e;
}

void FolderWatch::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  // Big enough for many events at once; the kernel never splits one event across reads.
  alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
  bool gone = false;
  bool parent_changed = false;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN) {
        gone = true;
        status_.last_error = std::string("read inotify: ") + std::strerror(errno);
      }
      break;
    }
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + e->len;
      if ((e->mask & IN_Q_OVERFLOW) != 0) {
        log::warning(kModule, "input '" + options_.folder.name +
                                  "': inotify queue overflowed; files that arrived meanwhile were not seen");
        continue;
      }
      if (!watching_dir_) {
        parent_changed = true;  // something appeared (or went) where the folder should be
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
  }
  if (gone) {
    missing(now, "the directory was deleted or moved away", true);
  } else if (parent_changed) {
    missing(now, "", false);
  }
}

// Looks again: the directory may be back (then it is watched), else a parent is watched.
void FolderWatch::missing(Clock::MonoTime now, const std::string& why, bool was_connected) {
  if (was_connected) {
    log::warning(kModule,
                 "input '" + options_.folder.name + "': folder " + options_.folder.path + " missing: " + why);
  }
  Status st = watch(now);
  if (st.ok()) {
    log::info(kModule, "input '" + options_.folder.name + "': watching " + options_.folder.path);
  } else if (was_connected) {
    status_.last_error = why + " (" + st.error().what + ")";
  }
}

void FolderWatch::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  (void)out;
  if (retry_at_ && now >= *retry_at_) {
    missing(now, "", false);
  }
}

}  // namespace hal::linux_folder
