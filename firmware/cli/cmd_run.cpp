// SPDX-License-Identifier: Apache-2.0
// ion-agent run: the station daemon (firmware/runtime/station.hpp). Exit codes: 0 after a clean stop,
// kExitLocked when another process holds the state directory, kExitOutbox* when the outbox
// cannot be opened (corrupt, newer schema, or for now), kExitConfig for a profile or device
// problem found before starting, 1 when the loop fails. Credential trouble is not fatal: the
// station runs without them and says why (status, metrics, STATUS=).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/vault/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "hal/log.hpp"
#include "ion_connection.hpp"
#include "state_lock.hpp"
#include "station.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent run --config FILE [--state-dir DIR] [--sim FIFO|-] [--ca-file FILE]\n"
    "                     [--drain-ms N] [--metrics FILE] [--tcti CONF]\n"
    "\n"
    "Runs the station: reads its inputs, applies the profile's rules, keeps every accepted\n"
    "event in the outbox and delivers it to ION. Stop with SIGTERM (drains in-flight\n"
    "deliveries); SIGHUP reloads the profile (an invalid one is refused, the old one stays).\n"
    "  --config FILE    station profile (JSON); validated in full before anything starts\n"
    "  --state-dir DIR  sealed key, outbox.db, status.json (default " ION_AGENT_DEFAULT_STATE_DIR
    ")\n"
    "  --sim FIFO|-     simulated station: inputs are lines `scan TEXT`, `press NAME`,\n"
    "                   `release NAME` from FIFO (or stdin for -); outputs print\n"
    "                   `output NAME on|off` on stdout\n"
    "  --ca-file FILE   CA bundle to trust for ION (overrides profile and provisioning)\n"
    "  --drain-ms N     how long SIGTERM waits for in-flight deliveries (default 5000)\n"
    "  --metrics FILE   node_exporter textfile (overrides the profile's metrics.textfile)\n"
    "  --tcti CONF      TPM for a tpm2-sealed key (default $TPM2TOOLS_TCTI, $TSS2_TCTI,\n"
    "                   device:/dev/tpmrm0)\n";

int exit_code_for(StartFailure why) {
  switch (why) {
    case StartFailure::outbox_corrupt:
      return kExitOutboxCorrupt;
    case StartFailure::outbox_schema:
      return kExitOutboxSchema;
    case StartFailure::outbox_storage:
      return kExitOutboxStorage;
    case StartFailure::config:
      break;
  }
  return kExitConfig;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  RunOptions o;
  o.state_dir = agent::kDefaultStateDir;
  std::string drain;
  for (int i = 0; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s == "--help" || s == "-h") {
      std::printf("%s", kUsage);
      return kExitOk;
    }
    if (!(take_option_value(argc, argv, i, "--config", o.config) ||
          take_option_value(argc, argv, i, "--state-dir", o.state_dir) ||
          take_option_value(argc, argv, i, "--sim", o.sim) ||
          take_option_value(argc, argv, i, "--ca-file", o.ca_file) ||
          take_option_value(argc, argv, i, "--tcti", o.tcti) ||
          take_option_value(argc, argv, i, "--drain-ms", drain) ||
          take_option_value(argc, argv, i, "--metrics", o.metrics_file) ||
          take_option_value(argc, argv, i, "--time-sync-file", o.time_sync_file))) {
      std::fprintf(stderr, "ion-agent run: unknown option or missing value: %s\n\n%s", argv[i], kUsage);
      return kExitUsage;
    }
  }
  if (o.config.empty()) {
    std::fprintf(stderr, "ion-agent run: --config FILE is required\n\n%s", kUsage);
    return kExitUsage;
  }
  if (!drain.empty()) {
    o.drain = std::chrono::milliseconds(std::strtol(drain.c_str(), nullptr, 10));
  }
  // Output lines of the simulated station must reach a pipe promptly.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // One daemon per state directory, before anything in it is opened: a second one would
  // deliver the same intents twice (firmware/system/state_lock.hpp). Held until exit.
  auto lock = StateLock::acquire(o.state_dir, "run");
  if (!lock.ok()) {
    hal::log::error("run", "state directory " + o.state_dir + ": " + lock.error().what);
    if (lock.error().code == hal::Errc::busy) {
      hal::log::error("run", "refusing to start a second daemon on it");
      return kExitLocked;
    }
    return kExitOutboxStorage;
  }
  hal::SystemClock clock;
  StartFailure why = StartFailure::config;
  auto station = Station::create(o, clock, &why);
  if (!station.ok()) {
    hal::log::write_lines(hal::log::Level::error, "run", station.error().what);
    return exit_code_for(why);
  }
  return (*station)->run();
}

}  // namespace firmware
