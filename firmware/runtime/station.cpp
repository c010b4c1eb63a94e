// SPDX-License-Identifier: Apache-2.0
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
#include "hal/log.hpp"
#include "ion_connection.hpp"
#include "sd_notify.hpp"
#include "station_devices.hpp"
#include "station_impl.hpp"
#include "station_report.hpp"
#include "time_sync.hpp"

namespace firmware {
namespace {

using namespace std::chrono_literals;
using MonoTime = hal::Clock::MonoTime;

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

StartFailure outbox_failure(const hal::Error& e) {
  switch (e.code) {
    case hal::Errc::parse:
      return StartFailure::outbox_corrupt;
    case hal::Errc::rejected:
      return StartFailure::outbox_schema;
    default:
      return StartFailure::outbox_storage;  // busy, I/O, disk full: a restart may fix it
  }
}

}  // namespace

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

hal::Status Station::Impl::build_loop() {
  auto l = EventLoop::create(
      clock, [this](std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) {
        return wait(fds, max);
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
  if (net_watch) {
    loop->add_fd(net_watch->fd(), [this] { on_network_change(); });
  }
  wire_timers();
  return hal::ok();
}

void Station::Impl::wire_timers() {
  loop->add_timer({[this]() -> std::optional<MonoTime> {
                     if (!client) {
                       return next_credentials_try;  // the one wakeup of a station without credentials
                     }
                     return std::nullopt;
                   },
                   [this](MonoTime now) {
                     if (!client) {
                       try_credentials(now);
                     }
                   }});
  loop->add_timer({[this]() -> std::optional<MonoTime> {
                     if (!dispatcher) {
                       return std::nullopt;
                     }
                     MonoTime due = dispatcher->next_due();
                     return due == MonoTime::max() ? std::nullopt : std::optional<MonoTime>(due);
                   },
                   [this](MonoTime now) {
                     check_time_sync();
                     if (dispatcher) {
                       dispatcher->poll(now);
                     }
                   }});
  // An interlock question ION has not answered in time: the rule's "offline" decides.
  loop->add_timer({[this] { return interlocks ? interlocks->next_deadline() : std::nullopt; },
                   [this](MonoTime now) {
                     if (interlocks) {
                       interlocks->on_deadline(now);
                     }
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
  loop->add_timer({[this] { return next_interval_read(); }, [this](MonoTime now) { interval_reads(now); }});
  // No timer looks for a slewed clock sync: event times only matter when an event is stamped
  // or sent, and both look first (handle(), after_wait(), the dispatcher timer); a stepped
  // clock wakes us through the timerfd at once.
  loop->add_timer({[this]() -> std::optional<MonoTime> {
                     return stopping ? std::optional<MonoTime>(drain_until) : std::nullopt;
                   },
                   [this](MonoTime) { quit = true; }});
}

// Instruments with interval_ms are read that often while a unit is current (the context has
// unit.serial): the first read one interval after the unit appeared (its scan rule may read at
// once), none while no unit is on the bench, so an idle station does not wake.
std::optional<MonoTime> Station::Impl::next_interval_read() {
  if (stopping) {
    return std::nullopt;
  }
  auto unit = workflow->context().find("unit.serial");
  if (unit == workflow->context().end()) {
    interval_unit.clear();
    interval_due.clear();
    return std::nullopt;
  }
  if (unit->second != interval_unit) {
    interval_unit = unit->second;
    interval_due.clear();
  }
  std::optional<MonoTime> best;
  MonoTime now = clock.mono();
  for (const auto& in : profile->inputs) {
    if (!in.is_instrument() || in.interval_ms <= 0) {
      continue;
    }
    auto it = interval_due.find(in.name);
    if (it == interval_due.end()) {
      it = interval_due.emplace(in.name, now + std::chrono::milliseconds(in.interval_ms)).first;
    }
    if (!best || it->second < *best) {
      best = it->second;
    }
  }
  return best;
}

void Station::Impl::interval_reads(MonoTime now) {
  for (const auto& in : profile->inputs) {
    auto it = interval_due.find(in.name);
    if (in.is_instrument() && in.interval_ms > 0 && it != interval_due.end() && now >= it->second) {
      it->second = now + std::chrono::milliseconds(in.interval_ms);
      devices->query(in.name, now);
    }
  }
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
    if (r.deferred) {
      hal::log::debug("station", ev.input + ": " + r.message);
      continue;  // decided when ION answers the interlock check (show() via on_deferred)
    }
    show(ev, r);
  }
  if (!stopping && dispatcher) {
    dispatcher->poll(clock.mono());
  }
}

// Feedback, log and status for one decided event (at once, or after an interlock answer).
void Station::Impl::show(const hal::StationEvent& ev, const agent::Reaction& r) {
  MonoTime now = clock.mono();
  for (const auto& p : r.outputs) {
    devices->play(p, now);
  }
  for (const auto& name : r.reads) {
    devices->query(name, now);
  }
  std::string what = ev.kind == hal::StationEvent::Kind::scan      ? "scan \"" + ev.text + "\""
                     : ev.kind == hal::StationEvent::Kind::reading ? "reading \"" + ev.text + "\""
                     : ev.kind == hal::StationEvent::Kind::file    ? "file \"" + ev.text + "\""
                                                                   : ev.input;
  if (r.signal == agent::Signal::accepted) {
    hal::log::info("station", what + ": " + r.message);
  } else if (r.signal) {
    hal::log::warning("station", what + ": " + agent::to_string(*r.signal) + ": " + r.message);
  } else {
    hal::log::debug("station", what + ": " + r.message);
  }
  report->record(ev, r, now);
}

void Station::Impl::after_wait(MonoTime now) {
  if (client) {
    client->perform();
  }
  if (!quit) {
    check_time_sync();  // correct unsynced event times before any of them is sent
    if (dispatcher) {
      dispatcher->poll(now);
    }
  }
  report->touch();
  quit_if_idle_stopping();
}

// Stopping with nothing in flight: nothing to drain, so exit now rather than at drain_until
// (the loop reads signals after after_wait(), so on_signal() must look as well).
void Station::Impl::quit_if_idle_stopping() {
  if (stopping && (!dispatcher || dispatcher->in_flight() == 0) && (!client || client->in_flight() == 0) &&
      !workflow->busy()) {
    quit = true;
  }
}

// The kernel's netlink socket: readable only when a link, an address or a route changes, so
// an idle station on a quiet network is not woken. Without it (no netlink in a sandbox, or
// ion.watch_network false) the network's return is seen by the next link probe.
void Station::Impl::open_net_watch() {
  if (!profile->ion.watch_network) {
    hal::log::info("network",
                   "ion.watch_network is off: the network's return is seen by the next link probe");
    return;
  }
  auto w = hal::linux_netlink::NetlinkWatch::open();
  if (!w.ok()) {
    hal::log::warning("network", w.error().what + "; the network's return is seen by the next link probe");
    return;
  }
  net_watch = std::move(w).value();
}

// One wakeup is one summary (coalesced): however many messages the kernel queued, at most one
// call to the dispatcher, which itself forces at most one probe per 2 s.
void Station::Impl::on_network_change() {
  hal::linux_netlink::NetChange c = net_watch->drain();
  if (!c.error.empty()) {
    // Not seen on a netlink socket in practice; stop rather than be woken by it forever.
    hal::log::warning("network",
                      c.error + "; no longer watching: the network's return is seen by the next link probe");
    loop->remove_fd(net_watch->fd());
    net_watch.reset();
    return;
  }
  if (c.malformed > 0 || c.truncated) {
    hal::log::debug("network", "ignored " + std::to_string(c.malformed) + " malformed netlink message(s)" +
                                   (c.truncated ? " and a truncated datagram" : ""));
  }
  if (!c.came_back() || stopping || !dispatcher || !profile->ion.watch_network) {
    return;
  }
  const MonoTime now = clock.mono();
  if (auto at = dispatcher->network_changed(now, c.reason())) {
    if (client) {
      client->tokens().network_changed(*at);
    }
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
  // Events already read and waiting for an interlock answer are decided now, by their rule's
  // "offline" policy; nothing new is asked of ION.
  workflow->stop_asking("the station is stopping");
  notify.send("STOPPING=1");
  hal::log::notice("station",
                   "stopping: finishing " + std::to_string(dispatcher ? dispatcher->in_flight() : 0) +
                       " delivery(ies) in flight (at most " + std::to_string(opt.drain.count()) + " ms)");
  report->touch();
  report->set_state("draining");
  quit_if_idle_stopping();
}

void Station::Impl::reload() {
  auto p = agent::load_profile(opt.config);
  if (!p.ok()) {
    hal::log::write_lines(hal::log::Level::error, "config", p.error().what);
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
  if (interlocks) {
    interlocks->set_options(interlock_options(*np));
  }
  hal::log::set_level(np->log_level);
  report->set_profile(np, devices.get());
  hal::log::notice("config", "reloaded " + opt.config);
  restore_context("reload");  // the new profile's context.max_age_s applies
}

// The context the outbox holds is the one the last accepted event left (committed with its
// intents), so after a crash the station goes on where it was: the unit on the bench is still
// the unit on the bench. Too old a context (profile context.max_age_s) is dropped instead,
// and `ion-agent status` says why.
void Station::Impl::restore_context(const char* when) {
  auto saved = outbox->saved_context();
  if (!saved.ok()) {
    hal::log::error("context",
                    std::string(when) + ": " + saved.error().what + "; starting without a context");
    report->set_context_note(std::string("not restored at ") + when + ": " + saved.error().what);
    return;
  }
  if (!*saved || (*saved)->json.empty() || (*saved)->json == "{}") {
    return;
  }
  auto ctx = agent::context_from_json((*saved)->json);
  if (!ctx.ok()) {
    hal::log::error("context", std::string(when) + ": " + ctx.error().what + "; starting without a context");
    report->set_context_note(std::string("not restored at ") + when + ": " + ctx.error().what);
    return;
  }
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall().time_since_epoch()).count();
  const std::int64_t age_s = (now_ms - (*saved)->saved_ms) / 1000;
  std::string keys;
  for (const auto& kv : *ctx) {
    keys += (keys.empty() ? "" : ", ") + kv.first + "=" + kv.second;
  }
  const int max_age = profile->context.max_age_s;
  if (max_age > 0 && age_s > max_age) {
    std::string why = "dropped at " + std::string(when) + ": saved " + std::to_string(age_s) +
                      " s ago, older than context.max_age_s (" + std::to_string(max_age) + " s)";
    hal::log::notice("context", why + ": " + keys);
    auto cleared = outbox->append_with_context({}, "{}");
    if (!cleared.ok()) {
      hal::log::error("context", "clear the saved context: " + cleared.error().what);
    }
    workflow->restore_context({});
    report->set_context_note(why);
    return;
  }
  hal::log::notice("context", std::string("restored at ") + when + " (saved " + std::to_string(age_s) +
                                  " s ago): " + keys);
  workflow->restore_context(std::move(ctx).value());
  report->set_context_note(std::string("restored at ") + when + " (saved " + std::to_string(age_s) +
                           " s ago)");
}

Station::Station(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Station::~Station() = default;

hal::Result<std::unique_ptr<Station>> Station::create(const RunOptions& options, const hal::Clock& clock,
                                                      StartFailure* why) {
  StartFailure ignored = StartFailure::config;
  StartFailure& failure = why != nullptr ? *why : ignored;
  failure = StartFailure::config;
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
  if (auto st = impl->open_outbox(); !st.ok()) {
    failure = outbox_failure(st.error());
    return std::move(st).error().context("outbox");
  }
  if (auto st = impl->open_client(); !st.ok()) {
    if (impl->vault_failure == agent::VaultFailure::none) {
      return std::move(st).error().context("ion");  // the credentials open, the settings are bad
    }
    // Credential trouble does not darken the station: it starts, accepts and keeps events,
    // says why in status/metrics/STATUS=, and picks the credentials up once they are fixed.
    // Until then a rule's `require` cannot be asked: its "offline" policy decides.
    impl->interlocks.reset();
    impl->dispatcher.reset();
    impl->client.reset();
    impl->credentials_problem = st.error().what;
    hal::log::error("ion", impl->credentials_problem +
                               "; starting anyway: events are accepted and kept, and "
                               "the credentials are tried again every " +
                               std::to_string(kCredentialsRetry.count()) + " s");
  }
  auto d = StationDevices::build(*impl->profile, options.sim, clock.mono());
  if (!d.ok()) {
    return std::move(d).error();
  }
  impl->devices = std::move(d).value();
  impl->workflow = std::make_unique<agent::Workflow>(impl->profile, gs1_of);
  impl->workflow->set_interlocks(impl->interlocks.get());
  Impl* self = impl.get();
  impl->workflow->on_deferred([self](const hal::StationEvent& ev, const agent::Reaction& r) {
    self->show(ev, r);
    if (!self->stopping && self->dispatcher) {
      self->dispatcher->poll(self->clock.mono());
    }
  });
  impl->report =
      std::make_unique<StationReport>(options.state_dir, clock, *impl->outbox, impl->dispatcher.get(),
                                      impl->client.get(), impl->time, impl->notify);
  if (!impl->credentials_problem.empty()) {
    impl->report->set_credentials_problem(to_string(impl->vault_failure), impl->credentials_problem);
    impl->next_credentials_try = clock.mono() + kCredentialsRetry;
  }
  impl->report->set_profile(impl->profile, impl->devices.get());
  impl->report->set_context(&impl->workflow->context());
  impl->restore_context("start");
  impl->open_net_watch();
  ION_TRY(impl->build_loop(), "station");
  return std::unique_ptr<Station>(new Station(std::move(impl)));
}

int Station::run() {
  Impl& s = *impl_;
  hal::log::notice("station", "running " + s.opt.config + " (" + std::to_string(s.profile->inputs.size()) +
                                  " inputs, " + std::to_string(s.profile->rules.size()) +
                                  " rules), state in " + s.opt.state_dir);
  if (s.dispatcher) {
    s.dispatcher->poll(s.clock.mono());
  }
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
