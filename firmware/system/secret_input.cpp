// SPDX-License-Identifier: Apache-2.0
#include "secret_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace firmware {
namespace {

// Restores the terminal however the read ends.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) == 0) {
      termios t = saved_;
      t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      t.c_lflag |= ECHONL;
      active_ = ::tcsetattr(fd_, TCSAFLUSH, &t) == 0;
    }
  }
  ~EchoOff() {
    if (active_) {
      ::tcsetattr(fd_, TCSANOW, &saved_);  // keep type-ahead (the next value)
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

hal::Status read_secret_line(int fd, const char* prompt, const char* what, agent::Secret& out) {
  out.clear();
  const bool tty = ::isatty(fd) == 1;
  // Echo goes off (flushing stale input) before the prompt appears, so nothing typed after
  // the prompt is lost or shown.
  EchoOff echo_off_if_tty(tty ? fd : -1);
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
  }
  bool got_any = false;
  bool bad_byte = false;
  for (;;) {
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      out.clear();
      return hal::errno_error(hal::Errc::io, std::string("provision: read ") + what, errno);
    }
    if (n == 0) {
      break;  // EOF: accept a last line without "\n"
    }
    got_any = true;
    if (c == '\n') {
      break;
    }
    auto u = static_cast<unsigned char>(c);
    bad_byte |= (u <= 0x20 || u >= 0x7f) && c != '\r';
    if (!out.append(std::string_view(&c, 1))) {
      out.clear();
      return hal::Error(hal::Errc::parse, std::string("provision: ") + what + " is longer than " +
                                              std::to_string(agent::Secret::kCapacity) + " bytes");
    }
    c = 0;
  }
  if (!out.empty() && out.reveal().back() == '\r') {
    out.truncate(out.size() - 1);
  }
  if (!got_any || out.empty()) {
    out.clear();
    return hal::Error(hal::Errc::parse,
                      std::string("provision: no ") + what +
                          " on stdin (expected: client id, then client secret, one per line)");
  }
  if (bad_byte || out.reveal().find('\r') != std::string_view::npos) {
    out.clear();
    return hal::Error(hal::Errc::parse,
                      std::string("provision: ") + what +
                          " contains spaces, control or non-ASCII characters; paste it exactly "
                          "as ION shows it");
  }
  return {};
}

}  // namespace firmware
