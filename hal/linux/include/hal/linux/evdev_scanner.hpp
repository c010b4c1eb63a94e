// SPDX-License-Identifier: Apache-2.0
// EvdevScanner: a USB HID keyboard-wedge barcode scanner read through evdev
// (/dev/input/eventN), as a hal::Device. Key events go through a ScanAssembler with the
// agent's own keymap; every complete or rejected scan becomes a StationEvent{kind=scan}.
//
// Ownership: owns its fd (fd() == -1 while the scanner is missing). Driven from the loop thread
// only; never blocks (O_NONBLOCK), never throws. The loop calls on_readable() when fd() is
// readable or reports POLLHUP/POLLERR (that is how an unplug is noticed: read() gives ENODEV),
// and on_deadline() at next_deadline(): the inter-key gap of a scan in progress, or the time of
// the next reopen attempt (backoff from reopen_min doubling to reopen_max) while missing.
//
// Options (profile keys in brackets; the daemon maps the JSON onto this struct):
//   name          [input name]  StationEvent::input
//   device        ["device"]    stable path, e.g. /dev/input/by-id/usb-Honeywell_...-event-kbd.
//                               A regular file or FIFO holding recorded struct input_event
//                               records is also accepted (replay; tests, `ion-agent decode`):
//                               a FIFO whose writer closes counts as unplugged, the end of a
//                               regular file ends the replay (missing, no reopen).
//   vendor,product ["usb": "05e0:1200"]  used when device is empty: the first /dev/input/event*
//                               with that USB VID:PID (EVIOCGID) that has letter keys.
//   grab          ["grab", default true]  EVIOCGRAB, so scans never reach a console or login
//                               prompt. EBUSY (someone else holds a grab) fails the open;
//                               ENOTTY (replay file or FIFO) is ignored.
//   scan.keymap   ["keymap": us|de|fr|uk]   scan.terminator ["terminator": enter|tab|none]
//   scan.gap      ["gap_ms"]    scan.max_length ["max_length"]   scan.gs_key ["gs_key": KEY_* code]
//   replay_layout ["record_size": native|24|16] record layout of replay files/FIFOs
//   reopen_min/reopen_max ["reopen_min_ms", "reopen_max_ms"]
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/device.hpp"
#include "hal/input_records.hpp"
#include "hal/reopen_schedule.hpp"
#include "hal/scan_assembler.hpp"

namespace hal::linux_input {

struct EvdevScannerOptions {
  std::string name = "scanner";
  std::string device;
  std::uint16_t vendor = 0;
  std::uint16_t product = 0;
  std::string input_dir = "/dev/input";  // where the VID:PID search looks
  bool grab = true;
  ScanAssemblerOptions scan;
  RecordLayout replay_layout = RecordLayout::native;
  std::chrono::milliseconds reopen_min{250};
  std::chrono::milliseconds reopen_max{10000};
};

// "05e0:1200" (hex) -> vendor, product.
Status parse_usb_id(std::string_view text, std::uint16_t& vendor, std::uint16_t& product);

class EvdevScanner final : public Device {
 public:
  explicit EvdevScanner(EvdevScannerOptions options);

  // Checks the options without touching any device (config error naming the option).
  static Status validate(const EvdevScannerOptions& options);

  // First open. On failure the scanner stays missing with the reason in status(), a reopen is
  // scheduled, and the reason is returned (the caller decides whether that is fatal).
  Status open(Clock::MonoTime now);

  int fd() const override { return fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override { return reopen_.status(); }

 private:
  enum class Kind { device, fifo, file };
  Result<std::string> find_path() const;
  Status open_path(const std::string& path);
  bool read_available(Clock::MonoTime now, std::vector<ScanRead>& reads);
  void resync();
  void lost(Clock::MonoTime now, std::string why, std::vector<ScanRead>& reads);

  EvdevScannerOptions options_;
  ScanAssembler assembler_;
  UniqueFd fd_;
  Kind kind_ = Kind::device;
  std::string partial_;    // bytes of a record split across reads (FIFO)
  ReopenSchedule reopen_;  // status, backoff and next open attempt while missing
  std::optional<Clock::MonoTime> last_read_;
};

}  // namespace hal::linux_input
