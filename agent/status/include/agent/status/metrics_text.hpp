// SPDX-License-Identifier: Apache-2.0
// Fleet metrics in the Prometheus text exposition format, for node_exporter's textfile
// collector (one file per agent, rewritten atomically by the daemon). Pure formatting: the
// daemon fills a MetricsSnapshot from the outbox, dispatcher, token manager and devices.
// Every metric is named ion_agent_*; counters end in _total and reset when the daemon starts
// (Prometheus handles resets). Times are Unix seconds; latencies seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace agent {

struct DeviceMetric {
  std::string name;  // profile input/output name
  std::string kind;  // "scanner", "gpio", "sim", "output"
  bool connected = false;
};

struct MetricsSnapshot {
  std::string station;
  std::uint64_t pending = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t dead = 0;
  double oldest_pending_age_s = 0;
  std::uint64_t delivered_total = 0;  // since start
  std::uint64_t rejected_total = 0;
  std::uint64_t retried_total = 0;
  std::uint64_t accepted_total = 0;  // events committed to the outbox
  std::uint64_t refused_total = 0;   // red feedback: bad scan, no unit, queue full, storage
  double accept_latency_last_s = 0;  // event -> outbox commit, the last one
  double accept_latency_max_s = 0;   // worst since start
  double last_success_time_s = 0;    // last delivery to ION (0 = never)
  bool link_ok = true;
  bool token_valid = false;
  std::string credentials_problem;  // "" = the sealed credentials open; else the vault failure
  bool clock_synced = false;
  std::uint64_t used_bytes = 0;
  std::uint64_t max_bytes = 0;
  double start_time_s = 0;
  std::vector<DeviceMetric> devices;
};

std::string format_metrics(const MetricsSnapshot& m);

}  // namespace agent
