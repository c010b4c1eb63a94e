// SPDX-License-Identifier: Apache-2.0
// EvdevScanner against real kernel input devices: each test creates a uinput keyboard with a
// scanner-like USB VID:PID, types barcodes into it, and checks that the scanner finds it by
// VID:PID, grabs it (another reader sees nothing), decodes each scan, and survives the device
// being destroyed and created again (hotplug) while it runs. Needs /dev/uinput and devtmpfs
// on /dev (root, inside the VM runner); not part of the unit suite.
#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "hal/linux/evdev_scanner.hpp"
#include "uinput_keyboard.hpp"

using namespace std::chrono_literals;
using hal::linux_input::EvdevScanner;
using hal::linux_input::EvdevScannerOptions;
using hw::kVendor;
using hw::UinputKeyboard;

namespace {

hal::SystemClock g_clock;

EvdevScannerOptions options_for(std::uint16_t product, const char* keymap = "us") {
  EvdevScannerOptions o;
  o.name = "scanner";
  o.vendor = kVendor;
  o.product = product;
  o.grab = true;
  o.scan.keymap = hal::Keymap::by_name(keymap).value();
  o.reopen_min = 20ms;
  o.reopen_max = 200ms;
  return o;
}

// Opens the scanner, giving devtmpfs up to 3 s to create the node.
void open_within(EvdevScanner& s) {
  auto until = g_clock.mono() + 3s;
  while (!s.open(g_clock.mono()).ok() && g_clock.mono() < until) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK_TRUE_TEXT(s.status().connected, s.status().last_error.c_str());
}

// Runs the scanner as the event loop would until `n` events arrived or 3 s passed.
std::vector<hal::StationEvent> run_until(EvdevScanner& s, std::size_t n) {
  std::vector<hal::StationEvent> out;
  auto until = g_clock.mono() + 3s;
  while (out.size() < n && g_clock.mono() < until) {
    if (s.fd() >= 0) {
      pollfd p{s.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) == 1) {
        s.on_readable(g_clock.mono(), out);
      }
    } else {
      std::this_thread::sleep_for(10ms);
    }
    auto d = s.next_deadline();
    if (d && g_clock.mono() >= *d) {
      s.on_deadline(g_clock.mono(), out);
    }
  }
  return out;
}

// Reads whatever the device has right now (uinput delivers synchronously on write).
void read_now(EvdevScanner& s, std::vector<hal::StationEvent>& out) {
  pollfd p{s.fd(), POLLIN, 0};
  if (s.fd() >= 0 && ::poll(&p, 1, 0) == 1) {
    s.on_readable(g_clock.mono(), out);
  }
}

// Reads what arrives for `d` (key events of a scan in progress; nothing complete expected).
std::vector<hal::StationEvent> pump_for(EvdevScanner& s, std::chrono::milliseconds d) {
  std::vector<hal::StationEvent> out;
  auto until = g_clock.mono() + d;
  while (g_clock.mono() < until) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, 10) == 1) {
      s.on_readable(g_clock.mono(), out);
    }
  }
  return out;
}

// Runs the scanner until it reports connected == want (3 s at most).
void run_until_connected(EvdevScanner& s, bool want) {
  auto until = g_clock.mono() + 3s;
  std::vector<hal::StationEvent> ignored;
  while (s.status().connected != want && g_clock.mono() < until) {
    if (s.fd() >= 0) {
      pollfd p{s.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) == 1) {
        s.on_readable(g_clock.mono(), ignored);
      }
    } else {
      std::this_thread::sleep_for(10ms);
      auto d = s.next_deadline();
      if (d && g_clock.mono() >= *d) {
        s.on_deadline(g_clock.mono(), ignored);
      }
    }
  }
  CHECK_EQUAL_TEXT(want, s.status().connected, s.status().last_error.c_str());
}

}  // namespace

TEST_GROUP(EvdevUinput){};

