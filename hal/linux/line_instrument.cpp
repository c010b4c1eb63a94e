// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/line_instrument.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "hal/log.hpp"

namespace hal::linux_instrument {
namespace {

constexpr std::string_view kModule = "instrument";
constexpr std::chrono::milliseconds kConnectPoll{100};

bool split_host_port(const std::string& s, std::string& host, std::string& port) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) {
    return false;
  }
  host = s.substr(0, colon);
  port = s.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);  // [::1]:5025
  }
  return port.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

LineInstrument::LineInstrument(LineInstrumentOptions options)
    : options_(std::move(options)),
      session_(options_.session),
      reopen_(kModule, options_.session.name, where(), Backoff(options_.reopen_min, options_.reopen_max)) {}

std::string LineInstrument::where() const {
  return options_.tcp.empty() ? options_.serial.device : "tcp " + options_.tcp;
}

Status LineInstrument::validate(const LineInstrumentOptions& o) {
  std::string at = "instrument: input '" + o.session.name + "': ";
  if (o.tcp.empty() == o.serial.device.empty()) {
    return Error(Errc::config, at + "needs exactly one of a serial port or tcp host:port");
  }
  if (!o.tcp.empty()) {
    std::string host, port;
    if (!split_host_port(o.tcp, host, port)) {
      return Error(Errc::config, at + "tcp: expected host:port");
    }
  } else {
    linux_tty::TtyScannerOptions s = o.serial;
    s.framing.terminator = SerialFramerOptions::Terminator::lf;
    ION_TRY(linux_tty::TtyScanner::validate(s), "instrument");
  }
  if (o.session.mode == InstrumentOptions::Mode::query && o.session.command.empty()) {
    return Error(Errc::config, at + "mode query needs a command");
  }
  if (o.session.timeout.count() <= 0 || o.session.max_length == 0 || o.reopen_min.count() <= 0) {
    return Error(Errc::config, at + "timeout, max_length and reopen_min must be positive");
  }
  return ok();
}

Status LineInstrument::open(Clock::MonoTime now) {
  Status st = options_.tcp.empty() ? open_serial() : start_connect(now);
  if (!st.ok()) {
    reopen_.open_failed(now, st.error());
  }
  return st;
}

Status LineInstrument::open_serial() {
  auto fd = linux_tty::open_tty(options_.serial, O_RDWR);
  if (!fd.ok()) {
    return std::move(fd).error();
  }
  fd_ = std::move(fd).value();
  reopen_.opened(options_.serial.device);
  log::info(kModule, "input '" + options_.session.name + "': opened " + options_.serial.device + " at " +
                         std::to_string(options_.serial.baud));
  return ok();
}

Status LineInstrument::start_connect(Clock::MonoTime now) {
  std::string host, port;
  if (!split_host_port(options_.tcp, host, port)) {
    return Error(Errc::config, "instrument: tcp " + options_.tcp + ": expected host:port");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Error(Errc::not_found, "instrument: tcp " + options_.tcp + ": " + ::gai_strerror(rc));
  }
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    int err = errno;
    ::freeaddrinfo(res);
    return errno_error(Errc::io, "instrument: socket", err);
  }
  int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  rc = ::connect(fd.get(), res->ai_addr, res->ai_addrlen);
  int err = errno;
  ::freeaddrinfo(res);
  if (rc != 0 && err != EINPROGRESS) {
    return errno_error(Errc::io, "instrument: connect " + options_.tcp, err);
  }
  fd_ = std::move(fd);
  connecting_ = true;
  connect_started_ = now;
  next_connect_check_ = now;
  return ok();
}

// A connect that did not complete is a failed open (logged at debug by the schedule), not a
// loss: a tester switched off is retried with backoff without a warning per attempt.
void LineInstrument::connect_failed(Clock::MonoTime now, const Error& why) {
  fd_.reset();
  connecting_ = false;
  reopen_.open_failed(now, why);
}

