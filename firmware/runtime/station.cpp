// SPDX-License-Identifier: Apache-2.0
#include "station.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <sstream>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/outbox/outbox.hpp"
#include "agent/profile/profile.hpp"
#include "agent/scan/decode.hpp"
#include "agent/vault/file_key_provider.hpp"
#include "agent/vault/vault.hpp"
#include "agent/workflow/workflow.hpp"
#include "event_loop.hpp"
#include "file_watch.hpp"
#include "hal/log.hpp"
#include "ion_connection.hpp"
#include "sd_notify.hpp"
#include "station_devices.hpp"
#include "station_report.hpp"
#include "time_sync.hpp"

namespace firmware {
namespace {

using namespace std::chrono_literals;
using MonoTime = hal::Clock::MonoTime;

// The outbox as the workflow's sink: an intent is accepted once append() has committed.
class OutboxSink final : public agent::IntentSink {
 public:
  explicit OutboxSink(agent::Outbox& outbox) : outbox_(outbox) {}
  hal::Result<std::string> append(const agent::NewIntent& intent) override { return outbox_.append(intent); }
  hal::Result<std::vector<std::string>> append_all(const std::vector<agent::NewIntent>& intents) override {
    return outbox_.append_all(intents);
  }

 private:
  agent::Outbox& outbox_;
};

// GS1 AIs of a scan for rules with "gs1": labels that say they are GS1 (AIM identifier,
// leading FNC1, "(01)..." text) and, since many scanners send neither, plain element strings
// that parse cleanly as GS1 ("0109506000134352" "21PSU0001").
std::map<std::string, std::string> gs1_of(const hal::StationEvent& ev) {
  std::string raw = ev.symbology.value_or("") + ev.text;
  agent::DecodedScan d = agent::decode_scan(raw);
  if (d.is_gs1 && d.ok()) {
    return d.gs1;
  }
  agent::DecodeOptions assume;
  assume.assume_gs1 = true;
  d = agent::decode_scan(raw, assume);
  return d.is_gs1 && d.ok() ? d.gs1 : std::map<std::string, std::string>{};
}

}  // namespace

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
  std::optional<FileWatch> outbox_watch;  // wakes us when another process changes the outbox
  std::unique_ptr<agent::Workflow> workflow;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<StationReport> report;
  SdNotify notify = SdNotify::from_environment();
  TimeSync time;

  bool stopping = false;
  bool quit = false;
  MonoTime drain_until{};
  MonoTime next_watchdog{};

  hal::Status open_outbox();
  hal::Status open_client();
  hal::Status build_loop();
  void wire_timers();
  void handle(std::vector<hal::StationEvent>& events);
  void on_signal(int signo);
  void reload();
  void after_wait(MonoTime now);
  void check_time_sync();
  agent::EventTime stamp(const hal::StationEvent& ev) const;
};

hal::Status Station::Impl::open_outbox() {
  agent::OutboxLimits limits;
  limits.max_bytes = static_cast<std::uint64_t>(profile->outbox.max_mb) << 20;
  limits.done_retention = std::chrono::hours(profile->outbox.retention_hours);
  auto ob = agent::Outbox::open(opt.state_dir + "/outbox.db", limits, clock);
  if (!ob.ok()) {
    return std::move(ob).error();
  }
  outbox = std::move(ob).value();
  sink = std::make_unique<OutboxSink>(*outbox);
  const std::string db = opt.state_dir + "/outbox.db";
  auto w = FileWatch::create({db, db + "-wal"});
  if (w.ok() && w->watching()) {
    outbox_watch = std::move(w).value();
  } else {
    hal::log::warning("outbox", w.ok() ? "file watch: nothing to watch; looking once a minute"
                                       : w.error().what + "; looking once a minute");
  }
  return hal::ok();
}

