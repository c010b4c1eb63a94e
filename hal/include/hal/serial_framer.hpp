// SPDX-License-Identifier: Apache-2.0
// SerialFramer: splits the byte stream of a serial / CDC-ACM barcode scanner into scans. Pure
// logic; TtyScanner feeds it what read() returned, with the loop's monotonic time.
//  - terminator cr:   a scan ends at CR; an LF straight after that CR is skipped (scanners
//                     set to CRLF behind a profile that says CR still work);
//  - terminator lf:   a scan ends at LF; a CR anywhere is a control character (rejected);
//  - terminator crlf: a scan ends at LF, the CR before it is removed; a lone CR is rejected;
//  - terminator none: a scan ends after `gap` without bytes.
// With a terminator, bytes that stop for longer than `gap` without one are rejected as an
// incomplete read. Rejections (ScanRead::error, text = bytes before the problem): longer than
// max_length, an ASCII control character other than GS (0x1D, FNC1). Bytes >= 0x80 pass
// unchanged (UTF-8 or the scanner's code page). An empty line is not a scan.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hal/clock.hpp"
#include "hal/scan_assembler.hpp"

namespace hal {

struct SerialFramerOptions {
  enum class Terminator { cr, lf, crlf, none };
  Terminator terminator = Terminator::cr;
  std::chrono::milliseconds gap{250};  // 0 disables
  std::size_t max_length = 1024;       // bytes
};

// "cr", "lf", "crlf", "none" -> Terminator (config error otherwise).
Result<SerialFramerOptions::Terminator> parse_serial_terminator(std::string_view name);

class SerialFramer {
 public:
  explicit SerialFramer(SerialFramerOptions options = {});

  void feed(std::string_view bytes, Clock::MonoTime now, std::vector<ScanRead>& out);
  void flush_idle(std::vector<ScanRead>& out);
  // The device went away: a scan in progress is rejected with `why` (never passed as complete).
  void abandon(const std::string& why, std::vector<ScanRead>& out);
  bool pending() const { return started_ || cr_seen_; }
  std::optional<Clock::MonoTime> last_byte() const { return last_; }
  void reset();

 private:
  void on_byte(char c, std::vector<ScanRead>& out);
  void put(char c);
  void finish(std::vector<ScanRead>& out, std::string error = {});

  SerialFramerOptions options_;
  std::string text_;
  std::string error_;
  bool started_ = false;
  bool cr_seen_ = false;  // crlf: a CR waits for its LF
  bool skip_lf_ = false;  // cr: the byte after a terminating CR may be LF
  std::optional<Clock::MonoTime> last_;
};

}  // namespace hal
