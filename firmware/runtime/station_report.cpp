// SPDX-License-Identifier: Apache-2.0
#include "station_report.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/common/atomic_file.hpp"
#include "agent/common/json.hpp"
#include "agent/status/metrics_text.hpp"
#include "agent/status/status_file.hpp"
#include "hal/log.hpp"
#include "process_identity.hpp"

namespace firmware {
namespace {

using namespace std::chrono_literals;

// systemd's RuntimeDirectory= (a colon-separated list; the unit names one), when it is a
// directory and not the state dir itself.
std::string status_dir_for(const std::string& state_dir) {
  const char* env = std::getenv("RUNTIME_DIRECTORY");
  if (env == nullptr || *env == '\0') {
    return state_dir;
  }
  std::string dir(env);
  dir = dir.substr(0, dir.find(':'));
  struct stat rt {};
  struct stat sd {};
  if (dir.empty() || dir[0] != '/' || ::stat(dir.c_str(), &rt) != 0 || !S_ISDIR(rt.st_mode) ||
      (::stat(state_dir.c_str(), &sd) == 0 && sd.st_dev == rt.st_dev && sd.st_ino == rt.st_ino)) {
    return state_dir;
  }
  return dir;
}

std::int64_t to_ms(hal::Clock::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

StationReport::StationReport(std::string state_dir, const hal::Clock& clock, agent::Outbox& outbox,
                             agent::Dispatcher* dispatcher, agent::CurlGraphqlClient* client, TimeSync& time,
                             SdNotify& notify)
    : state_dir_(std::move(state_dir)),
      status_dir_(status_dir_for(state_dir_)),
      clock_(clock),
      outbox_(outbox),
      dispatcher_(dispatcher),
      client_(client),
      time_(time),
      notify_(notify),
      started_ms_(to_ms(clock.wall())),
      pid_start_(process_start_ticks(::getpid()).value_or(0)) {}

void StationReport::set_profile(std::shared_ptr<const agent::Profile> profile,
                                const StationDevices* devices) {
  profile_ = std::move(profile);
  devices_ = devices;
  next_metrics_ = clock_.mono();
  metrics_dirty_ = true;
  dirty_ = true;
}

void StationReport::record(const hal::StationEvent& ev, const agent::Reaction& r, MonoTime now) {
  if (r.signal == agent::Signal::accepted) {
    ++accepted_;
    if (ev.at != MonoTime{} && !r.intent_ids.empty()) {
      latency_last_ms_ = std::chrono::duration<double, std::milli>(now - ev.at).count();
      latency_max_ms_ = std::max(latency_max_ms_, latency_last_ms_);
    }
  } else if (r.signal) {
    ++refused_;
  }
  agent::Json o(cJSON_CreateObject());
  cJSON_AddStringToObject(o.get(), "input", ev.input.c_str());
  cJSON_AddStringToObject(o.get(), "kind", hal::to_string(ev.kind));
  cJSON_AddStringToObject(o.get(), "text", ev.text.c_str());
  if (r.signal) {
    cJSON_AddStringToObject(o.get(), "signal", agent::to_string(*r.signal));
  } else {
    cJSON_AddNullToObject(o.get(), "signal");
  }
  cJSON_AddStringToObject(o.get(), "message", r.message.c_str());
  cJSON_AddNumberToObject(o.get(), "at_ms", static_cast<double>(to_ms(clock_.wall())));
  agent::JsonText t(cJSON_PrintUnformatted(o.get()));
  last_event_json_ = t ? t.get() : "null";
  if (r.signal == agent::Signal::interlock) {
    last_interlock_json_ = last_event_json_;  // which condition, which issue or run
  }
  dirty_ = true;
}

agent::DispatcherStatus StationReport::dispatcher_status() const {
  if (dispatcher_ != nullptr) {
    return dispatcher_->status();
  }
  agent::DispatcherStatus d;
  d.link_ok = false;
  d.last_error = credentials_problem_;
  return d;
}

agent::TokenStatus StationReport::token_status() const {
  if (client_ != nullptr) {
    return client_->token_status();
  }
  agent::TokenStatus t;
  t.state = agent::TokenStatus::State::failed;
  t.last_error = credentials_problem_;
  return t;
}

std::string StationReport::fingerprint() const {
  agent::DispatcherStatus d = dispatcher_status();
  agent::TokenStatus t = token_status();
  std::string f = std::to_string(d.delivered) + "/" + std::to_string(d.rejected) + "/" +
                  std::to_string(d.retried) + "/" + std::to_string(d.in_flight) + "/" +
                  (d.link_ok ? "up" : "down") + "/" + d.last_error + "/" + agent::to_string(t.state) + "/" +
                  std::to_string(outbox_.generation()) + "/" + state_ + (time_.synced() ? "/synced" : "") +
                  "/" + credentials_problem_;
  if (devices_ != nullptr) {
    for (const auto& s : devices_->status()) {
      f += s.connected ? "+" : "-";
    }
  }
  return f;
}

void StationReport::touch() {
  if (!dirty_ && fingerprint() != published_) {
    dirty_ = true;
  }
}

std::optional<StationReport::MonoTime> StationReport::next_due() const {
  // Only real deadlines: a change waiting out the one-second rate limit, and a textfile that
  // is behind (changes, or a pending backlog whose age moves). No refresh while nothing moves.
  // The fingerprint is compared here too, not only in touch(): a change made while timers fire
  // (a scanner reopened on its deadline) happens after the last touch() and before the loop
  // computes how long to sleep, and would otherwise wait for an unrelated wakeup.
  std::optional<MonoTime> due;
  if (dirty_ || fingerprint() != published_) {
    due = last_publish_ + 1s;
  }
  if (metrics_on() && metrics_dirty_ && (!due || next_metrics_ < *due)) {
    due = next_metrics_;
  }
  return due;
}

agent::Json StationReport::status_json() const {
  agent::Json o(cJSON_CreateObject());
  cJSON* r = o.get();
  cJSON_AddNumberToObject(r, "version", 1);
  cJSON_AddNumberToObject(r, "pid", static_cast<double>(::getpid()));
  cJSON_AddNumberToObject(r, "pid_start", static_cast<double>(pid_start_));
  cJSON_AddStringToObject(r, "station", profile_ ? profile_->station.c_str() : "");
  cJSON_AddStringToObject(r, "profile", profile_ ? profile_->file.c_str() : "");
  cJSON_AddStringToObject(r, "state", state_.c_str());
  cJSON_AddNumberToObject(r, "started_ms", static_cast<double>(started_ms_));
  cJSON_AddNumberToObject(r, "updated_ms", static_cast<double>(to_ms(clock_.wall())));
  cJSON_AddBoolToObject(r, "clock_synced", time_.synced());
  cJSON_AddStringToObject(r, "boot_id", time_.boot_id().c_str());
  cJSON* devs = cJSON_AddArrayToObject(r, "devices");
  if (devices_ != nullptr) {
    for (const auto& s : devices_->status()) {
      cJSON* d = cJSON_CreateObject();
      cJSON_AddStringToObject(d, "name", s.name.c_str());
      cJSON_AddStringToObject(d, "kind", devices_->kind_of(s.name).c_str());
      cJSON_AddStringToObject(d, "path", s.path.c_str());
      cJSON_AddBoolToObject(d, "connected", s.connected);
      cJSON_AddStringToObject(d, "last_error", s.last_error.c_str());
      cJSON_AddStringToObject(d, "state", s.connected ? "connected" : "missing");
      cJSON_AddStringToObject(d, "detail", s.last_error.empty() ? s.path.c_str() : s.last_error.c_str());
      cJSON_AddItemToArray(devs, d);
    }
  }
  agent::TokenStatus t = token_status();
  cJSON* tok = cJSON_AddObjectToObject(r, "token");
  cJSON_AddStringToObject(tok, "state", agent::to_string(t.state));
  if (t.state == agent::TokenStatus::State::valid) {
    cJSON_AddNumberToObject(
        tok, "expires_in_s",
        static_cast<double>(
            std::chrono::duration_cast<std::chrono::seconds>(t.valid_until - clock_.wall()).count()));
    // The file is not rewritten as time passes: readers recompute expires_in_s from this.
    cJSON_AddNumberToObject(tok, "valid_until_ms", static_cast<double>(to_ms(t.valid_until)));
  }
  cJSON_AddStringToObject(
      tok, "last_error",
      t.credentials_rejected ? "credentials rejected: re-provision" : t.last_error.c_str());
  agent::DispatcherStatus d = dispatcher_status();
  cJSON_AddItemToObject(r, "dispatcher", agent::dispatcher_status_json(d).release());
  cJSON* cred = cJSON_AddObjectToObject(r, "credentials");
  cJSON_AddBoolToObject(cred, "ok", credentials_problem_.empty());
  cJSON_AddStringToObject(cred, "failure", credentials_failure_.c_str());
  cJSON_AddStringToObject(cred, "problem", credentials_problem_.c_str());
  cJSON* link = cJSON_AddObjectToObject(r, "link");
  cJSON_AddBoolToObject(link, "ok", d.link_ok);
  cJSON_AddNumberToObject(link, "failures", d.link_failures);
  cJSON_AddNumberToObject(link, "retry_in_ms", static_cast<double>(d.retry_in.count()));
  cJSON_AddStringToObject(link, "last_error", d.last_error.c_str());
  cJSON* c = cJSON_AddObjectToObject(r, "counters");
  cJSON_AddNumberToObject(c, "accepted", static_cast<double>(accepted_));
  cJSON_AddNumberToObject(c, "refused", static_cast<double>(refused_));
  cJSON_AddNumberToObject(c, "delivered", static_cast<double>(d.delivered));
  cJSON_AddNumberToObject(c, "rejected", static_cast<double>(d.rejected));
  cJSON_AddNumberToObject(c, "retried", static_cast<double>(d.retried));
  cJSON_AddNumberToObject(c, "in_flight", static_cast<double>(d.in_flight));
  cJSON* lat = cJSON_AddObjectToObject(r, "accept_latency_ms");
  cJSON_AddNumberToObject(lat, "last", latency_last_ms_);
  cJSON_AddNumberToObject(lat, "max", latency_max_ms_);
  cJSON_AddItemToObject(r, "last_event", cJSON_Parse(last_event_json_.c_str()));
  cJSON_AddItemToObject(r, "last_interlock", cJSON_Parse(last_interlock_json_.c_str()));
  cJSON* ctx = cJSON_AddObjectToObject(r, "context");
  if (context_ != nullptr) {
    for (const auto& kv : *context_) {
      cJSON_AddStringToObject(ctx, kv.first.c_str(), kv.second.c_str());
    }
  }
  cJSON_AddStringToObject(r, "context_note", context_note_.c_str());
  return o;
}

bool StationReport::write_metrics() {
  agent::MetricsSnapshot m;
  m.station = profile_->station;
  auto st = outbox_.stats();
  std::int64_t now_ms = to_ms(clock_.wall());
  if (st.ok()) {
    m.pending = st->pending;
    m.in_flight = st->in_flight;
    m.dead = st->dead;
    m.oldest_pending_age_s =
        st->oldest_pending_ms ? static_cast<double>(now_ms - *st->oldest_pending_ms) / 1000.0 : 0;
    m.last_success_time_s = static_cast<double>(st->last_delivery_ms) / 1000.0;
    m.used_bytes = st->used_bytes;
    m.max_bytes = st->max_bytes;
  }
  agent::DispatcherStatus d = dispatcher_status();
  m.delivered_total = d.delivered;
  m.rejected_total = d.rejected;
  m.retried_total = d.retried;
  m.accepted_total = accepted_;
  m.refused_total = refused_;
  m.accept_latency_last_s = latency_last_ms_ / 1000.0;
  m.accept_latency_max_s = latency_max_ms_ / 1000.0;
  m.link_ok = d.link_ok;
  m.token_valid = token_status().state == agent::TokenStatus::State::valid;
  m.credentials_problem = credentials_failure_;
  m.clock_synced = time_.synced();
  m.start_time_s = static_cast<double>(started_ms_) / 1000.0;
  if (devices_ != nullptr) {
    for (const auto& s : devices_->status()) {
      m.devices.push_back({s.name, devices_->kind_of(s.name), s.connected});
    }
  }
  hal::Status w = agent::write_file_atomic(profile_->metrics.textfile, agent::format_metrics(m));
  if (!w.ok() && w.error().what != last_write_error_) {
    hal::log::warning("metrics", w.error().what);
  }
  last_write_error_ = w.ok() ? "" : w.error().what;
  return st.ok() && st->pending + st->in_flight > 0;
}

void StationReport::publish(MonoTime now) {
  touch();
  const bool final = state_ == "stopped";
  // A change in state (draining, stopped) is published at once, others at most once a second.
  if (dirty_ && (now >= last_publish_ + 1s || state_ != "running")) {
    write_status(now);
    metrics_dirty_ = true;
  }
  if (metrics_on() && metrics_dirty_ && (now >= next_metrics_ || final)) {
    metrics_dirty_ = write_metrics();
    next_metrics_ = now + std::chrono::seconds(profile_->metrics.interval_s);
  }
}

// Once per start, and only when the link is not already right (a restart leaves it): readers
// open <state-dir>/status.json as ever and follow it to the runtime directory. After a reboot
// (or once systemd removed the runtime directory at stop) it dangles, which readers take as no
// file: status.json is worthless after a reboot anyway. If the link cannot be made, the file
// stays in the state dir.
bool StationReport::link_status() {
  const std::string link = state_dir_ + "/" + agent::kStatusFileName;
  const std::string target = status_dir_ + "/" + agent::kStatusFileName;
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n > 0 && static_cast<std::size_t>(n) < sizeof buf &&
      std::string(buf, static_cast<std::size_t>(n)) == target) {
    return true;
  }
  const std::string tmp = link + ".link";
  (void)::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(tmp.c_str());
    hal::log::warning("status", "cannot link " + link + " to " + target + ": " + std::strerror(err) +
                                    "; writing it in the state directory");
    return false;
  }
  return true;
}

void StationReport::write_status(MonoTime now) {
  dirty_ = false;
  last_publish_ = now;
  published_ = fingerprint();
  agent::Json status = status_json();
  hal::Status w = agent::write_status_file(status_dir_, status.get());
  if (w.ok() && !linked_) {
    linked_ = true;  // after the first write: the link never points at nothing while we run
    if (status_dir_ != state_dir_ && !link_status()) {
      status_dir_ = state_dir_;
      w = agent::write_status_file(status_dir_, status.get());
    }
  }
  if (!w.ok()) {
    // No periodic refresh would repair the file later: try again in a minute.
    hal::log::warning("status", w.error().what + "; trying again in a minute");
    dirty_ = true;
    last_publish_ = now + 59s;
  }
  auto st = outbox_.stats();
  if (st.ok()) {
    agent::DispatcherStatus d = dispatcher_status();
    notify_.send("STATUS=pending " + std::to_string(st->pending + st->in_flight) + ", dead " +
                 std::to_string(st->dead) + ", delivered " + std::to_string(d.delivered) + ", link " +
                 (d.link_ok ? "up" : "down") +
                 (credentials_failure_.empty() ? "" : ", credentials unusable: " + credentials_failure_));
  }
}

}  // namespace firmware
