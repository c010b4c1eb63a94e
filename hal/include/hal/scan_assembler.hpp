// SPDX-License-Identifier: Apache-2.0
// ScanAssembler: turns the key events of a keyboard-wedge barcode scanner (struct input_event
// records, as read from /dev/input/eventN) into complete scans. Pure logic, no I/O: the evdev
// reader, `ion-agent decode --evdev` and the tests feed it the same records.
//
// What it handles:
//  - text through the agent's own Keymap (Shift, Caps Lock, AltGr, dead keys), keypad keys
//    (Num Lock is assumed on: scanners that use the keypad send digits), Alt+keypad codes
//    (decimal code point, as the Linux console does: Alt+0029 and Alt+29 both give GS),
//    Ctrl+key control characters (Ctrl+] = GS on US), and a configured key that sends GS;
//  - the end of a scan: the terminator key (Enter/keypad Enter, or Tab), or, with terminator
//    `none`, an inter-key gap. With a terminator configured, a scan that stops for longer than
//    the gap without one is rejected (a truncated read must not pass as a shorter serial);
//  - rejection with a reason (ScanRead::error, text = what was read so far): longer than
//    max_length bytes, a control character other than GS (ASCII 29, FNC1), a key with no
//    character in the keymap;
//  - SYN_DROPPED (the kernel's buffer overflowed): the partial scan is reported as rejected
//    at once, events up to the next SYN_REPORT are ignored, modifiers are reset (the reader
//    re-reads them with set_key_state()), and the rest of the interrupted scan is discarded up
//    to its terminator or the next gap, so its tail never passes as a scan of its own.
// Timing uses the records' own timestamps (the kernel stamps them at interrupt time, so loop
// latency never splits a scan); flush_idle() ends a scan when the gap passed in real time.
// Text is UTF-8. A lone terminator with nothing before it is not a scan and yields nothing.
#pragma once

#include <linux/input.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "hal/keymap.hpp"

namespace hal {

struct ScanAssemblerOptions {
  enum class Terminator { enter, tab, none };
  Keymap keymap = Keymap::us();
  Terminator terminator = Terminator::enter;
  // Longest pause between two key events inside one scan; 0 disables gap handling (then a
  // scan ends only on its terminator). Scanners type a key every 1-10 ms.
  std::chrono::milliseconds gap{250};
  std::size_t max_length = 1024;  // bytes of UTF-8 text
  std::uint16_t gs_key = 0;       // an extra KEY_* code that sends GS (0: none)
};

// "enter", "tab", "none" -> Terminator (config error otherwise).
Result<ScanAssemblerOptions::Terminator> parse_terminator(std::string_view name);

// One scan as the scanner delivered it. error empty: text is the scan. error set: the scan is
// rejected and text holds what was read before the problem (may be empty).
struct ScanRead {
  std::string text;
  std::string error;
};

// The AIM symbology identifier a scanner put in front of the text ("]C1", "]d2"), if any. The
// text is left as it is: agent::decode_scan() strips and names it.
std::optional<std::string> aim_identifier(std::string_view text);

// Moves each read into a scan StationEvent for `input` at `now` (shared by every scanner kind).
void append_scan_events(std::vector<ScanRead>& reads, std::string_view input, Clock::MonoTime now,
                        std::vector<StationEvent>& out);

class ScanAssembler {
 public:
  explicit ScanAssembler(ScanAssemblerOptions options = {});

  void feed(const input_event& ev, std::vector<ScanRead>& out);
  // The gap passed in real time with a scan in progress: finish it (see the rules above).
  void flush_idle(std::vector<ScanRead>& out);
  // The device went away: a scan in progress is rejected with `why` (never passed as complete).
  void abandon(const std::string& why, std::vector<ScanRead>& out);
  // A scan (or the discarded tail of a dropped one) is in progress: flush_idle() is due
  // `gap` after the last event.
  bool pending() const { return started_ || discarding_; }
  // Modifier state after a resync (EVIOCGKEY bitmap, KEY_MAX/8+1 bytes).
  void set_key_state(const std::uint8_t* bits, std::size_t len);
  // Back to the initial state (a device was reopened).
  void reset();

  const ScanAssemblerOptions& options() const { return options_; }

 private:
  // Event time in microseconds. Unsigned: recorded files may hold any timestamp, and the
  // arithmetic must wrap, not overflow.
  using Micros = std::uint64_t;
  void on_key(std::uint16_t code, int value, Micros t, std::vector<ScanRead>& out);
  bool on_modifier(std::uint16_t code, int value);
  void on_press(std::uint16_t code, std::vector<ScanRead>& out);
  bool is_terminator(std::uint16_t code) const;
  void on_dropped(std::vector<ScanRead>& out);
  void put(char32_t ch);
  void put_raw(char32_t ch);
  void reject(std::string why);
  void finish(std::vector<ScanRead>& out, std::string error = {});
  void clear_scan();

  ScanAssemblerOptions options_;
  std::string text_;
  std::string error_;  // first reason this scan is rejected
  bool started_ = false;
  bool discarding_ = false;  // after SYN_DROPPED: until terminator or gap
  bool skip_to_report_ = false;
  std::optional<Micros> last_event_;
  bool shift_l_ = false, shift_r_ = false, ctrl_ = false, alt_ = false, altgr_ = false;
  bool caps_ = false;
  char32_t dead_ = 0;
  std::optional<std::uint32_t> alt_code_;
};

}  // namespace hal
