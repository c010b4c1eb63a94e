// SPDX-License-Identifier: Apache-2.0
// ReopenSchedule on its own: the backoff sequence of open attempts (on a FakeClock), when a
// retry runs, the reset after a successful open, and the status and log lines a missing
// device reports. The scanners' own tests (evdev FIFO, pty unplug/replug) cover it wired in.
#include "hal/reopen_schedule.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>
#include <string>
#include <vector>

#include "hal/log.hpp"
#include "hal/sim/fake_clock.hpp"

using namespace std::chrono_literals;

namespace {

std::vector<std::string> g_lines;
void capture(hal::log::Level, std::string_view line) {
  g_lines.emplace_back(line);
}

const hal::Error kGone{hal::Errc::not_found, "serial: open /dev/ttyACM0: No such file or directory"};

}  // namespace

TEST_GROUP(ReopenSchedule) {
  hal::sim::FakeClock clock;
  hal::ReopenSchedule reopen{"serial", "scanner", "/dev/ttyACM0", hal::Backoff(100ms, 400ms)};
  int attempts = 0;
  hal::log::Level saved{};

  void setup() override {
    saved = hal::log::level();
    hal::log::set_level(hal::log::Level::debug);
    g_lines.clear();
    hal::log::set_sink(capture);
  }
  void teardown() override {
    hal::log::set_sink(nullptr);
    hal::log::set_level(saved);
  }

  // What a device's open(now) does when the device is still gone.
  hal::Status failing_open() {
    ++attempts;
    reopen.open_failed(clock.mono(), kGone);
    return kGone;
  }
  hal::Status succeeding_open() {
    ++attempts;
    reopen.opened("/dev/ttyACM1");
    return hal::ok();
  }
  // Moves the clock to the armed deadline and retries once there, failing again.
  void fail_at_deadline() {
    auto at = reopen.deadline();
    CHECK(at.has_value());
    clock.advance(*at - clock.mono());
    reopen.retry_if_due(clock.mono(), [&] { return failing_open(); });
  }
};

TEST(ReopenSchedule, StartsMissingWithNothingArmed) {
  auto s = reopen.status();
  STRCMP_EQUAL("scanner", s.name.c_str());
  STRCMP_EQUAL("/dev/ttyACM0", s.path.c_str());
  CHECK_FALSE(s.connected);
  STRCMP_EQUAL("not opened yet", s.last_error.c_str());
  CHECK_FALSE(reopen.deadline().has_value());
  CHECK_FALSE(reopen.due(clock.mono() + 1h));
  reopen.retry_if_due(clock.mono() + 1h, [&] { return succeeding_open(); });
  LONGS_EQUAL(0, attempts);
}

TEST(ReopenSchedule, FailedFirstOpenArmsMinDelayWithoutLogging) {
  auto t0 = clock.mono();
  reopen.open_failed(t0, kGone);
  CHECK(reopen.deadline() == t0 + 100ms);
  CHECK_FALSE(reopen.status().connected);
  STRCMP_EQUAL(kGone.what.c_str(), reopen.status().last_error.c_str());
  // The caller returns the error from open(); only retries and losses are logged here.
  LONGS_EQUAL(0, g_lines.size());
}

TEST(ReopenSchedule, FailedRetriesDoubleTheDelayUpToTheCap) {
  reopen.opened("/dev/ttyACM0");
  auto lost_at = clock.mono();
  reopen.lost(lost_at, "serial: read /dev/ttyACM0: hangup");
  CHECK(reopen.deadline() == lost_at + 100ms);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 4; ++i) {
    auto before = *reopen.deadline();
    fail_at_deadline();
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*reopen.deadline() - before));
  }
  LONGS_EQUAL(4, attempts);
  LONGS_EQUAL(4, delays.size());
  CHECK(delays[0] == 200ms);
  CHECK(delays[1] == 400ms);
  CHECK(delays[2] == 400ms);  // capped at reopen_max
  CHECK(delays[3] == 400ms);
  CHECK(reopen.deadline() == lost_at + 100ms + 200ms + 400ms + 400ms + 400ms);
}