hal::Status Station::Impl::open_client() {
  agent::FileKeyProvider keys(device_key_path(opt.state_dir));
  agent::FileBoardIdentity board;
  agent::Vault vault(sealed_path(opt.state_dir), keys, board);
  auto creds = vault.open();
  if (!creds.ok()) {
    return std::move(creds).error().context("credentials (run `ion-agent provision` first)");
  }
  agent::GraphqlClientOptions o;
  o.http.ca_file = creds->ca_file;
  o.http.pinned_public_key = creds->pinned_public_key;
  const agent::IonSettings& ion = profile->ion;
  if (!ion.ca_file.empty())
    o.http.ca_file = ion.ca_file;
  if (!ion.ca_path.empty())
    o.http.ca_path = ion.ca_path;
  if (!ion.pinned_public_key.empty())
    o.http.pinned_public_key = ion.pinned_public_key;
  if (!opt.ca_file.empty())
    o.http.ca_file = opt.ca_file;
  o.http.proxy = ion.proxy;
  o.http.connect_timeout = std::chrono::milliseconds(ion.connect_timeout_ms);
  o.http.total_timeout = std::chrono::milliseconds(ion.timeout_ms);
  o.http.user_agent = user_agent();
  o.api_url = creds->api_url;
  o.token_url = creds->token_url;
  o.client_id = creds->client_id;
  o.client_secret = std::move(creds->client_secret);
  // The client must not wake an idle loop: it gets a timeout only for real transfers.
  o.max_idle_wait = agent::HttpMulti::kForever;
  o.token_policy.max_backoff = std::chrono::milliseconds(ion.retry_cap_ms);
  o.token_policy.min_backoff = std::min(o.token_policy.min_backoff, o.token_policy.max_backoff);
  o.token_policy.rejected_backoff = std::chrono::milliseconds(ion.rejected_retry_ms);
  o.batch_max = static_cast<std::size_t>(ion.batch_max);
  auto c = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!c.ok()) {
    return std::move(c).error();
  }
  client = std::move(c).value();
  agent::DispatcherOptions d;
  // `ion-agent queue retry` from another process writes the outbox WAL; the FileWatch on it
  // (open_outbox) wakes the loop and poll() sees the change, so no look by time is needed
  // (an idle station must not wake). Without inotify it looks once a minute instead.
  d.rescan_interval = outbox_watch ? std::chrono::milliseconds(0) : std::chrono::milliseconds(60s);
  d.backoff_base = std::chrono::milliseconds(ion.retry_base_ms);
  d.backoff_cap = std::chrono::milliseconds(ion.retry_cap_ms);
  d.in_doubt_hold = std::chrono::milliseconds(ion.timeout_ms);  // see DispatcherOptions
  // Two batches' worth of intents in flight: one batch's mutations travel while the next
  // batch's lookups do (multiplexed on HTTP/2, queued on the one HTTP/1.1 connection).
  d.max_in_flight = 2 * static_cast<std::size_t>(std::max(1, ion.batch_max));
  dispatcher = std::make_unique<agent::Dispatcher>(*outbox, *client, clock, d);
  return hal::ok();
}

hal::Status Station::Impl::build_loop() {
  agent::CurlGraphqlClient* c = client.get();
  auto l = EventLoop::create(
      clock, [c](std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) {
        return c->wait(fds, max.value_or(agent::HttpMulti::kForever));
      });
  if (!l.ok()) {
    return std::move(l).error();
  }
  loop = std::make_unique<EventLoop>(std::move(l).value());
  for (auto* d : devices->inputs()) {
    loop->add_device(d);
  }
  loop->on_events([this](std::vector<hal::StationEvent>& ev) { handle(ev); });
  loop->on_signal([this](int signo) { on_signal(signo); });
  loop->after_wait([this](MonoTime now) { after_wait(now); });
  loop->add_fd(time.fd(), [this] {
    time.on_readable();
    check_time_sync();
  });
  if (outbox_watch) {
    FileWatch* w = &*outbox_watch;
    loop->add_fd(w->fd(), [w] { w->drain(); });  // after_wait() polls the dispatcher
  }
  wire_timers();
  return hal::ok();
}

