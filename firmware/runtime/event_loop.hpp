// SPDX-License-Identifier: Apache-2.0
// EventLoop: the daemon's one loop on one thread (README "One loop, one thread").
// Everything is a file descriptor or a deadline: station devices (hal::Device), a signalfd
// for SIGTERM/SIGINT/SIGHUP, extra fds (the time-sync timerfd) and timers, which are
// functions returning their next deadline. The wait itself is a Waiter: in the daemon it is
// curl_multi_poll() on the GraphQL client's multi handle with our fds as extra fds, so HTTP
// transfers, devices and signals wake the same wait (chosen over epoll + the multi-socket API:
// fewer moving parts for a handful of fds, and curl keeps its own timeouts). Without transfers
// or deadlines the wait has no timeout at all (poll(2) with -1): an idle agent sleeps in the
// kernel and makes zero wakeups. Timers return a deadline only when one is real (a retry, an
// output pattern's end, a scan's gap timeout, the drain limit, a token renewal for queued
// requests); the one deliberate periodic wakeup is the systemd watchdog ping, and only when
// the unit sets WatchdogSec=.
//
// Only the loop thread touches Outbox, Workflow, Dispatcher and devices. Handlers run inside
// run_once(); a handler may add or remove nothing while the loop iterates (build first, run
// after). Nothing here throws.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "hal/c_handle.hpp"
#include "hal/clock.hpp"
#include "hal/device.hpp"
#include "hal/result.hpp"

namespace firmware {

class EventLoop {
 public:
  using MonoTime = hal::Clock::MonoTime;
  // Waits until one of `fds` is ready (revents set), the client has work, or `max` passed
  // (nullopt = no limit).
  using Waiter =
      std::function<hal::Status(std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max)>;
  using EventsFn = std::function<void(std::vector<hal::StationEvent>& events)>;

  struct Timer {
    std::function<std::optional<MonoTime>()> next;
    std::function<void(MonoTime now)> fire;
  };

  // Blocks SIGTERM, SIGINT and SIGHUP and opens the signalfd for them.
  static hal::Result<EventLoop> create(const hal::Clock& clock, Waiter waiter);

  void add_device(hal::Device* device);
  void clear_devices() { devices_.clear(); }
  void on_events(EventsFn fn) { on_events_ = std::move(fn); }
  void add_fd(int fd, std::function<void()> on_ready);
  // Stops waiting on `fd` (safe from inside its own handler: the entry is skipped from the
  // next pass on). For an fd that broke and would otherwise be reported ready forever.
  void remove_fd(int fd);
  void add_timer(Timer timer) { timers_.push_back(std::move(timer)); }
  void on_signal(std::function<void(int signo)> fn) { on_signal_ = std::move(fn); }
  // Runs after every wait, after ready fds were handled (the HTTP client's perform()).
  void after_wait(std::function<void(MonoTime now)> fn) { after_wait_ = std::move(fn); }

  // One pass: fire due deadlines, wait, handle what became ready.
  hal::Status run_once();
  // Passes run_once() made so far (for tests: idle means this stays put).
  std::uint64_t wakeups() const { return wakeups_; }

 private:
  EventLoop(const hal::Clock& clock, Waiter waiter, hal::UniqueFd sigfd);
  std::optional<MonoTime> earliest() const;
  void fire_due(MonoTime now, std::vector<hal::StationEvent>& events);
  void read_signals();

  const hal::Clock* clock_;
  Waiter waiter_;
  hal::UniqueFd sigfd_;
  std::vector<hal::Device*> devices_;
  std::vector<std::pair<int, std::function<void()>>> fds_;
  std::vector<Timer> timers_;
  EventsFn on_events_;
  std::function<void(int)> on_signal_;
  std::function<void(MonoTime)> after_wait_;
  std::uint64_t wakeups_ = 0;
};

// A Waiter over poll(2), for loops without HTTP transfers (tests, `--no-network`).
EventLoop::Waiter poll_waiter();

}  // namespace firmware
