// SPDX-License-Identifier: Apache-2.0
// TtyScanner end to end over a pseudo-terminal: the test holds the master side (the
// "scanner"), the TtyScanner opens the slave through a symlink, as it would open a
// /dev/serial/by-id/ link. Closing the master is an unplug (the slave reads EIO / hangs up);
// a new pty behind the re-pointed symlink is the replug.
#include "hal/linux/tty_scanner.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "temp_dir.hpp"

using namespace std::chrono_literals;
using hal::linux_tty::TtyScanner;
using hal::linux_tty::TtyScannerOptions;

namespace {

const hal::Clock::MonoTime kT0{std::chrono::seconds(500)};

struct Pty {
  hal::UniqueFd master;
  std::string slave;
};

Pty open_pty() {
  Pty p;
  p.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  CHECK(p.master.valid());
  CHECK(::grantpt(p.master.get()) == 0);
  CHECK(::unlockpt(p.master.get()) == 0);
  char name[128] = {};
  CHECK(::ptsname_r(p.master.get(), name, sizeof name) == 0);
  p.slave = name;
  return p;
}

void point_link(const std::string& link, const std::string& target) {
  std::string tmp = link + ".new";
  ::unlink(tmp.c_str());
  CHECK(::symlink(target.c_str(), tmp.c_str()) == 0);
  CHECK(::rename(tmp.c_str(), link.c_str()) == 0);  // atomic, as udev replaces by-id links
}

// Waits until fd reports input or hangup, as the event loop would.
bool wait_ready(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

void send(const Pty& p, std::string_view bytes) {
  CHECK(::write(p.master.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST_GROUP(TtyScanner) {
  test_support::TempDir dir;
  std::string link = dir.file("usb-Datalogic_Scanner-if00");
  std::vector<hal::StationEvent> got;

  TtyScannerOptions options() {
    TtyScannerOptions o;
    o.name = "serial";
    o.device = link;
    o.baud = 115200;
    o.parity = TtyScannerOptions::Parity::even;
    o.data_bits = 7;
    o.framing.terminator = hal::SerialFramerOptions::Terminator::crlf;
    o.reopen_min = 100ms;
    o.reopen_max = 1s;
    return o;
  }
  // Reads everything the pty delivers (it may arrive in pieces): waits up to 2 s for the
  // first readiness, then until the line has been quiet for 50 ms or the scanner closed.
  void pump(TtyScanner & s, hal::Clock::MonoTime now) {
    CHECK_TRUE(wait_ready(s.fd(), 2000));
    do {
      s.on_readable(now, got);
    } while (s.fd() >= 0 && wait_ready(s.fd(), 50));
  }
};

TEST(TtyScanner, ConfiguresRawModeAndLineSettings) {
  Pty pty = open_pty();
  point_link(link, pty.slave);
  auto o = options();
  o.stop_bits = 2;
  TtyScanner scanner(o);
  CHECK(scanner.open(kT0).ok());
  termios tio{};
  LONGS_EQUAL(0, ::tcgetattr(scanner.fd(), &tio));
  // A pty forces CS8 and no parity whatever is asked (drivers/tty/pty.c), so data bits and
  // parity cannot be observed here; stop bits, speed and raw mode can.
  CHECK((tio.c_cflag & CSTOPB) != 0);
  CHECK((tio.c_cflag & CLOCAL) != 0);
  CHECK((tio.c_lflag & (ICANON | ECHO)) == 0);
  CHECK(::cfgetispeed(&tio) == B115200);
  CHECK((::fcntl(scanner.fd(), F_GETFL) & O_NONBLOCK) != 0);
  STRCMP_EQUAL(link.c_str(), scanner.status().path.c_str());
  CHECK(scanner.status().connected);
}

TEST(TtyScanner, ReadsScansThenSurvivesUnplugAndReplug) {
  Pty pty = open_pty();
  point_link(link, pty.slave);
  TtyScanner scanner(options());
  CHECK(scanner.open(kT0).ok());

  send(pty,
       "]C1010950110153000310L7\x1d"
       "21SN-1\r\nSN-2\r");
  pump(scanner, kT0);
  send(pty, "\n");
  pump(scanner, kT0 + 1ms);
  LONGS_EQUAL(2, got.size());
  STRCMP_EQUAL(
      "]C1010950110153000310L7\x1d"
      "21SN-1",
      got[0].text.c_str());
  STRCMP_EQUAL("]C1", got[0].symbology.value_or("").c_str());
  STRCMP_EQUAL("serial", got[0].input.c_str());
  STRCMP_EQUAL("SN-2", got[1].text.c_str());
  STRCMP_EQUAL("", got[1].error.c_str());

  // Unplug in the middle of a scan.
  send(pty, "SN-3");
  pump(scanner, kT0 + 2ms);
  pty.master.reset();
  pump(scanner, kT0 + 10ms);
  LONGS_EQUAL(3, got.size());
  STRCMP_EQUAL("SN-3", got[2].text.c_str());
  STRCMP_CONTAINS("disconnected during the scan", got[2].error.c_str());
  LONGS_EQUAL(-1, scanner.fd());
  CHECK_FALSE(scanner.status().connected);
  CHECK_FALSE(scanner.status().last_error.empty());
  CHECK(scanner.next_deadline() == kT0 + 110ms);

  // While it is away, attempts fail and back off.
  scanner.on_deadline(kT0 + 110ms, got);
  LONGS_EQUAL(-1, scanner.fd());
  CHECK(scanner.next_deadline() == kT0 + 310ms);

  // Replug: a new tty behind the same by-id link.
  Pty again = open_pty();
  point_link(link, again.slave);
  scanner.on_deadline(kT0 + 300ms, got);  // not due yet
  LONGS_EQUAL(-1, scanner.fd());
  scanner.on_deadline(kT0 + 310ms, got);
  CHECK(scanner.fd() >= 0);
  CHECK(scanner.status().connected);
  STRCMP_EQUAL("", scanner.status().last_error.c_str());
  send(again, "SN-4\r\n");
  pump(scanner, kT0 + 400ms);
  LONGS_EQUAL(4, got.size());
  STRCMP_EQUAL("SN-4", got[3].text.c_str());
  STRCMP_EQUAL("", got[3].error.c_str());
}

TEST(TtyScanner, GapDeadlineRejectsAStalledScan) {
  Pty pty = open_pty();
  point_link(link, pty.slave);
  TtyScanner scanner(options());
  CHECK(scanner.open(kT0).ok());
  send(pty, "SN-00");
  pump(scanner, kT0);
  CHECK(scanner.next_deadline() == kT0 + 250ms);
  scanner.on_deadline(kT0 + 250ms, got);
  LONGS_EQUAL(1, got.size());
  STRCMP_CONTAINS("incomplete read", got[0].error.c_str());
}

TEST(TtyScanner, NotATerminalAndBadOptions) {
  std::FILE* f = std::fopen(link.c_str(), "w");
  CHECK(f != nullptr);
  std::fclose(f);
  TtyScanner scanner(options());
  auto st = scanner.open(kT0);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("is not a terminal", st.error().what.c_str());
  auto o = options();
  o.baud = 12345;
  STRCMP_CONTAINS("baud 12345 not supported", TtyScanner::validate(o).error().what.c_str());
  o = options();
  o.data_bits = 9;
  CHECK_FALSE(TtyScanner::validate(o).ok());
  CHECK(TtyScanner::validate(options()).ok());
  CHECK(hal::linux_tty::parse_parity("odd").value() == TtyScannerOptions::Parity::odd);
  CHECK_FALSE(hal::linux_tty::parse_parity("mark").ok());
}
