// SPDX-License-Identifier: Apache-2.0
// TtyScanner: a serial or USB CDC-ACM barcode scanner (/dev/ttyACM0, /dev/ttyUSB0, better a
// /dev/serial/by-id/... path) as a hal::Device. The tty is put in raw mode with the configured
// line settings; bytes go through a SerialFramer; every complete or rejected scan becomes a
// StationEvent{kind=scan}.
//
// Ownership: owns its fd (opened O_RDONLY|O_NOCTTY|O_NONBLOCK, so a scanner can never become
// the daemon's controlling terminal); fd() == -1 while missing. Loop thread only; never blocks
// or throws. Call on_readable() on POLLIN, POLLHUP or POLLERR: an unplugged CDC-ACM device
// (or a closed pty master) reads as hangup (0 bytes) or EIO/ENODEV; the scanner then closes,
// reports missing (status().last_error says why) and retries the open at next_deadline() with
// backoff (reopen_min doubling to reopen_max) through the same path, so a by-id symlink that
// udev re-creates on replug is followed. ModemManager probing is kept off by udev (deploy/).
//
// Options (profile keys in brackets):
//   name ["input name"], device ["device"],
//   baud ["baud", default 9600: 1200..921600], parity ["parity": none|even|odd],
//   data_bits ["data_bits": 5..8, default 8], stop_bits ["stop_bits": 1|2],
//   framing.terminator ["terminator": cr|lf|crlf|none], framing.gap ["gap_ms"],
//   framing.max_length ["max_length"], reopen_min/reopen_max ["reopen_min_ms", "reopen_max_ms"].
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/device.hpp"
#include "hal/reopen_schedule.hpp"
#include "hal/serial_framer.hpp"

namespace hal::linux_tty {

struct TtyScannerOptions {
  enum class Parity { none, even, odd };
  std::string name = "scanner";
  std::string device;
  unsigned baud = 9600;
  Parity parity = Parity::none;
  unsigned data_bits = 8;
  unsigned stop_bits = 1;
  SerialFramerOptions framing;
  std::chrono::milliseconds reopen_min{250};
  std::chrono::milliseconds reopen_max{10000};
};

// Opens options.device as a raw tty with options' line settings, non-blocking, O_NOCTTY and
// exclusive (TIOCEXCL); `access` is O_RDONLY (scanners) or O_RDWR (instruments, which are
// sent commands). The framing options are not used.
Result<UniqueFd> open_tty(const TtyScannerOptions& options, int access);

// "none", "even", "odd" -> Parity.
Result<TtyScannerOptions::Parity> parse_parity(std::string_view name);

class TtyScanner final : public Device {
 public:
  explicit TtyScanner(TtyScannerOptions options);

  // Checks the options without touching the device (config error naming the option).
  static Status validate(const TtyScannerOptions& options);

  // First open. On failure the scanner stays missing, a reopen is scheduled, and the reason is
  // returned (the caller decides whether that is fatal).
  Status open(Clock::MonoTime now);

  int fd() const override { return fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override { return reopen_.status(); }

 private:
  Status open_and_configure();
  void lost(Clock::MonoTime now, std::string why, std::vector<ScanRead>& reads);

  TtyScannerOptions options_;
  SerialFramer framer_;
  UniqueFd fd_;
  ReopenSchedule reopen_;  // status, backoff and next open attempt while missing
};

}  // namespace hal::linux_tty
