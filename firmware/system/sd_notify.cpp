// SPDX-License-Identifier: Apache-2.0
#include "sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "hal/log.hpp"

namespace firmware {

SdNotify SdNotify::from_environment() {
  SdNotify n;
  const char* sock = std::getenv("NOTIFY_SOCKET");
  if (sock != nullptr && (sock[0] == '/' || sock[0] == '@') &&
      std::strlen(sock) < sizeof(sockaddr_un::sun_path)) {
    n.path_ = sock;
  }
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  bool ours = pid == nullptr || std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid());
  if (usec != nullptr && ours) {
    long long us = std::strtoll(usec, nullptr, 10);
    if (us > 0) {
      // systemd recommends pinging at half the timeout.
      n.watchdog_ = std::chrono::milliseconds(us / 2000 > 0 ? us / 2000 : 1);
    }
  }
  return n;
}

bool SdNotify::send(std::string_view message) {
  if (path_.empty()) {
    return false;
  }
  if (!fd_.valid()) {
    fd_ = hal::UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  if (path_[0] == '@') {
    addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    len += 1;
  }
  // MSG_DONTWAIT: the loop must never block on the notify socket. A manager that stops reading
  // (its datagram queue full) would otherwise freeze every delivery and input (found by the
  // benchmark, whose listener read READY=1 only); a lost STATUS= line is harmless.
  ssize_t n = fd_.valid() ? ::sendto(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                     reinterpret_cast<const sockaddr*>(&addr), len)
                          : -1;
  if (n < 0 && !warned_) {
    warned_ = true;
    hal::log::warning("systemd", std::string("notify: send to ") + path_ + ": " + std::strerror(errno));
  }
  return n >= 0;
}

}  // namespace firmware
