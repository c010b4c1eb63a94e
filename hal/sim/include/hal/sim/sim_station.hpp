// SPDX-License-Identifier: Apache-2.0
// SimStation: the simulated station inputs for the demo and end-to-end tests. One
// hal::Device that reads text commands from a FIFO, a script file or stdin and produces the
// StationEvents real scanners and buttons produce:
//   scan TEXT       a scan on the configured scanner input; "\x1d" (GS as FNC1) and "\\"
//                   are unescaped; too long or with control characters (other than GS) it
//                   becomes a rejected scan (StationEvent::error set), as with a real reader
//   press NAME      input NAME becomes active     release NAME    ... inactive
//   click NAME      press + release               sleep MS        pause (e.g. 500, 500ms, 2s)
//   reading NAME TEXT  TEXT as a reply line of instrument NAME (StationEvent::Kind::reading),
//                   as if the instrument had sent it; its dialect parses it in the workflow
//   # ...           comment; blank lines are ignored
// Buttons run through ButtonLogic (no debounce: simulated contacts do not bounce), so a
// press held past the input's long-press time gives long_press as on real hardware. Bad
// lines (unknown command or input name, over-long line) are logged as warnings with the
// source and line number and skipped; they never stop the device.
// Sources: a path that does not exist is created as a FIFO (mode 0600). A FIFO is reopened
// when its last writer closes, so writers can come and go ("echo scan X > fifo"). A regular
// file (a script) or stdin ("-") is read to its end; then finished() becomes true. `sleep`
// never blocks: reading pauses (fd() == -1) and next_deadline() says when to go on.
// Loop thread only; owns its fd (a dup of stdin for "-").
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hal/button_logic.hpp"
#include "hal/c_handle.hpp"
#include "hal/device.hpp"

namespace hal::sim {

struct SimStationConfig {
  std::string path = "-";                // FIFO, script file, or "-" for stdin
  std::string scanner = "scanner";       // StationEvent::input of `scan` lines
  std::vector<ButtonConfig> buttons;     // names (and long-press times) `press` may use
  std::vector<std::string> instruments;  // names `reading` may use
  std::size_t max_scan_length = 256;     // longer scans are rejected, as by the real readers
};

class SimStation final : public Device {
 public:
  static Result<std::unique_ptr<SimStation>> open(SimStationConfig config);

  int fd() const override;
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override;

  // The source ended (stdin or a script at EOF) and every line has been handled.
  bool finished() const;
  // Lines that were refused (for tests and status).
  std::size_t bad_lines() const { return bad_lines_; }

 private:
  enum class Kind { fifo, file };
  SimStation(SimStationConfig config, UniqueFd fd, Kind kind);

  Status reopen(Clock::MonoTime now);
  void run_lines(Clock::MonoTime now, std::vector<StationEvent>& out);
  void run_line(std::string_view line, Clock::MonoTime now, std::vector<StationEvent>& out);
  void scan(std::string_view text, Clock::MonoTime now, std::vector<StationEvent>& out) const;
  ButtonLogic* button(std::string_view name);
  void warn(const std::string& what);

  SimStationConfig config_;
  UniqueFd fd_;
  Kind kind_;
  std::vector<ButtonLogic> buttons_;
  std::string buffer_;                        // bytes read, not yet run
  bool eof_ = false;                          // file/stdin ended
  bool discarding_ = false;                   // inside an over-long line
  std::optional<Clock::MonoTime> resume_at_;  // paused by `sleep`
  std::optional<Clock::MonoTime> reopen_at_;  // the FIFO could not be reopened; try then
  std::size_t line_no_ = 0;
  std::size_t bad_lines_ = 0;
  std::string last_error_;
};

}  // namespace hal::sim
