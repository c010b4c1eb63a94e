// SPDX-License-Identifier: Apache-2.0
// The station's insides, shared by station.cpp (wiring, events, signals, context) and
// station_ion.cpp (the sealed credentials, the GraphQL client, the dispatcher and the
// interlock checker that hang on them). Private to firmware/runtime.
#pragma once

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <map>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/ion/interlocks.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/outbox/outbox.hpp"
#include "agent/profile/profile.hpp"
#include "agent/scan/decode.hpp"
#include "agent/vault/vault.hpp"
#include "agent/workflow/workflow.hpp"
#include "event_loop.hpp"
#include "file_watch.hpp"
#include "hal/linux/netlink_watch.hpp"
#include "hal/log.hpp"
#include "ion_connection.hpp"
#include "sd_notify.hpp"
#include "station.hpp"
#include "station_devices.hpp"
#include "station_report.hpp"
#include "time_sync.hpp"

namespace firmware {

using namespace std::chrono_literals;
using MonoTime = hal::Clock::MonoTime;

// While the credentials do not open, they are tried again this often.
inline constexpr std::chrono::seconds kCredentialsRetry{5};

// The outbox as the workflow's sink: an intent is accepted once append() has committed.
class OutboxSink final : public agent::IntentSink {
 public:
  explicit OutboxSink(agent::Outbox& outbox) : outbox_(outbox) {}
  hal::Result<std::string> append(const agent::NewIntent& intent) override { return outbox_.append(intent); }
  hal::Result<std::vector<std::string>> append_all(const std::vector<agent::NewIntent>& intents) override {
    return outbox_.append_all(intents);
  }
  hal::Result<std::vector<std::string>> commit(const std::vector<agent::NewIntent>& intents,
                                               const std::map<std::string, std::string>* context) override {
    if (context == nullptr) {
      return intents.empty() ? hal::Result<std::vector<std::string>>(std::vector<std::string>{})
                             : outbox_.append_all(intents);
    }
    return outbox_.append_with_context(intents, agent::context_to_json(*context));
  }

 private:
  agent::Outbox& outbox_;
};

inline agent::InterlockOptions interlock_options(const agent::Profile& p) {
  agent::InterlockOptions o;
  o.timeout = std::chrono::milliseconds(p.interlocks.timeout_ms);
  o.cache = std::chrono::seconds(p.interlocks.cache_s);
  return o;
}

struct Station::Impl {
  Impl(const RunOptions& o, const hal::Clock& c) : opt(o), clock(c), time(c, o.time_sync_file) {}

  RunOptions opt;
  const hal::Clock& clock;
  std::shared_ptr<const agent::Profile> profile;
  std::unique_ptr<StationDevices> devices;
  std::unique_ptr<agent::Outbox> outbox;
  std::unique_ptr<OutboxSink> sink;
  std::unique_ptr<agent::CurlGraphqlClient> client;
  std::unique_ptr<agent::Dispatcher> dispatcher;
  std::unique_ptr<agent::IonInterlocks> interlocks;  // answers the rules' `require`
  std::optional<FileWatch> outbox_watch;             // wakes us when another process changes the outbox
  std::optional<hal::linux_netlink::NetlinkWatch> net_watch;  // a link, address or route came back
  std::unique_ptr<agent::Workflow> workflow;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<StationReport> report;
  SdNotify notify = SdNotify::from_environment();
  TimeSync time;

  agent::VaultFailure vault_failure = agent::VaultFailure::none;
  // While the sealed credentials do not open, the station accepts and keeps events as with a
  // revoked key (no client, no dispatcher) and tries the vault again every kCredentialsRetry:
  // a `provision` or a chmod is picked up without a restart.
  std::string credentials_problem;
  MonoTime next_credentials_try{};
  bool stopping = false;
  bool quit = false;
  // Interval reads ("interval_ms"): the unit they are for, and when each instrument is due.
  std::string interval_unit;
  std::map<std::string, MonoTime> interval_due;
  MonoTime drain_until{};
  MonoTime next_watchdog{};

  hal::Status open_outbox();
  hal::Status open_client();
  void try_credentials(MonoTime now);
  hal::Status wait(std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max);
  hal::Status build_loop();
  void wire_timers();
  std::optional<MonoTime> next_interval_read();
  void interval_reads(MonoTime now);
  void handle(std::vector<hal::StationEvent>& events);
  void show(const hal::StationEvent& ev, const agent::Reaction& r);
  void on_signal(int signo);
  void reload();
  void restore_context(const char* when);
  void after_wait(MonoTime now);
  void check_time_sync();
  void open_net_watch();
  void on_network_change();
  void quit_if_idle_stopping();
  agent::EventTime stamp(const hal::StationEvent& ev) const;
};

}  // namespace firmware
