// SPDX-License-Identifier: Apache-2.0
// EvdevScanner through recorded streams in regular files and FIFOs: the real reader must give
// exactly what the pure ScanAssembler gives for the same records, and handle the source going
// away and coming back. (Real /dev/input devices: tests/hw/evdev_uinput_test.cpp, in the VM.)
#include "hal/linux/evdev_scanner.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "evdev_streams.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using hal::linux_input::EvdevScanner;
using hal::linux_input::EvdevScannerOptions;

namespace {

const hal::Clock::MonoTime kT0{std::chrono::seconds(1000)};

struct Case {
  const char* file;
  const char* keymap;
  hal::ScanAssemblerOptions::Terminator terminator;
  std::uint16_t gs_key;
};

const Case kCases[] = {
    {"us_shift.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_capslock.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_gs1_ctrl_gs.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_altnumpad.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_gs_key_f8.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, KEY_F8},
    {"us_syn_dropped.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_control_char.evdev", "us", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"us_gap_only.evdev", "us", hal::ScanAssemblerOptions::Terminator::none, 0},
    {"de_keymap.evdev", "de", hal::ScanAssemblerOptions::Terminator::enter, 0},
    {"fr_keymap.evdev", "fr", hal::ScanAssemblerOptions::Terminator::enter, 0},
};

hal::ScanAssemblerOptions options_for(const Case& c) {
  auto o = test_streams::with_keymap(c.keymap);
  o.terminator = c.terminator;
  o.gs_key = c.gs_key;
  return o;
}

// The stream as this machine's evdev would deliver it.
std::string native_bytes(const char* file) {
  return hal::encode_input_records(test_streams::load(file), hal::RecordLayout::native);
}

EvdevScannerOptions scanner_options(const std::string& path, const Case& c) {
  EvdevScannerOptions o;
  o.name = "scanner";
  o.device = path;
  o.grab = true;  // EVIOCGRAB gives ENOTTY on files and FIFOs: must be tolerated
  o.scan = options_for(c);
  return o;
}

void check_same(const std::vector<hal::ScanRead>& expected, const std::vector<hal::StationEvent>& got,
                const char* file) {
  LONGS_EQUAL_TEXT(expected.size(), got.size(), file);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    STRCMP_EQUAL_TEXT(expected[i].text.c_str(), got[i].text.c_str(), file);
    STRCMP_EQUAL_TEXT(expected[i].error.c_str(), got[i].error.c_str(), file);
    STRCMP_EQUAL("scanner", got[i].input.c_str());
    CHECK(got[i].kind == hal::StationEvent::Kind::scan);
  }
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    CHECK(n > 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

TEST_GROUP(EvdevScanner) {
  test_support::TempDir dir;
};

TEST(EvdevScanner, RegularFileReplayDecodesLikeTheAssembler) {
  for (const auto& c : kCases) {
    std::string path = dir.file(c.file);
    std::ofstream(path, std::ios::binary) << native_bytes(c.file);
    EvdevScanner scanner(scanner_options(path, c));
    CHECK_TRUE_TEXT(scanner.open(kT0).ok(), c.file);
    CHECK(scanner.fd() >= 0);
    CHECK(scanner.status().connected);
    std::vector<hal::StationEvent> got;
    scanner.on_readable(kT0, got);
    check_same(test_streams::assemble(test_streams::load(c.file), options_for(c)), got, c.file);
    // The end of a recording ends the replay: missing, and no reopen (it would replay again).
    LONGS_EQUAL(-1, scanner.fd());
    CHECK_FALSE(scanner.status().connected);
    STRCMP_CONTAINS("end of recorded stream", scanner.status().last_error.c_str());
    CHECK_FALSE(scanner.next_deadline().has_value());
  }
}

TEST(EvdevScanner, FifoReplayWithSplitRecordsDecodesLikeTheAssembler) {
  for (const auto& c : kCases) {
    std::string path = dir.file(std::string(c.file) + ".fifo");
    LONGS_EQUAL(0, ::mkfifo(path.c_str(), 0600));
    EvdevScanner scanner(scanner_options(path, c));
    CHECK_TRUE_TEXT(scanner.open(kT0).ok(), c.file);
    hal::UniqueFd writer(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    CHECK(writer.valid());
    std::string bytes = native_bytes(c.file);
    std::vector<hal::StationEvent> got;
    for (std::size_t at = 0; at < bytes.size(); at += 7) {  // 7: never a whole record
      write_all(writer.get(), std::string_view(bytes).substr(at, 7));
      scanner.on_readable(kT0, got);
    }
    writer.reset();
    scanner.on_readable(kT0, got);  // EOF: the writer went away
    check_same(test_streams::assemble(test_streams::load(c.file), options_for(c)), got, c.file);
    CHECK_FALSE(scanner.status().connected);
  }
}

TEST(EvdevScanner, FifoWriterGoneIsMissingThenReopenedWithBackoff) {
  std::string path = dir.file("scanner.fifo");
  LONGS_EQUAL(0, ::mkfifo(path.c_str(), 0600));
  auto o = scanner_options(path, kCases[0]);
  o.reopen_min = 100ms;
  o.reopen_max = 400ms;
  EvdevScanner scanner(o);
  CHECK(scanner.open(kT0).ok());
  std::vector<hal::StationEvent> got;
  {
    hal::UniqueFd writer(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    write_all(writer.get(), native_bytes("us_shift.evdev"));
    scanner.on_readable(kT0, got);
  }
  LONGS_EQUAL(2, got.size());
  scanner.on_readable(kT0 + 1s, got);  // the writer closed: unplugged
  LONGS_EQUAL(-1, scanner.fd());
  CHECK_FALSE(scanner.status().connected);
  STRCMP_CONTAINS("writer closed", scanner.status().last_error.c_str());
  CHECK(scanner.next_deadline() == kT0 + 1s + 100ms);
  scanner.on_deadline(kT0 + 1s + 50ms, got);  // not due yet
  LONGS_EQUAL(-1, scanner.fd());
  // Make the path unopenable for one attempt: the backoff doubles.
  LONGS_EQUAL(0, ::rename(path.c_str(), (path + ".away").c_str()));
  scanner.on_deadline(kT0 + 1s + 100ms, got);
  LONGS_EQUAL(-1, scanner.fd());
  STRCMP_CONTAINS("No such file", scanner.status().last_error.c_str());
  CHECK(scanner.next_deadline() == kT0 + 1s + 300ms);
  LONGS_EQUAL(0, ::rename((path + ".away").c_str(), path.c_str()));
  scanner.on_deadline(kT0 + 1s + 300ms, got);
  CHECK(scanner.fd() >= 0);
  CHECK(scanner.status().connected);
  STRCMP_EQUAL("", scanner.status().last_error.c_str());
  hal::UniqueFd writer(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  write_all(writer.get(), native_bytes("us_capslock.evdev"));
  scanner.on_readable(kT0 + 2s, got);
  LONGS_EQUAL(3, got.size());
  STRCMP_EQUAL("ABC-123de!", got[2].text.c_str());
}

TEST(EvdevScanner, InterKeyGapDeadlineEndsAStalledScan) {
  std::string path = dir.file("gap.fifo");
  LONGS_EQUAL(0, ::mkfifo(path.c_str(), 0600));
  EvdevScanner scanner(scanner_options(path, kCases[0]));
  CHECK(scanner.open(kT0).ok());
  hal::UniqueFd writer(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  auto events = test_streams::load("us_shift.evdev");
  events.resize(12);  // S (with Shift) pressed and released: a scan in progress, no Enter
  write_all(writer.get(), hal::encode_input_records(events, hal::RecordLayout::native));
  std::vector<hal::StationEvent> got;
  scanner.on_readable(kT0, got);
  LONGS_EQUAL(0, got.size());
  CHECK(scanner.next_deadline() == kT0 + 250ms);
  scanner.on_deadline(kT0 + 249ms, got);
  LONGS_EQUAL(0, got.size());
  scanner.on_deadline(kT0 + 250ms, got);
  LONGS_EQUAL(1, got.size());
  STRCMP_EQUAL("S", got[0].text.c_str());
  STRCMP_CONTAINS("without its terminator", got[0].error.c_str());
  CHECK_FALSE(scanner.next_deadline().has_value());
}

TEST(EvdevScanner, MissingDeviceIsReportedAndRetried) {
  std::string path = dir.file("by-id-scanner");
  EvdevScanner scanner(scanner_options(path, kCases[0]));
  auto st = scanner.open(kT0);
  CHECK_FALSE(st.ok());
  CHECK(st.error().code == hal::Errc::not_found);
  STRCMP_CONTAINS(path.c_str(), st.error().what.c_str());
  CHECK_FALSE(scanner.status().connected);
  STRCMP_CONTAINS("No such file", scanner.status().last_error.c_str());
  CHECK(scanner.next_deadline() == kT0 + 250ms);
  std::ofstream(path, std::ios::binary) << native_bytes("us_shift.evdev");
  std::vector<hal::StationEvent> got;
  scanner.on_deadline(kT0 + 250ms, got);
  CHECK(scanner.status().connected);
  scanner.on_readable(kT0 + 250ms, got);
  LONGS_EQUAL(2, got.size());
}

TEST(EvdevScanner, UsbIdSearchReportsWhatItLookedFor) {
  EvdevScannerOptions o;
  o.vendor = 0x05e0;
  o.product = 0x1200;
  o.input_dir = dir.path();
  EvdevScanner scanner(o);
  auto st = scanner.open(kT0);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("no input device with USB id 05e0:1200", st.error().what.c_str());
  STRCMP_EQUAL("usb 05e0:1200", scanner.status().path.c_str());
}

TEST(EvdevScanner, OptionsAreValidated) {
  EvdevScannerOptions o;
  CHECK_FALSE(EvdevScanner::validate(o).ok());
  o.device = "/dev/input/by-id/x";
  CHECK(EvdevScanner::validate(o).ok());
  o.scan.terminator = hal::ScanAssemblerOptions::Terminator::none;
  o.scan.gap = 0ms;
  STRCMP_CONTAINS("needs gap_ms", EvdevScanner::validate(o).error().what.c_str());
  std::uint16_t v = 0, p = 0;
  CHECK(hal::linux_input::parse_usb_id("0C2E:0B61", v, p).ok());
  LONGS_EQUAL(0x0c2e, v);
  LONGS_EQUAL(0x0b61, p);
  CHECK_FALSE(hal::linux_input::parse_usb_id("0c2e", v, p).ok());
  CHECK_FALSE(hal::linux_input::parse_usb_id("0c2e:xyz1", v, p).ok());
}