void Station::Impl::wire_timers() {
  loop->add_timer({[this]() -> std::optional<MonoTime> {
                     MonoTime due = dispatcher->next_due();
                     return due == MonoTime::max() ? std::nullopt : std::optional<MonoTime>(due);
                   },
                   [this](MonoTime now) {
                     check_time_sync();
                     dispatcher->poll(now);
                   }});
  loop->add_timer({[this] { return devices->feedback().next_deadline(); },
                   [this](MonoTime now) { devices->feedback().on_deadline(now); }});
  loop->add_timer({[this] { return report->next_due(); }, [this](MonoTime now) { report->publish(now); }});
  if (auto wd = notify.watchdog_interval()) {
    // Pinged from the loop itself: if the loop is stuck, systemd restarts the service. This is
    // the one deliberate periodic wakeup, and only when the unit sets WatchdogSec=; it is also
    // what detects a hung daemon (`ion-agent status` only sees whether it is alive).
    next_watchdog = clock.mono();
    loop->add_timer({[this] { return std::optional<MonoTime>(next_watchdog); },
                     [this, wd](MonoTime now) {
                       notify.send("WATCHDOG=1");
                       next_watchdog = now + *wd;
                     }});
  }
  // No timer looks for a slewed clock sync: event times only matter when an event is stamped
  // or sent, and both look first (handle(), after_wait(), the dispatcher timer); a stepped
  // clock wakes us through the timerfd at once.
  loop->add_timer({[this]() -> std::optional<MonoTime> {
                     return stopping ? std::optional<MonoTime>(drain_until) : std::nullopt;
                   },
                   [this](MonoTime) { quit = true; }});
}

agent::EventTime Station::Impl::stamp(const hal::StationEvent& ev) const {
  agent::EventTime t = time.stamp();
  if (ev.at != MonoTime{}) {
    // The device saw it slightly earlier than we stamp it: move both clocks back together.
    auto ago = clock.mono() - ev.at;
    if (ago > std::chrono::nanoseconds(0)) {
      t.wall_ms -= std::chrono::duration_cast<std::chrono::milliseconds>(ago).count();
      t.since_boot_ns -= std::chrono::duration_cast<std::chrono::nanoseconds>(ago).count();
    }
  }
  return t;
}

void Station::Impl::handle(std::vector<hal::StationEvent>& events) {
  check_time_sync();  // stamp with the freshest knowledge of the clock
  for (const auto& ev : events) {
    if (stopping) {
      break;
    }
    agent::Reaction r = workflow->on_event(ev, stamp(ev), *sink);
    MonoTime now = clock.mono();
    for (const auto& p : r.outputs) {
      devices->play(p, now);
    }
    std::string what = ev.kind == hal::StationEvent::Kind::scan ? "scan \"" + ev.text + "\"" : ev.input;
    if (r.signal == agent::Signal::accepted) {
      hal::log::info("station", what + ": " + r.message);
    } else if (r.signal) {
      hal::log::warning("station", what + ": " + agent::to_string(*r.signal) + ": " + r.message);
    } else {
      hal::log::debug("station", what + ": " + r.message);
    }
    report->record(ev, r, now);
  }
  if (!stopping) {
    dispatcher->poll(clock.mono());
  }
}

void Station::Impl::after_wait(MonoTime now) {
  client->perform();
  if (!quit) {
    check_time_sync();  // correct unsynced event times before any of them is sent
    dispatcher->poll(now);
  }
  report->touch();
  if (stopping && dispatcher->in_flight() == 0 && client->in_flight() == 0) {
    quit = true;
  }
}

void Station::Impl::check_time_sync() {
  if (auto boot_wall = time.newly_synced()) {
    auto n = outbox->correct_unsynced_times(time.boot_id(), *boot_wall);
    if (n.ok()) {
      hal::log::notice("time",
                       "clock synchronised; corrected the time of " + std::to_string(*n) + " event(s)");
    } else {
      hal::log::error("time", "correct event times: " + n.error().what);
    }
  }
}

