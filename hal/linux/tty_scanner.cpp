// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/tty_scanner.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "hal/log.hpp"

namespace hal::linux_tty {
namespace {

constexpr std::string_view kModule = "serial";

speed_t speed_for(unsigned baud) {
  switch (baud) {
    case 1200:
      return B1200;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 921600:
      return B921600;
    default:
      return B0;
  }
}

}  // namespace

Result<TtyScannerOptions::Parity> parse_parity(std::string_view name) {
  using P = TtyScannerOptions::Parity;
  if (name == "none") {
    return P::none;
  }
  if (name == "even") {
    return P::even;
  }
  if (name == "odd") {
    return P::odd;
  }
  return Error(Errc::config, "serial: unknown parity '" + std::string(name) + "' (none, even, odd)");
}

TtyScanner::TtyScanner(TtyScannerOptions options)
    : options_(std::move(options)),
      framer_(options_.framing),
      reopen_(kModule, options_.name, options_.device, Backoff(options_.reopen_min, options_.reopen_max)) {}

Status TtyScanner::validate(const TtyScannerOptions& o) {
  std::string where = "serial: input '" + o.name + "': ";
  if (o.device.empty()) {
    return Error(Errc::config, where + "needs \"device\"");
  }
  if (speed_for(o.baud) == B0) {
    return Error(Errc::config, where + "baud " + std::to_string(o.baud) +
                                   " not supported (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, "
                                   "230400, 460800, 921600)");
  }
  if (o.data_bits < 5 || o.data_bits > 8) {
    return Error(Errc::config, where + "data_bits must be 5..8");
  }
  if (o.stop_bits != 1 && o.stop_bits != 2) {
    return Error(Errc::config, where + "stop_bits must be 1 or 2");
  }
  if (o.framing.max_length == 0) {
    return Error(Errc::config, where + "max_length must be at least 1");
  }
  if (o.framing.terminator == SerialFramerOptions::Terminator::none && o.framing.gap.count() <= 0) {
    return Error(Errc::config, where + "terminator \"none\" needs gap_ms > 0");
  }
  if (o.reopen_min.count() <= 0) {
    return Error(Errc::config, where + "reopen_min_ms must be positive");
  }
  return ok();
}

Status TtyScanner::open(Clock::MonoTime now) {
  Status st = open_and_configure();
  if (!st.ok()) {
    reopen_.open_failed(now, st.error());
  }
  return st;
}

Result<UniqueFd> open_tty(const TtyScannerOptions& options, int access) {
  const std::string& path = options.device;
  // O_NOCTTY: a session leader opening a tty would otherwise acquire it as controlling
  // terminal, and a later hangup would send us SIGHUP.
  UniqueFd fd(::open(path.c_str(), access | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    Error e = errno_error(err == ENOENT ? Errc::not_found : Errc::io, "serial: open " + path, err);
    if (err == EACCES) {
      e.what += " (is the service user in group 'dialout'?)";
    }
    return e;
  }
  termios tio{};
  if (::tcgetattr(fd.get(), &tio) != 0) {
    return errno_error(Errc::config, "serial: " + path + " is not a terminal", errno);
  }
  // Exclusive mode: while we hold the scanner, nobody else (a modem prober, a stray terminal
  // program) can open it and steal or corrupt its bytes. Best effort; root can override it.
  (void)::ioctl(fd.get(), TIOCEXCL);
  ::cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  static constexpr tcflag_t kSize[] = {CS5, CS6, CS7, CS8};
  tio.c_cflag |= kSize[options.data_bits - 5];
  if (options.stop_bits == 2) {
    tio.c_cflag |= CSTOPB;
  }
  if (options.parity != TtyScannerOptions::Parity::none) {
    // INPCK without IGNPAR: a byte with a parity error reads as NUL, which the framer rejects
    // as a control character, so a garbled scan gives a red light instead of a wrong serial.
    tio.c_cflag |= PARENB | (options.parity == TtyScannerOptions::Parity::odd ? PARODD : 0);
    tio.c_iflag |= INPCK;
  }
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  speed_t speed = speed_for(options.baud);
  if (::cfsetispeed(&tio, speed) != 0 || ::cfsetospeed(&tio, speed) != 0 ||
      ::tcsetattr(fd.get(), TCSANOW, &tio) != 0) {
    return errno_error(Errc::io, "serial: configure " + path, errno);
  }
  return fd;
}

Status TtyScanner::open_and_configure() {
  const std::string& path = options_.device;
  auto opened = open_tty(options_, O_RDONLY);
  if (!opened.ok()) {
    return std::move(opened).error();
  }
  UniqueFd fd = std::move(opened).value();
  fd_ = std::move(fd);
  framer_.reset();
  reopen_.opened(path);
  log::info(kModule,
            "input '" + options_.name + "': opened " + path + " at " + std::to_string(options_.baud));
  return ok();
}

std::optional<Clock::MonoTime> TtyScanner::next_deadline() const {
  if (!fd_.valid()) {
    return reopen_.deadline();
  }
  auto last = framer_.last_byte();
  if (framer_.pending() && last && options_.framing.gap.count() > 0) {
    return *last + options_.framing.gap;
  }
  return std::nullopt;
}

void TtyScanner::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  if (!fd_.valid()) {
    return;
  }
  std::vector<ScanRead> reads;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    int err = errno;
    if (n > 0) {
      framer_.feed(std::string_view(buf, static_cast<std::size_t>(n)), now, reads);
      continue;
    }
    if (n < 0 && err == EINTR) {
      continue;
    }
    if (n < 0 && err == EAGAIN) {
      break;
    }
    // 0 bytes on a non-blocking tty is a hangup (device gone); EIO/ENODEV likewise.
    const std::string& path = reopen_.status().path;
    lost(now,
         n == 0 ? "serial: read " + path + ": hangup"
                : errno_error(Errc::io, "serial: read " + path, err).what,
         reads);
    break;
  }
  append_scan_events(reads, options_.name, now, out);
}

void TtyScanner::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::vector<ScanRead> reads;
  auto deadline = next_deadline();
  if (fd_.valid() && framer_.pending() && deadline && now >= *deadline) {
    framer_.flush_idle(reads);
  }
  if (!fd_.valid()) {
    reopen_.retry_if_due(now, [&] { return open(now); });
  }
  append_scan_events(reads, options_.name, now, out);
}

void TtyScanner::lost(Clock::MonoTime now, std::string why, std::vector<ScanRead>& reads) {
  // A scan cut by the unplug is reported as rejected, never dropped and never passed as whole.
  framer_.abandon("scanner disconnected during the scan (" + why + ")", reads);
  fd_.reset();
  reopen_.lost(now, std::move(why));
}

}  // namespace hal::linux_tty
