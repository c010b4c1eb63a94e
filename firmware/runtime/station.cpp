// SPDX-License-Identifier: Apache-2.0
#include "station.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <map>
#include <sstream>

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
#include "station_report.hpp"
#include "time_sync.hpp"

namespace firmware {
namespace {

using namespace std::chrono_literals;
using MonoTime = hal::Clock::MonoTime;

constexpr std::chrono::seconds kCredentialsRetry{5};

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

agent::InterlockOptions interlock_options(const agent::Profile& p) {
  agent::InterlockOptions o;
  o.timeout = std::chrono::milliseconds(p.interlocks.timeout_ms);
  o.cache = std::chrono::seconds(p.interlocks.cache_s);
  return o;
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

// What fixes each vault failure: the message must not send someone to re-provision when a
// chmod would do.
const char* credential_fix(agent::VaultFailure f) {
  switch (f) {
    case agent::VaultFailure::missing:
      return "run `ion-agent provision` first";
    case agent::VaultFailure::loose_mode:
      return "make credentials.sealed and device.key readable by their owner only (chmod 600)";
    case agent::VaultFailure::unknown_format:
      return "not a credentials file this program reads: run `ion-agent provision` again";
    case agent::VaultFailure::auth_failed:
      return "altered, or sealed on another board: run `ion-agent provision` again";
    case agent::VaultFailure::key_other_device:
      return "the key was sealed by another TPM or is not on this token: provision this board";
    case agent::VaultFailure::key_policy:
      return "the TPM's PCR values changed since provisioning: provision again";
    case agent::VaultFailure::key_device_absent:
      return "the TPM or token is not reachable (yet): check --tcti or the PKCS#11 module";
    case agent::VaultFailure::key_wrong_pin:
      return "the token PIN is wrong: fix the pin-source file or the ion-agent.pkcs11-pin credential";
    case agent::VaultFailure::key_pin_locked:
      return "the token PIN is locked or the TPM is in lockout: unlock it, then it is picked up";
    case agent::VaultFailure::key_tampered:
      return "the TPM or token refused the stored key blob as altered: provision again";
    case agent::VaultFailure::key_unavailable:
      return "sealed by a key provider this build does not include";
    case agent::VaultFailure::board_identity:
    case agent::VaultFailure::device_key:
    case agent::VaultFailure::io:
    case agent::VaultFailure::none:
      break;
  }
  return "the state directory, the device key or /etc/machine-id cannot be read";
}

// An instrument's reply as it may go into a log line: bytes outside printable ASCII as \xNN.
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return out;
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
  std::unique_ptr<agent::IonInterlocks> interlocks;  // answers the rules' `require`
  std::optional<FileWatch> outbox_watch;             // wakes us when another process changes the outbox
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
  void quit_if_idle_stopping();
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

// The token endpoint's backoff while ION or the link is down: short, because the dispatcher
// already paces the requests that need a token (one link-down probe every 24-30 s) and a
// token backoff of minutes would outlast ION's return (seen in the fleet test: stations
// idle up to 47 s after ION was back). Still at most the profile's retry cap.
static std::chrono::milliseconds token_backoff_cap(std::chrono::milliseconds retry_cap) {
  return std::min(retry_cap, std::chrono::milliseconds(10000));
}

hal::Status Station::Impl::open_client() {
  vault_failure = agent::VaultFailure::none;
  // No PIN prompt here: the daemon's stdin may be the simulator's input. A token PIN comes from
  // the URI's pin-source or the service credential (Pkcs11KeyProvider).
  agent::KeyProviderSettings ks;
  ks.tcti = opt.tcti;
  int code = 0;
  auto opened = open_vault(opt.state_dir, ks, &code, &vault_failure);
  if (!opened.ok()) {
    return std::move(opened).error().context(std::string("credentials (") + credential_fix(vault_failure) +
                                             ")");
  }
  hal::log::info("vault", "key protected by " + opened->provider);
  agent::Credentials* creds = &opened->creds;
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
  o.token_policy.max_backoff = token_backoff_cap(std::chrono::milliseconds(ion.retry_cap_ms));
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
  interlocks = std::make_unique<agent::IonInterlocks>(*client, clock, interlock_options(*profile));
  return hal::ok();
}

// The loop's wait: the client's (curl_multi_poll on its transfers and our fds), or, while there
// is no client (no usable credentials), a plain poll(2) on our fds.
hal::Status Station::Impl::wait(std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) {
  if (client) {
    return client->wait(fds, max.value_or(agent::HttpMulti::kForever));
  }
  std::vector<pollfd> p(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    p[i].fd = fds[i].fd;
    p[i].events = static_cast<short>(((fds[i].events & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                                     ((fds[i].events & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
                                     ((fds[i].events & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
  }
  const int timeout = max ? static_cast<int>(std::min<std::int64_t>(max->count(), 1 << 30)) : -1;
  if (::poll(p.data(), p.size(), timeout) < 0 && errno != EINTR) {
    return hal::errno_error(hal::Errc::io, "poll", errno);
  }
  for (std::size_t i = 0; i < fds.size(); ++i) {
    fds[i].revents = static_cast<short>(((p[i].revents & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                                        ((p[i].revents & POLLPRI) ? CURL_WAIT_POLLPRI : 0) |
                                        ((p[i].revents & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
  }
  return hal::ok();
}

void Station::Impl::try_credentials(MonoTime now) {
  next_credentials_try = now + kCredentialsRetry;
  auto st = open_client();
  if (!st.ok()) {
    workflow->set_interlocks(nullptr);
    interlocks.reset();
    dispatcher.reset();
    client.reset();
    if (st.error().what != credentials_problem) {
      credentials_problem = st.error().what;
      hal::log::error("ion", credentials_problem + "; events are still accepted and kept");
      report->set_credentials_problem(to_string(vault_failure), credentials_problem);
    }
    return;
  }
  credentials_problem.clear();
  workflow->set_interlocks(interlocks.get());
  report->set_link(dispatcher.get(), client.get());
  report->set_credentials_problem("", "");
  hal::log::notice("ion", "the sealed credentials open now: delivering what was kept");
  dispatcher->poll(now);
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
                     : ev.kind == hal::StationEvent::Kind::reading ? "reading \"" + printable(ev.text) + "\""
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