void Station::Impl::on_signal(int signo) {
  if (signo == SIGHUP) {
    reload();
    return;
  }
  if (stopping) {
    hal::log::notice("station", "second stop signal: exiting now; undelivered intents stay in the outbox");
    quit = true;
    return;
  }
  stopping = true;
  drain_until = clock.mono() + opt.drain;
  loop->clear_devices();  // no new events while draining
  notify.send("STOPPING=1");
  hal::log::notice("station", "stopping: finishing " + std::to_string(dispatcher->in_flight()) +
                                  " delivery(ies) in flight (at most " + std::to_string(opt.drain.count()) +
                                  " ms)");
  report->touch();
  report->set_state("draining");
}

void Station::Impl::reload() {
  auto p = agent::load_profile(opt.config);
  if (!p.ok()) {
    std::istringstream lines(p.error().what);
    for (std::string line; std::getline(lines, line);) {
      hal::log::error("config", line);
    }
    hal::log::error("config", "reload refused: keeping the profile loaded before");
    return;
  }
  if (!opt.metrics_file.empty()) {
    p->metrics.textfile = opt.metrics_file;
  }
  auto np = std::make_shared<const agent::Profile>(std::move(p).value());
  auto nd = StationDevices::build(*np, opt.sim, clock.mono());
  if (!nd.ok()) {
    hal::log::error("config", "reload refused: " + nd.error().what);
    return;
  }
  loop->clear_devices();
  devices = std::move(nd).value();
  for (auto* d : devices->inputs()) {
    loop->add_device(d);
  }
  profile = np;
  workflow->set_profile(np);
  hal::log::set_level(np->log_level);
  report->set_profile(np, devices.get());
  hal::log::notice("config", "reloaded " + opt.config);
}

Station::Station(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Station::~Station() = default;

hal::Result<std::unique_ptr<Station>> Station::create(const RunOptions& options, const hal::Clock& clock) {
  auto impl = std::make_unique<Impl>(options, clock);
  auto p = agent::load_profile(options.config);
  if (!p.ok()) {
    return std::move(p).error();
  }
  if (!options.metrics_file.empty()) {
    p->metrics.textfile = options.metrics_file;
  }
  impl->profile = std::make_shared<const agent::Profile>(std::move(p).value());
  hal::log::set_level(impl->profile->log_level);
  ION_TRY(impl->open_outbox(), "outbox");
  ION_TRY(impl->open_client(), "ion");
  auto d = StationDevices::build(*impl->profile, options.sim, clock.mono());
  if (!d.ok()) {
    return std::move(d).error();
  }
  impl->devices = std::move(d).value();
  impl->workflow = std::make_unique<agent::Workflow>(impl->profile, gs1_of);
  impl->report = std::make_unique<StationReport>(options.state_dir, clock, *impl->outbox, *impl->dispatcher,
                                                 *impl->client, impl->time, impl->notify);
  impl->report->set_profile(impl->profile, impl->devices.get());
  impl->report->set_context(&impl->workflow->context());
  ION_TRY(impl->build_loop(), "station");
  return std::unique_ptr<Station>(new Station(std::move(impl)));
}

int Station::run() {
  Impl& s = *impl_;
  hal::log::notice("station", "running " + s.opt.config + " (" + std::to_string(s.profile->inputs.size()) +
                                  " inputs, " + std::to_string(s.profile->rules.size()) +
                                  " rules), state in " + s.opt.state_dir);
  s.dispatcher->poll(s.clock.mono());
  s.report->publish(s.clock.mono());
  s.notify.send("READY=1");
  while (!s.quit) {
    hal::Status st = s.loop->run_once();
    if (!st.ok()) {
      hal::log::error("station", st.error().what);
      return 1;
    }
  }
  s.report->set_state("stopped");
  s.report->publish(s.clock.mono());
  hal::log::notice("station", "stopped");
  return 0;
}

}  // namespace firmware
