// SPDX-License-Identifier: Apache-2.0
// EventLoop: devices are read when their fd is readable, deadlines bound the wait, an idle
// loop asks for no timeout at all (no periodic wakeups), and signals arrive as events.
#include "event_loop.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <unistd.h>

#include <csignal>

#include "hal/sim/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;

// A device over a pipe: each byte becomes one scan event.
class PipeDevice final : public hal::Device {
 public:
  PipeDevice() {
    int fds[2];
    CHECK_EQUAL(0, ::pipe2(fds, O_NONBLOCK | O_CLOEXEC));
    r_ = hal::UniqueFd(fds[0]);
    w_ = hal::UniqueFd(fds[1]);
  }
  int fd() const override { return r_.get(); }
  std::optional<hal::Clock::MonoTime> next_deadline() const override { return deadline; }
  void on_readable(hal::Clock::MonoTime, std::vector<hal::StationEvent>& out) override {
    char c;
    while (::read(r_.get(), &c, 1) == 1) {
      hal::StationEvent ev;
      ev.input = "pipe";
      ev.text = std::string(1, c);
      out.push_back(ev);
    }
  }
  void on_deadline(hal::Clock::MonoTime, std::vector<hal::StationEvent>&) override {
    ++deadlines;
    deadline.reset();
  }
  hal::DeviceStatus status() const override { return {"pipe", "pipe", true, ""}; }
  void put(char c) { CHECK_EQUAL(1, ::write(w_.get(), &c, 1)); }

  std::optional<hal::Clock::MonoTime> deadline;
  int deadlines = 0;

 private:
  hal::UniqueFd r_, w_;
};

}  // namespace

TEST_GROUP(EventLoop) {
  hal::sim::FakeClock clock;
  // create() blocks these for the signalfd; give them back so the test binary stays killable.
  void teardown() override {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  }
  std::vector<std::optional<std::chrono::milliseconds>> waits;
  // Records the timeout asked for, then behaves like poll() with no waiting.
  firmware::EventLoop::Waiter recording() {
    auto inner = firmware::poll_waiter();
    return [this, inner](std::vector<curl_waitfd>& fds, std::optional<std::chrono::milliseconds> max) {
      waits.push_back(max);
      return inner(fds, std::chrono::milliseconds(0));
    };
  }
};

TEST(EventLoop, IdleLoopAsksForNoTimeoutAtAll) {
  auto loop = firmware::EventLoop::create(clock, recording());
  CHECK_TRUE(loop.ok());
  PipeDevice dev;
  loop->add_device(&dev);
  CHECK_TRUE(loop->run_once().ok());
  LONGS_EQUAL(1, waits.size());
  CHECK_FALSE(waits[0].has_value());  // sleeps in the kernel until an fd is ready
}

TEST(EventLoop, NearestDeadlineBoundsTheWaitAndFires) {
  auto loop = firmware::EventLoop::create(clock, recording());
  CHECK_TRUE(loop.ok());
  PipeDevice dev;
  dev.deadline = clock.mono() + 250ms;
  int timer_fired = 0;
  std::optional<hal::Clock::MonoTime> timer_at = clock.mono() + 900ms;
  loop->add_device(&dev);
  loop->add_timer({[&] { return timer_at; },
                   [&](hal::Clock::MonoTime) {
                     ++timer_fired;
                     timer_at.reset();
                   }});
  CHECK_TRUE(loop->run_once().ok());
  CHECK_TRUE(waits.back().has_value());
  LONGS_EQUAL(250, waits.back()->count());
  clock.advance(300ms);
  CHECK_TRUE(loop->run_once().ok());
  LONGS_EQUAL(1, dev.deadlines);
  LONGS_EQUAL(0, timer_fired);
  LONGS_EQUAL(600, waits.back()->count());
  clock.advance(600ms);
  CHECK_TRUE(loop->run_once().ok());
  LONGS_EQUAL(1, timer_fired);
  CHECK_FALSE(waits.back().has_value());
}

TEST(EventLoop, ReadableDeviceDeliversItsEvents) {
  auto loop = firmware::EventLoop::create(clock, firmware::poll_waiter());
  CHECK_TRUE(loop.ok());
  PipeDevice dev;
  std::string seen;
  loop->add_device(&dev);
  loop->on_events([&](std::vector<hal::StationEvent>& evs) {
    for (const auto& e : evs)
      seen += e.text;
  });
  dev.put('a');
  dev.put('b');
  CHECK_TRUE(loop->run_once().ok());
  STRCMP_EQUAL("ab", seen.c_str());
}

TEST(EventLoop, SignalsArriveAsEvents) {
  auto loop = firmware::EventLoop::create(clock, firmware::poll_waiter());
  CHECK_TRUE(loop.ok());
  std::vector<int> got;
  loop->on_signal([&](int s) { got.push_back(s); });
  ::raise(SIGHUP);  // blocked by create(), so it waits on the signalfd
  CHECK_TRUE(loop->run_once().ok());
  LONGS_EQUAL(1, got.size());
  LONGS_EQUAL(SIGHUP, got[0]);
}

// A broken fd is readable forever: its handler removes it, and the loop stops waiting on it
// (the station's netlink watch after an unexpected recv error).
TEST(EventLoop, AnFdRemovedByItsOwnHandlerIsNotWaitedOnAgain) {
  auto loop = firmware::EventLoop::create(clock, recording());
  CHECK_TRUE(loop.ok());
  int p[2];
  CHECK_EQUAL(0, ::pipe2(p, O_NONBLOCK | O_CLOEXEC));
  CHECK_EQUAL(1, ::write(p[1], "x", 1));  // never read: stays readable
  int calls = 0;
  firmware::EventLoop* l = &*loop;
  loop->add_fd(p[0], [&] {
    ++calls;
    l->remove_fd(p[0]);
  });
  for (int i = 0; i < 3; ++i) {
    CHECK_TRUE(loop->run_once().ok());
  }
  LONGS_EQUAL(1, calls);
  ::close(p[0]);
  ::close(p[1]);
}
