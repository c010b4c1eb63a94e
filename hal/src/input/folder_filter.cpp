// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hal/c_handle.hpp"
#include "hal/folder.hpp"

namespace hal {

std::string base_name(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool FolderFilter::matches(const std::string& name) const {
  return fnmatch(options_.pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
}

std::optional<StationEvent> FolderFilter::examine(const std::string& name, Clock::MonoTime now) const {
  if (name.empty() || name[0] == '.') {
    return std::nullopt;
  }
  StationEvent ev;
  ev.kind = StationEvent::Kind::file;
  ev.input = options_.name;
  ev.text = options_.path + (options_.path.empty() || options_.path.back() == '/' ? "" : "/") + name;
  ev.at = now;
  if (!matches(name)) {
    ev.error = "pattern mismatch: '" + name + "' is not '" + options_.pattern + "'";
    return ev;
  }
  // Opened as the agent will open it when it copies the file: no symlinks, no blocking on a
  // FIFO someone dropped in the folder.
  UniqueFd fd(::open(ev.text.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    ev.error = std::string("unreadable: ") + std::strerror(errno);
    return ev;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    ev.error = std::string("unreadable: ") + std::strerror(errno);
    return ev;
  }
  if (!S_ISREG(st.st_mode)) {
    ev.error = "unreadable: not a regular file";
    return ev;
  }
  if (static_cast<std::uint64_t>(st.st_size) > options_.max_bytes) {
    ev.error = "too large: " + std::to_string(st.st_size) + " bytes (max_bytes " +
               std::to_string(options_.max_bytes) + ")";
    return ev;
  }
  char buf[kFirstLineMax];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0) {
    ev.error = std::string("unreadable: ") + std::strerror(errno);
    return ev;
  }
  std::string head(buf, static_cast<std::size_t>(n));
  head = head.substr(0, head.find('\n'));
  if (!head.empty() && head.back() == '\r') {
    head.pop_back();
  }
  ev.first_line = std::move(head);
  return ev;
}

}  // namespace hal