void LineInstrument::check_connect(Clock::MonoTime now) {
  pollfd p{fd_.get(), POLLOUT, 0};
  int n = ::poll(&p, 1, 0);
  if (n == 1) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      err = errno;
    }
    if (err != 0) {
      connect_failed(now, errno_error(Errc::io, "instrument: connect " + options_.tcp, err));
      return;
    }
    connecting_ = false;
    reopen_.opened("tcp " + options_.tcp);
    log::info(kModule, "input '" + options_.session.name + "': connected to " + options_.tcp);
    return;
  }
  if (now - connect_started_ >= options_.connect_timeout) {
    connect_failed(now, Error(Errc::timeout, "instrument: connect " + options_.tcp + ": timed out"));
    return;
  }
  next_connect_check_ = now + kConnectPoll;
}

std::optional<Clock::MonoTime> LineInstrument::next_deadline() const {
  if (!pending_.empty()) {
    return Clock::MonoTime{};  // due at once
  }
  if (!fd_.valid()) {
    return reopen_.deadline();
  }
  if (connecting_) {
    return next_connect_check_;
  }
  return session_.deadline();
}

void LineInstrument::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  if (!fd_.valid() || connecting_) {
    return;
  }
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    int err = errno;
    if (n > 0) {
      session_.feed(std::string_view(buf, static_cast<std::size_t>(n)), now, out);
      continue;
    }
    if (n < 0 && err == EINTR) {
      continue;
    }
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
      break;
    }
    lost(now,
         n == 0 ? "instrument: read " + where() + ": hangup"
                : errno_error(Errc::io, "instrument: read " + where(), err).what,
         out);
    break;
  }
}

void LineInstrument::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  for (auto& e : pending_) {
    out.push_back(std::move(e));
  }
  pending_.clear();
  if (fd_.valid() && connecting_ && now >= next_connect_check_) {
    check_connect(now);
  }
  if (fd_.valid() && !connecting_) {
    session_.on_deadline(now, out);
  }
  if (!fd_.valid()) {
    reopen_.retry_if_due(now, [&] { return open(now); });
  }
}

void LineInstrument::query(Clock::MonoTime now) {
  if (!fd_.valid() || connecting_) {
    std::string why = reopen_.status().last_error;
    session_.fail_query("not connected" + (why.empty() ? std::string() : " (" + why + ")"), now, pending_);
    return;
  }
  // Discard what is already buffered: it was sent before the question.
  if (options_.tcp.empty()) {
    (void)::tcflush(fd_.get(), TCIFLUSH);
  }
  std::vector<StationEvent> stale;
  on_readable(now, stale);  // a late reply is dropped by the session (no query waiting)
  for (auto& e : stale) {
    pending_.push_back(std::move(e));  // only errors (a hangup while draining) come out here
  }
  if (!fd_.valid()) {
    if (pending_.empty()) {
      session_.fail_query("not connected", now, pending_);
    }
    return;
  }
  auto bytes = session_.start_query(now, pending_);
  if (!bytes) {
    return;
  }
  ssize_t n;
  do {
    // MSG_NOSIGNAL: a peer that closed must give EPIPE here, not a SIGPIPE to the daemon.
    n = options_.tcp.empty() ? ::write(fd_.get(), bytes->data(), bytes->size())
                             : ::send(fd_.get(), bytes->data(), bytes->size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(bytes->size())) {
    int err = errno;
    session_.fail_query(n < 0 ? errno_error(Errc::io, "instrument: send to " + where(), err).what
                              : "instrument: send to " + where() + ": short write",
                        now, pending_);
  }
}

void LineInstrument::lost(Clock::MonoTime now, const std::string& why, std::vector<StationEvent>& out) {
  session_.lost(why, now, out);
  fd_.reset();
  connecting_ = false;
  reopen_.lost(now, why);
}

}  // namespace hal::linux_instrument
