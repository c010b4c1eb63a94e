// SPDX-License-Identifier: Apache-2.0
#include "state_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

namespace firmware {
namespace {

constexpr const char* kLockName = "ion-agent.lock";

StateLock::Holder read_holder(int fd) {
  StateLock::Holder h;
  char buf[128];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return h;
  }
  buf[n] = '\0';
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  if (end == buf || pid <= 0 || pid > INT_MAX) {
    return h;
  }
  h.pid = static_cast<pid_t>(pid);
  std::string rest(end);
  while (!rest.empty() && (rest.front() == ' ')) {
    rest.erase(0, 1);
  }
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) {
    rest.pop_back();
  }
  h.command = rest;
  return h;
}

// Run as root (`sudo ion-agent provision`), the lock file would be root's, 0600, and the
// daemon (User=ion-agent) could no longer open it: exit 19 in a restart loop. So it belongs
// to the state directory's owner, as every file written there (agent/common/atomic_file.cpp).
void give_to_dir_owner(int fd, const char* dir) {
  struct stat ds {};
  struct stat fs {};
  if (::geteuid() == 0 && ::stat(dir, &ds) == 0 && ds.st_uid != 0 && ::fstat(fd, &fs) == 0 &&
      (fs.st_uid != ds.st_uid || fs.st_gid != ds.st_gid)) {
    (void)!::fchown(fd, ds.st_uid, ds.st_gid);  // if not, the daemon's open names the cause
  }
}

}  // namespace

std::string StateLock::path_for(const std::string& state_dir) {
  char resolved[PATH_MAX];
  if (::realpath(state_dir.c_str(), resolved) != nullptr) {
    return std::string(resolved) + "/" + kLockName;
  }
  return state_dir + "/" + kLockName;
}

hal::Result<StateLock> StateLock::acquire(const std::string& state_dir, std::string_view command,
                                          Holder* holder) {
  char resolved[PATH_MAX];
  if (::realpath(state_dir.c_str(), resolved) == nullptr) {
    return hal::errno_error(hal::Errc::io, "state directory " + state_dir, errno);
  }
  std::string path = std::string(resolved) + "/" + kLockName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return hal::errno_error(hal::Errc::io, "lock " + path, errno);
  }
  StateLock lock(fd, path);
  give_to_dir_owner(fd, resolved);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      Holder h = read_holder(fd);
      if (holder != nullptr) {
        *holder = h;
      }
      return hal::Error(hal::Errc::busy, describe(h, path));
    }
    return hal::errno_error(hal::Errc::io, "lock " + path, e);
  }
  std::string who = std::to_string(::getpid()) + " " + std::string(command) + "\n";
  // Best effort: the lock is what counts, the text only names the holder.
  if (::ftruncate(fd, 0) == 0) {
    (void)!::pwrite(fd, who.data(), who.size(), 0);
  }
  return lock;
}

std::string describe(const StateLock::Holder& h, const std::string& lock_path) {
  std::string who = "another ion-agent " + (h.command.empty() ? std::string("process") : h.command);
  who += h.pid > 0 ? " (PID " + std::to_string(h.pid) + ")" : std::string(" (PID not recorded yet)");
  return who + " holds " + lock_path;
}

StateLock::StateLock(StateLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the flock
  }
}

}  // namespace firmware
