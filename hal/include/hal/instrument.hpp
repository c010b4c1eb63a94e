// SPDX-License-Identifier: Apache-2.0
// Instruments (scales, gauges, testers) as inputs. An instrument speaks lines: in mode
// `stream` it sends a line when it wants (a gauge's button); in mode `query` the station sends
// a command on a trigger (`SI`, `MEAS:VOLT?`) and takes the next line as its reply, or reports
// that none came within the timeout. Every reply line becomes a StationEvent{kind=reading,
// text=the line}; a query that fails (timeout, not connected, lost mid-query, line too long)
// becomes one with `error` set, so the station can show a red light. Parsing the line into a
// value is the agent's job (agent/reading), never the HAL's.
//
// InstrumentSession is the portable part (framing, the one outstanding query and its timeout),
// driven by a device that owns the fd (hal/linux/line_instrument.hpp) or by tests. Lines end
// at CR, LF or CR LF; empty lines are skipped; a line without its end when a query times out
// is reported as a half line and never passed as a reply. A line that arrives while no query
// waits (mode query) is dropped with a debug log: it is a late reply, not an answer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hal/clock.hpp"
#include "hal/device.hpp"

namespace hal {

struct InstrumentOptions {
  enum class Mode { stream, query };
  std::string name = "instrument";
  Mode mode = Mode::stream;
  std::string command;                      // query: sent with `terminator`
  std::string terminator = "\r\n";          // after a command
  std::chrono::milliseconds timeout{2000};  // query: reply within this
  std::size_t max_length = 256;             // longest reply line (bytes)
};

// A device that can be asked for a reading.
class Instrument : public Device {
 public:
  // Sends the command (mode query). The reply, or why there is none, comes as a reading event
  // from on_readable()/on_deadline(); a failure to send comes at the next on_deadline().
  virtual void query(Clock::MonoTime now) = 0;
};

class InstrumentSession {
 public:
  explicit InstrumentSession(InstrumentOptions options);

  const InstrumentOptions& options() const { return options_; }

  // Bytes from the instrument.
  void feed(std::string_view bytes, Clock::MonoTime now, std::vector<StationEvent>& out);
  // Starts a query: returns the bytes to send, or nothing (and an error event in out) when one
  // is already waiting or the mode is stream.
  std::optional<std::string> start_query(Clock::MonoTime now, std::vector<StationEvent>& out);
  // The command could not be sent (or the device is not connected): the query fails now.
  void fail_query(const std::string& why, Clock::MonoTime now, std::vector<StationEvent>& out);
  // The connection went away: a waiting query fails with `why`, a half line is dropped.
  void lost(const std::string& why, Clock::MonoTime now, std::vector<StationEvent>& out);
  bool waiting() const { return waiting_since_.has_value(); }
  std::optional<Clock::MonoTime> deadline() const;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out);

 private:
  void line(Clock::MonoTime now, std::vector<StationEvent>& out);
  void emit(std::string text, std::string error, Clock::MonoTime now, std::vector<StationEvent>& out) const;

  InstrumentOptions options_;
  std::string buf_;
  bool overlong_ = false;
  std::optional<Clock::MonoTime> waiting_since_;
};

}  // namespace hal