TEST(EvdevUinput, FindsByVidPidGrabsAndDecodesShiftAndGs) {
  UinputKeyboard kbd(0x5c01);
  EvdevScanner scanner(options_for(0x5c01));
  open_within(scanner);
  STRCMP_CONTAINS("/event", scanner.status().path.c_str());
  hal::UniqueFd other(::open(scanner.status().path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  CHECK(other.valid());

  std::vector<hal::StationEvent> got;
  kbd.after_tap = [&] { read_now(scanner, got); };
  kbd.type_us("SN-000123");
  kbd.tap(KEY_ENTER);
  kbd.type_us("]C10109501101530003");
  kbd.type_us("10LOT7");
  kbd.tap(KEY_RIGHTBRACE, KEY_LEFTCTRL);  // GS as Ctrl+]
  kbd.type_us("21Sn9");
  kbd.tap(KEY_ENTER);

  LONGS_EQUAL(2, got.size());
  STRCMP_EQUAL("SN-000123", got[0].text.c_str());
  STRCMP_EQUAL("", got[0].error.c_str());
  STRCMP_EQUAL(
      "]C1010950110153000310LOT7\x1d"
      "21Sn9",
      got[1].text.c_str());
  STRCMP_EQUAL("]C1", got[1].symbology.value_or("").c_str());

  // While grabbed, the events went to the scanner only: a console would have seen nothing.
  input_event ev{};
  ssize_t n = ::read(other.get(), &ev, sizeof ev);
  int err = errno;
  CHECK_EQUAL(-1, n);
  CHECK_EQUAL(EAGAIN, err);
}

TEST(EvdevUinput, GermanKeymapIsIndependentOfTheHost) {
  UinputKeyboard kbd(0x5c02);
  EvdevScanner scanner(options_for(0x5c02, "de"));
  open_within(scanner);
  kbd.tap(KEY_Y, KEY_LEFTSHIFT);  // Z on QWERTZ
  kbd.tap(KEY_Z);                 // y
  kbd.tap(KEY_SLASH);             // -
  kbd.tap(KEY_7, KEY_LEFTSHIFT);  // /
  kbd.tap(KEY_APOSTROPHE);        // ä
  kbd.tap(KEY_Q, KEY_RIGHTALT);   // @ (AltGr)
  kbd.tap(KEY_ENTER);
  auto got = run_until(scanner, 1);
  LONGS_EQUAL(1, got.size());
  STRCMP_EQUAL("Zy-/\xC3\xA4@", got[0].text.c_str());
}

TEST(EvdevUinput, SurvivesUnplugAndReplug) {
  auto o = options_for(0x5c03);
  o.scan.gap = 10s;  // the half scan must still be open when the device goes away
  EvdevScanner scanner(o);
  {
    UinputKeyboard kbd(0x5c03);
    open_within(scanner);
    kbd.type_us("PART1");
    kbd.tap(KEY_ENTER);
    auto got = run_until(scanner, 1);
    LONGS_EQUAL(1, got.size());
    STRCMP_EQUAL("PART1", got[0].text.c_str());
    kbd.type_us("HALF");                              // unplugged in the middle of a scan
    LONGS_EQUAL(0, pump_for(scanner, 200ms).size());  // the keys are read; nothing complete
    kbd.destroy();
    auto cut = run_until(scanner, 1);
    LONGS_EQUAL(1, cut.size());
    STRCMP_EQUAL("HALF", cut[0].text.c_str());
    STRCMP_CONTAINS("disconnected during the scan", cut[0].error.c_str());
  }
  CHECK_FALSE(scanner.status().connected);
  LONGS_EQUAL(-1, scanner.fd());
  CHECK(scanner.next_deadline().has_value());

  UinputKeyboard again(0x5c03);
  run_until_connected(scanner, true);
  again.type_us("PART2");
  again.tap(KEY_ENTER);
  auto got = run_until(scanner, 1);
  LONGS_EQUAL(1, got.size());
  STRCMP_EQUAL("PART2", got[0].text.c_str());
}

TEST(EvdevUinput, BufferOverflowGivesSynDroppedAndNoWrongScan) {
  UinputKeyboard kbd(0x5c04);
  EvdevScanner scanner(options_for(0x5c04));
  open_within(scanner);
  // 36 shifted characters = 288 events typed with nobody reading: far past evdev's buffer.
  kbd.type_us("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  kbd.tap(KEY_ENTER);
  auto got = run_until(scanner, 1);
  LONGS_EQUAL(1, got.size());
  STRCMP_CONTAINS("SYN_DROPPED", got[0].error.c_str());
  LONGS_EQUAL(0, pump_for(scanner, 300ms).size());  // the tail of the lost scan is no scan
  kbd.after_tap = [&] { read_now(scanner, got); };
  kbd.type_us("OK1");
  kbd.tap(KEY_ENTER);
  LONGS_EQUAL(2, got.size());
  STRCMP_EQUAL("OK1", got[1].text.c_str());
  STRCMP_EQUAL("", got[1].error.c_str());
}
