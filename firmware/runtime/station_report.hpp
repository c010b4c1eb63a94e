// SPDX-License-Identifier: Apache-2.0
// StationReport: what the running daemon tells the world about itself.
//  - <state-dir>/status.json, rewritten atomically when something changes, at most once a
//    second (read by `ion-agent status`; format below). Every accepted event changes it, so
//    under systemd ($RUNTIME_DIRECTORY, /run/ion-agent: tmpfs) the file is written there and
//    <state-dir>/status.json is a symlink to it, made once per start: the state partition is
//    not written per event. Without $RUNTIME_DIRECTORY it is a file in the state dir;
//  - systemd's STATUS= line ("pending 3, delivered 12, link up"), sent with each rewrite;
//  - the node_exporter textfile (profile metrics.textfile) after changes, at most every
//    metrics.interval_s, and every metrics.interval_s while intents are pending (their age
//    moves).
// Nothing here is a heartbeat: an idle station (nothing pending) has no deadline in this class
// at all. `ion-agent status` tells a live daemon from a stale file by the pid and its start
// time (pid_start), not by the file's age; a hung one is systemd's watchdog's to catch.
//
// status.json follows agent/status_file.hpp (version 1: pid, started_ms, updated_ms,
// pid_start, boot_id, dispatcher, token, devices[{name, state, detail}]) and adds (times are
// Unix ms):
//   {"station", "profile", "state": "running"|"draining"|"stopped",
//    "updated_ms", "clock_synced", "boot_id",
//    "devices": [{..., "kind", "path", "connected", "last_error"}],
//    "link": {"ok", "failures", "retry_in_ms", "last_error"},
//    "counters": {"accepted", "refused", "delivered", "rejected", "retried", "in_flight"},
//    "accept_latency_ms": {"last", "max"},
//    "last_event": {"input", "kind", "text", "signal", "message", "at_ms"},
//    "context": {"unit.serial": ..., ...}, "context_note": "restored at start (saved 3 s ago)",
//    "credentials": {"ok": true|false, "failure": "loose_mode", "problem": "..."}}
// Queue figures (pending, dead, oldest) are not here: `ion-agent status` reads them from the
// outbox itself. Loop thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/outbox/outbox.hpp"
#include "agent/profile/profile.hpp"
#include "agent/workflow/workflow.hpp"
#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "sd_notify.hpp"
#include "station_devices.hpp"
#include "time_sync.hpp"

namespace firmware {

class StationReport {
 public:
  using MonoTime = hal::Clock::MonoTime;

  // `dispatcher` and `client` are null while the station has no usable credentials (it still
  // accepts and keeps events); set_link() hands them over once the credentials open.
  StationReport(std::string state_dir, const hal::Clock& clock, agent::Outbox& outbox,
                agent::Dispatcher* dispatcher, agent::CurlGraphqlClient* client, TimeSync& time,
                SdNotify& notify);
  void set_link(agent::Dispatcher* dispatcher, agent::CurlGraphqlClient* client) {
    dispatcher_ = dispatcher;
    client_ = client;
    dirty_ = true;
  }
  // Why the sealed credentials do not open ("" = they do): status.json, STATUS=, metrics.
  void set_credentials_problem(std::string vault_failure, std::string message) {
    credentials_failure_ = std::move(vault_failure);
    credentials_problem_ = std::move(message);
    dirty_ = true;
    metrics_dirty_ = true;
  }

  void set_profile(std::shared_ptr<const agent::Profile> profile, const StationDevices* devices);
  void set_context(const agent::Workflow::Context* context) { context_ = context; }
  // What happened to the saved context at start or reload (restored, dropped as too old).
  void set_context_note(std::string note) {
    context_note_ = std::move(note);
    dirty_ = true;
  }
  void set_state(std::string state) {
    state_ = std::move(state);
    dirty_ = true;
  }
  // Counts an event and its outcome; the accept latency is event -> now (after the commit).
  void record(const hal::StationEvent& ev, const agent::Reaction& r, MonoTime now);
  // Something may have changed (after every wake); cheap when nothing did.
  void touch();

  std::optional<MonoTime> next_due() const;
  void publish(MonoTime now);

  std::string status_path() const { return state_dir_ + "/status.json"; }
  // Where status.json is written: $RUNTIME_DIRECTORY's first entry when it names a directory
  // other than the state dir, else the state dir.
  const std::string& status_dir() const { return status_dir_; }

 private:
  std::string fingerprint() const;
  agent::DispatcherStatus dispatcher_status() const;
  agent::TokenStatus token_status() const;
  void write_status(MonoTime now);
  bool link_status();  // <state-dir>/status.json -> <status_dir_>/status.json; false: not made
  agent::Json status_json() const;
  bool metrics_on() const { return profile_ && !profile_->metrics.textfile.empty(); }
  bool write_metrics();  // true while intents are pending (the file's ages keep moving)

  std::string state_dir_;
  std::string status_dir_;
  bool linked_ = false;
  const hal::Clock& clock_;
  agent::Outbox& outbox_;
  agent::Dispatcher* dispatcher_;
  agent::CurlGraphqlClient* client_;
  std::string credentials_failure_;  // VaultFailure name, "" = none
  std::string credentials_problem_;  // the whole message, with what fixes it
  TimeSync& time_;
  SdNotify& notify_;
  std::shared_ptr<const agent::Profile> profile_;
  const StationDevices* devices_ = nullptr;
  const agent::Workflow::Context* context_ = nullptr;
  std::string context_note_;

  std::string state_ = "running";
  std::int64_t started_ms_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  double latency_last_ms_ = 0;
  double latency_max_ms_ = 0;
  std::string last_event_json_ = "null";
  std::string last_interlock_json_ = "null";  // the last event refused by an interlock
  std::string published_;                     // fingerprint at the last publish
  bool dirty_ = true;
  MonoTime last_publish_{};
  MonoTime next_metrics_{};
  bool metrics_dirty_ = true;  // the textfile is behind: rewrite at next_metrics_
  std::uint64_t pid_start_ = 0;
  std::string last_write_error_;
};

}  // namespace firmware