TEST(ReopenSchedule, RetryRunsOnlyOnceItIsDue) {
  auto t0 = clock.mono();
  reopen.open_failed(t0, kGone);
  clock.advance(99ms);
  CHECK_FALSE(reopen.due(clock.mono()));
  reopen.retry_if_due(clock.mono(), [&] { return succeeding_open(); });
  LONGS_EQUAL(0, attempts);
  CHECK_FALSE(reopen.status().connected);
  clock.advance(1ms);
  CHECK(reopen.due(clock.mono()));
  reopen.retry_if_due(clock.mono(), [&] { return succeeding_open(); });
  LONGS_EQUAL(1, attempts);
  // A late wake-up (the loop was busy) still retries, once.
  reopen.open_failed(clock.mono(), kGone);
  clock.advance(5s);
  reopen.retry_if_due(clock.mono(), [&] { return failing_open(); });
  LONGS_EQUAL(2, attempts);
  CHECK(reopen.deadline() == clock.mono() + 200ms);
}

TEST(ReopenSchedule, SuccessfulOpenResetsTheBackoffAndDisarms) {
  reopen.open_failed(clock.mono(), kGone);
  fail_at_deadline();
  fail_at_deadline();  // the next delay would now be 400 ms
  reopen.retry_if_due(*reopen.deadline(), [&] { return succeeding_open(); });
  auto s = reopen.status();
  CHECK(s.connected);
  STRCMP_EQUAL("", s.last_error.c_str());
  STRCMP_EQUAL("/dev/ttyACM1", s.path.c_str());  // the path the open found
  CHECK_FALSE(reopen.deadline().has_value());
  CHECK_FALSE(reopen.due(clock.mono() + 1h));
  // The next loss starts again from reopen_min.
  auto t = clock.mono() + 10s;
  reopen.lost(t, "serial: read /dev/ttyACM1: hangup");
  CHECK(reopen.deadline() == t + 100ms);
}

TEST(ReopenSchedule, LostReportsWhyAndLogsAWarning) {
  reopen.opened("/dev/ttyACM0");
  auto t = clock.mono();
  reopen.lost(t, "serial: read /dev/ttyACM0: hangup");
  CHECK_FALSE(reopen.status().connected);
  STRCMP_EQUAL("serial: read /dev/ttyACM0: hangup", reopen.status().last_error.c_str());
  STRCMP_EQUAL("/dev/ttyACM0", reopen.status().path.c_str());  // still names the device
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL("<4>serial: input 'scanner': scanner missing: serial: read /dev/ttyACM0: hangup\n",
               g_lines[0].c_str());
}

TEST(ReopenSchedule, FailedRetryLogsStillMissingAtDebug) {
  reopen.open_failed(clock.mono(), kGone);
  fail_at_deadline();
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL(("<7>serial: input 'scanner': still missing: " + kGone.what + "\n").c_str(),
               g_lines[0].c_str());
  reopen.retry_if_due(*reopen.deadline(), [&] { return succeeding_open(); });
  LONGS_EQUAL(1, g_lines.size());  // a successful retry adds nothing here (the device logs "opened")
}

TEST(ReopenSchedule, EndedIsMissingForGood) {
  reopen.opened("/tmp/scan.evdev");
  reopen.ended("evdev: /tmp/scan.evdev: end of recorded stream");
  CHECK_FALSE(reopen.status().connected);
  STRCMP_EQUAL("evdev: /tmp/scan.evdev: end of recorded stream", reopen.status().last_error.c_str());
  CHECK_FALSE(reopen.deadline().has_value());
  reopen.retry_if_due(clock.mono() + 1h, [&] { return succeeding_open(); });
  LONGS_EQUAL(0, attempts);
  LONGS_EQUAL(0, g_lines.size());
}
