// SPDX-License-Identifier: Apache-2.0
#include "agent/status/metrics_text.hpp"

#include <cstdio>

namespace agent {
namespace {

// Label values escape backslash, double quote and newline (exposition format rules).
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string station) : labels_("station=\"" + label_value(station) + "\"") {}
  void metric(const char* name, const char* type, const char* help, double value,
              const std::string& extra = {}) {
    if (last_ != name) {
      out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
      last_ = name;
    }
    char num[64];
    std::snprintf(num, sizeof num, "%.17g", value);
    out_ += std::string(name) + "{" + labels_ + extra + "} " + num + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string labels_;
  std::string out_;
  std::string last_;
};

}  // namespace

std::string format_metrics(const MetricsSnapshot& m) {
  Writer w(m.station);
  auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  w.metric("ion_agent_pending", "gauge", "Intents accepted but not yet delivered to ION.", d(m.pending));
  w.metric("ion_agent_in_flight", "gauge", "Intents being delivered right now.", d(m.in_flight));
  w.metric("ion_agent_dead", "gauge", "Dead-lettered intents waiting for an operator.", d(m.dead));
  w.metric("ion_agent_oldest_pending_age_seconds", "gauge", "Age of the oldest undelivered intent.",
           m.oldest_pending_age_s);
  w.metric("ion_agent_delivered_total", "counter", "Intents delivered to ION since start.",
           d(m.delivered_total));
  w.metric("ion_agent_rejected_total", "counter", "Intents ION refused permanently since start.",
           d(m.rejected_total));
  w.metric("ion_agent_retries_total", "counter", "Delivery attempts that will be retried, since start.",
           d(m.retried_total));
  w.metric("ion_agent_events_accepted_total", "counter",
           "Station events committed to the outbox since start.", d(m.accepted_total));
  w.metric("ion_agent_events_refused_total", "counter",
           "Station events answered with red feedback since start.", d(m.refused_total));
  w.metric("ion_agent_accept_latency_seconds", "gauge", "Event to durable commit, last event.",
           m.accept_latency_last_s);
  w.metric("ion_agent_accept_latency_max_seconds", "gauge", "Event to durable commit, worst since start.",
           m.accept_latency_max_s);
  w.metric("ion_agent_last_success_timestamp_seconds", "gauge",
           "Unix time of the last delivery to ION (0 = never).", m.last_success_time_s);
  w.metric("ion_agent_link_up", "gauge", "1 when ION answered the last attempt.", m.link_ok ? 1 : 0);
  w.metric("ion_agent_token_valid", "gauge", "1 while a valid access token is held.", m.token_valid ? 1 : 0);
  w.metric(
      "ion_agent_credentials_ok", "gauge",
      "1 when the sealed credentials open; 0 with the vault's problem as label (events are still "
      "accepted and kept).",
      m.credentials_problem.empty() ? 1 : 0,
      ",problem=\"" + label_value(m.credentials_problem.empty() ? "none" : m.credentials_problem) + "\"");
  w.metric("ion_agent_clock_synced", "gauge", "1 when the wall clock is synchronised.",
           m.clock_synced ? 1 : 0);
  w.metric("ion_agent_outbox_bytes", "gauge", "Bytes used by the outbox database.", d(m.used_bytes));
  w.metric("ion_agent_outbox_max_bytes", "gauge", "Size bound of the outbox database.", d(m.max_bytes));
  w.metric("ion_agent_start_time_seconds", "gauge", "Unix time the daemon started.", m.start_time_s);
  for (const auto& dev : m.devices) {
    w.metric("ion_agent_device_connected", "gauge", "1 when the scanner, GPIO line or output is connected.",
             dev.connected ? 1 : 0,
             ",device=\"" + label_value(dev.name) + "\",kind=\"" + label_value(dev.kind) + "\"");
  }
  return w.take();
}

}  // namespace agent
