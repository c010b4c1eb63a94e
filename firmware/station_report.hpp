// SPDX-License-Identifier: Apache-2.0
// StationReport: what the running daemon tells the world about itself.
//  - <state-dir>/status.json, rewritten atomically at most once a second while something
//    changes (read by `ion-agent status`; format below);
//  - systemd's STATUS= line ("pending 3, delivered 12, link up");
//  - the node_exporter textfile (profile metrics.textfile) every metrics.interval_s.
// An idle station wakes here only for the metrics interval the profile asked for and the
// status refresh (agent::kStatusRefresh) that tells `ion-agent status` the daemon is alive.
//
// status.json follows agent/status_file.hpp (version 1: pid, started_ms, updated_ms,
// dispatcher, token, devices[{name, state, detail}]) and adds (times are Unix ms):
//   {"station", "profile", "state": "running"|"draining"|"stopped",
//    "updated_ms", "clock_synced", "boot_id",
//    "devices": [{..., "kind", "path", "connected", "last_error"}],
//    "link": {"ok", "failures", "retry_in_ms", "last_error"},
//    "counters": {"accepted", "refused", "delivered", "rejected", "retried", "in_flight"},
//    "accept_latency_ms": {"last", "max"},
//    "last_event": {"input", "kind", "text", "signal", "message", "at_ms"},
//    "context": {"unit.serial": ..., ...}}
// Queue figures (pending, dead, oldest) are not here: `ion-agent status` reads them from the
// outbox itself. Loop thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/curl_graphql_client.hpp"
#include "agent/dispatcher.hpp"
#include "agent/outbox.hpp"
#include "agent/profile.hpp"
#include "agent/workflow.hpp"
#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "sd_notify.hpp"
#include "station_devices.hpp"
#include "time_sync.hpp"

namespace firmware {

class StationReport {
 public:
  using MonoTime = hal::Clock::MonoTime;

  StationReport(std::string state_dir, const hal::Clock& clock, agent::Outbox& outbox,
                agent::Dispatcher& dispatcher, agent::CurlGraphqlClient& client, TimeSync& time,
                SdNotify& notify);

  void set_profile(std::shared_ptr<const agent::Profile> profile, const StationDevices* devices);
  void set_context(const agent::Workflow::Context* context) { context_ = context; }
  void set_state(std::string state) { state_ = std::move(state); }
  // Counts an event and its outcome; the accept latency is event -> now (after the commit).
  void record(const hal::StationEvent& ev, const agent::Reaction& r, MonoTime now);
  // Something may have changed (after every wake); cheap when nothing did.
  void touch();

  std::optional<MonoTime> next_due() const;
  void publish(MonoTime now);

  std::string status_path() const { return state_dir_ + "/status.json"; }

 private:
  std::string fingerprint() const;
  agent::Json status_json() const;
  void write_metrics();

  std::string state_dir_;
  const hal::Clock& clock_;
  agent::Outbox& outbox_;
  agent::Dispatcher& dispatcher_;
  agent::CurlGraphqlClient& client_;
  TimeSync& time_;
  SdNotify& notify_;
  std::shared_ptr<const agent::Profile> profile_;
  const StationDevices* devices_ = nullptr;
  const agent::Workflow::Context* context_ = nullptr;

  std::string state_ = "running";
  std::int64_t started_ms_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  double latency_last_ms_ = 0;
  double latency_max_ms_ = 0;
  std::string last_event_json_ = "null";
  std::string published_;  // fingerprint at the last publish
  bool dirty_ = true;
  MonoTime last_publish_{};
  MonoTime next_metrics_{};
  std::string last_write_error_;
};

}  // namespace firmware
