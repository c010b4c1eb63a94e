// SPDX-License-Identifier: Apache-2.0
// LineInstrument: a scale, gauge or tester on a serial port (/dev/ttyUSB0, opened O_RDWR with
// the serial scanner's line settings through linux_tty::open_tty) or on TCP (`host:port`, a
// non-blocking connect; SCPI testers listen on 5025) as a hal::Instrument. Lines and queries
// are handled by an InstrumentSession (hal/instrument.hpp); this class owns the fd.
//
// One fd in the station's event loop, never blocking: a TCP connect in progress is looked at
// every 100 ms (poll with zero timeout) for at most connect_timeout; a host name is resolved
// with getaddrinfo (numeric addresses and /etc/hosts names do not block; prefer them). On a
// hangup, EIO/ENODEV (unplugged USB-serial, closed pty), a TCP close or reset, or a failed
// connect the instrument closes, reports missing in status() (last_error says why), fails a
// waiting query with a reading event whose error says so, and reopens with backoff
// (ReopenSchedule, as the scanners). A query while missing fails at once ("not connected").
// Before sending a command, input already buffered is discarded: it cannot be the reply.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/instrument.hpp"
#include "hal/linux/tty_scanner.hpp"
#include "hal/reopen_schedule.hpp"

namespace hal::linux_instrument {

struct LineInstrumentOptions {
  InstrumentOptions session;
  linux_tty::TtyScannerOptions serial;  // serial.device = the port; empty when on TCP
  std::string tcp;                      // "host:port"; empty when on a serial port
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reopen_min{250};
  std::chrono::milliseconds reopen_max{10000};
};

class LineInstrument final : public Instrument {
 public:
  explicit LineInstrument(LineInstrumentOptions options);

  // Checks the options without touching the device (config error naming the option).
  static Status validate(const LineInstrumentOptions& options);

  // First open (or connect start). On failure a reopen is scheduled and the reason returned.
  Status open(Clock::MonoTime now);

  int fd() const override { return connecting_ ? -1 : fd_.get(); }
  std::optional<Clock::MonoTime> next_deadline() const override;
  void on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  void on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) override;
  DeviceStatus status() const override { return reopen_.status(); }
  void query(Clock::MonoTime now) override;

 private:
  Status open_serial();
  Status start_connect(Clock::MonoTime now);
  void check_connect(Clock::MonoTime now);
  void connect_failed(Clock::MonoTime now, const Error& why);
  void lost(Clock::MonoTime now, const std::string& why, std::vector<StationEvent>& out);
  std::string where() const;

  LineInstrumentOptions options_;
  InstrumentSession session_;
  UniqueFd fd_;
  bool connecting_ = false;
  Clock::MonoTime connect_started_{};
  Clock::MonoTime next_connect_check_{};
  ReopenSchedule reopen_;
  std::vector<StationEvent> pending_;  // query failures, handed out at the next on_deadline()
};

}  // namespace hal::linux_instrument
