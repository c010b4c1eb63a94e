// SPDX-License-Identifier: Apache-2.0
// Simulated instruments for integration tests and the demo: an MT-SICS scale on a pty (its
// slave reached through a symlink, so a "cut cable" can come back as a new pty at the same
// path) and a SCPI tester on a loopback TCP port. Each answers every command line it reads
// with the configured reply, or with a fault: garbage bytes, half a line, no reply at all, or
// a disconnect (pty master closed / TCP client closed). A background thread serves it; the
// setters are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ion_test {

class InstrumentSim {
 public:
  enum class Fault { none, garbage, half_line, no_reply, disconnect };

  // A pty whose slave is reachable at `link` (a symlink); nullptr on failure.
  static std::unique_ptr<InstrumentSim> pty(const std::string& link);
  // A TCP listener on 127.0.0.1, port() chosen by the kernel; nullptr on failure.
  static std::unique_ptr<InstrumentSim> tcp();
  ~InstrumentSim();

  int port() const { return port_; }
  void set_reply(const std::string& line);  // without terminator, e.g. "S S     12.345 g"
  // Fault::disconnect closes the link when the next command arrives (the peer drops the line
  // while the agent waits for the reply); cut() closes it at once.
  void set_fault(Fault f);
  // Cable cut: the pty master (or the TCP client) is closed now; with a pty, a new one
  // appears at the same link after `replug_ms` (negative: never).
  void cut(int replug_ms);
  int commands() const { return commands_.load(); }        // command lines received so far
  int connections() const { return connections_.load(); }  // pty opens / TCP accepts
  std::string last_command() const;

 private:
  InstrumentSim() = default;
  bool open_pty();
  void serve();
  void answer(int fd, const std::string& command);
  void close_peer();

  std::string link_;
  int master_ = -1;  // pty
  int listen_ = -1;  // tcp
  int client_ = -1;  // tcp
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<int> commands_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::string reply_ = "S S     12.345 g";
  Fault fault_ = Fault::none;
  std::string last_command_;
  std::string buf_;
  long replug_at_ms_ = -1;  // steady-clock ms when a cut pty comes back
  bool cut_now_ = false;    // cut(): the serving thread closes the link on its next turn
  std::thread thread_;
};

}  // namespace ion_test
