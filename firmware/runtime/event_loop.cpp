// SPDX-License-Identifier: Apache-2.0
#include "event_loop.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace firmware {

hal::Result<EventLoop> EventLoop::create(const hal::Clock& clock, Waiter waiter) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Signals become ordinary readable events: no async handlers touching daemon state.
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    return hal::errno_error(hal::Errc::io, "loop: block signals", errno);
  }
  int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    return hal::errno_error(hal::Errc::io, "loop: signalfd", errno);
  }
  return EventLoop(clock, std::move(waiter), hal::UniqueFd(fd));
}

EventLoop::EventLoop(const hal::Clock& clock, Waiter waiter, hal::UniqueFd sigfd)
    : clock_(&clock), waiter_(std::move(waiter)), sigfd_(std::move(sigfd)) {}

void EventLoop::add_device(hal::Device* device) {
  devices_.push_back(device);
}

void EventLoop::add_fd(int fd, std::function<void()> on_ready) {
  if (fd >= 0) {
    fds_.emplace_back(fd, std::move(on_ready));
  }
}

void EventLoop::remove_fd(int fd) {
  for (auto& f : fds_) {
    if (f.first == fd) {
      f.first = -1;  // erased by the next pass, never while run_once() iterates
    }
  }
}

std::optional<EventLoop::MonoTime> EventLoop::earliest() const {
  std::optional<MonoTime> best;
  auto take = [&](std::optional<MonoTime> t) {
    if (t && (!best || *t < *best)) {
      best = t;
    }
  };
  for (const auto* d : devices_) {
    take(d->next_deadline());
  }
  for (const auto& t : timers_) {
    take(t.next());
  }
  return best;
}

void EventLoop::fire_due(MonoTime now, std::vector<hal::StationEvent>& events) {
  for (auto* d : devices_) {
    auto t = d->next_deadline();
    if (t && *t <= now) {
      d->on_deadline(now, events);
    }
  }
  for (auto& t : timers_) {
    auto when = t.next();
    if (when && *when <= now) {
      t.fire(now);
    }
  }
}

void EventLoop::read_signals() {
  signalfd_siginfo info{};
  while (::read(sigfd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (on_signal_) {
      on_signal_(static_cast<int>(info.ssi_signo));
    }
  }
}

hal::Status EventLoop::run_once() {
  ++wakeups_;
  std::vector<hal::StationEvent> events;
  fire_due(clock_->mono(), events);
  if (!events.empty() && on_events_) {
    on_events_(events);
    events.clear();
  }
  std::vector<curl_waitfd> waits;
  waits.push_back({sigfd_.get(), CURL_WAIT_POLLIN, 0});
  std::vector<hal::Device*> waiting;
  for (auto* d : devices_) {
    if (d->fd() >= 0) {
      waits.push_back({d->fd(), CURL_WAIT_POLLIN, 0});
      waiting.push_back(d);
    }
  }
  fds_.erase(std::remove_if(fds_.begin(), fds_.end(), [](const auto& f) { return f.first < 0; }), fds_.end());
  for (const auto& f : fds_) {
    waits.push_back({f.first, CURL_WAIT_POLLIN, 0});
  }
  std::optional<std::chrono::milliseconds> max;
  if (auto t = earliest()) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*t - clock_->mono());
    max = std::max(left, std::chrono::milliseconds(0));
  }
  ION_TRY(waiter_(waits, max), "loop: wait");
  MonoTime now = clock_->mono();
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (waits[i + 1].revents != 0) {
      waiting[i]->on_readable(now, events);
    }
  }
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    if (waits[1 + waiting.size() + i].revents != 0 && fds_[i].first >= 0) {
      fds_[i].second();
    }
  }
  if (!events.empty() && on_events_) {
    on_events_(events);
  }
  if (after_wait_) {
    after_wait_(now);
  }
  if (waits[0].revents != 0) {
    read_signals();
  }
  return hal::ok();
}

EventLoop::Waiter poll_waiter() {
  return [](std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) -> hal::Status {
    std::vector<pollfd> p;
    for (const auto& f : fds) {
      p.push_back({f.fd, POLLIN, 0});
    }
    int timeout = max ? static_cast<int>(std::min<long long>(max->count(), 1 << 30)) : -1;
    int n = ::poll(p.data(), p.size(), timeout);
    if (n < 0 && errno != EINTR) {
      return hal::errno_error(hal::Errc::io, "poll", errno);
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      fds[i].revents =
          static_cast<unsigned short>(p[i].revents & (POLLIN | POLLHUP | POLLERR) ? CURL_WAIT_POLLIN : 0);
    }
    return hal::ok();
  };
}

}  // namespace firmware
