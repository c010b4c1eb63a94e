// SPDX-License-Identifier: Apache-2.0
// Station: `ion-agent run`, the daemon. Composition root that owns the profile, the station
// devices and feedback, the workflow, the outbox, the dispatcher, the GraphQL client and the
// event loop, and wires them (README "Data flow in 60 seconds"):
//   device fd -> StationEvent -> Workflow -> Outbox::append (committed) -> feedback (green/red)
//   -> Dispatcher::poll -> ION operations -> CurlGraphqlClient (curl_multi_poll also waits on
//   the device fds, the signalfd and the time-sync timerfd).
// Signals: SIGTERM/SIGINT stop reading inputs, tell systemd STOPPING=1, let in-flight
// deliveries finish for at most `drain` and exit 0 (a second signal exits at once; what is not
// delivered stays in the outbox for the next start). SIGHUP reloads the profile; an invalid
// one is logged with every error and the old one stays.
// Publishes <state-dir>/status.json (for `ion-agent status`) at most once a second while
// something happens, and the node_exporter textfile every metrics.interval_s.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hal/clock.hpp"
#include "hal/result.hpp"

namespace firmware {

struct RunOptions {
  std::string config;
  std::string state_dir;
  std::string sim;             // "" = real devices; FIFO/script path or "-" (stdin)
  std::string time_sync_file;  // tests: only this file decides whether the clock is synced
  std::string ca_file;         // overrides the profile's and the provisioned CA
  std::string metrics_file;    // overrides the profile's metrics.textfile
  std::string tcti;            // TPM TCTI for a tpm2-sealed vault ("" = TSS conventions)
  std::chrono::milliseconds drain{5000};
};

// What kept the station from starting, for the exit status (firmware/commands.hpp).
enum class StartFailure {
  config,
  outbox_corrupt,
  outbox_schema,
  outbox_storage,
};
// Not among them: credential trouble. The station starts without usable credentials, accepts
// and keeps events, and picks them up once fixed (status.json "credentials").

class Station {
 public:
  // Loads and validates everything; fails (Errc::config etc.) before any input is read.
  // `why` (optional) says which kind of failure it was.
  static hal::Result<std::unique_ptr<Station>> create(const RunOptions& options, const hal::Clock& clock,
                                                      StartFailure* why = nullptr);
  ~Station();
  // Runs until stopped; returns the process exit code.
  int run();

 private:
  struct Impl;
  explicit Station(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace firmware
