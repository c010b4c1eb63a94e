// SPDX-License-Identifier: Apache-2.0
// Output patterns as timelines: every set() an output sees, with the FakeClock time it saw it.
#include "hal/feedback.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>
#include <memory>
#include <string>

#include "hal/log.hpp"
#include "hal/sim/fake_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_gpio_output.hpp"

using namespace std::chrono_literals;
using hal::OutputPattern;

namespace {
void quiet(hal::log::Level, std::string_view) {}
}  // namespace

TEST_GROUP(Feedback) {
  hal::sim::FakeClock clock;
  hal::sim::SimGpio chip{clock};
  std::unique_ptr<hal::sim::SimGpioOutput> green, red, buzzer;
  hal::Feedback fb;
  hal::Clock::MonoTime t0;

  void setup() override {
    hal::log::set_sink(quiet);
    green = output("green", 0);
    red = output("red", 1);
    buzzer = output("buzzer", 2);
    CHECK_TRUE(fb.add_output("green", *green).ok());
    CHECK_TRUE(fb.add_output("red", *red).ok());
    CHECK_TRUE(fb.add_output("buzzer", *buzzer).ok());
    fb.define_builtins();
    t0 = clock.mono();
  }
  void teardown() override {
    hal::log::set_sink(nullptr);
  }

  std::unique_ptr<hal::sim::SimGpioOutput> output(const char* name, unsigned offset) {
    hal::GpioOutputSpec s;
    s.name = name;
    s.line.offset = offset;
    return std::move(chip.request_output(s).value());
  }

  // Runs the loop's timing until `until`, waking exactly at each deadline.
  void run_until(hal::Clock::MonoTime until) {
    while (auto d = fb.next_deadline()) {
      if (*d > until) {
        break;
      }
      clock.advance(*d - clock.mono());
      fb.on_deadline(clock.mono());
    }
    clock.advance(until - clock.mono());
  }

  // "+0:1 +100:0 ..." (ms since t0 : level) for one line, skipping the initial request.
  std::string timeline(unsigned offset) {
    std::string s;
    const auto& h = chip.output_history(offset);
    for (size_t i = 1; i < h.size(); ++i) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(h[i].at - t0).count();
      s += (s.empty() ? "+" : " +") + std::to_string(ms) + ":" + (h[i].high ? "1" : "0");
    }
    return s;
  }
};

TEST(Feedback, BadScanIsThreeFastRedBlinksWithABuzzerPulse) {
  CHECK_TRUE(fb.play("bad_scan", clock.mono()).ok());
  run_until(t0 + 2s);
  STRCMP_EQUAL("+0:1 +100:0 +200:1 +300:0 +400:1 +500:0", timeline(1).c_str());
  STRCMP_EQUAL("+0:1 +150:0", timeline(2).c_str());
  STRCMP_EQUAL("", timeline(0).c_str());
  CHECK_FALSE(fb.next_deadline().has_value());
}

TEST(Feedback, QueueFullKeepsRedOnUntilSomethingElsePlays) {
  CHECK_TRUE(fb.play("queue_full", clock.mono()).ok());
  run_until(t0 + 10s);
  STRCMP_EQUAL("+0:1", timeline(1).c_str());
  STRCMP_EQUAL("+0:1 +1000:0", timeline(2).c_str());
  CHECK_TRUE(fb.level("red"));
  CHECK_TRUE(fb.play("clear", clock.mono()).ok());
  CHECK_FALSE(fb.level("red"));
  STRCMP_EQUAL("+0:1 +10000:0", timeline(1).c_str());
}

TEST(Feedback, NoUnitIsTwoSlowRedBlinks) {
  CHECK_TRUE(fb.play("no_unit", clock.mono()).ok());
  run_until(t0 + 5s);
  STRCMP_EQUAL("+0:1 +400:0 +800:1 +1200:0", timeline(1).c_str());
}

TEST(Feedback, ANewSignalReplacesOnlyTheOutputsItNames) {
  CHECK_TRUE(fb.play_on("green", hal::parse_pattern("blink 1s").value(), clock.mono()).ok());
  run_until(t0 + 250ms);
  CHECK_TRUE(fb.play("bad_scan", clock.mono()).ok());  // red + buzzer; green keeps blinking
  run_until(t0 + 1600ms);
  STRCMP_EQUAL("+0:1 +500:0 +1000:1 +1500:0", timeline(0).c_str());
  CHECK_TRUE(fb.play("accepted", clock.mono()).ok());  // replaces the endless blink with one pulse
  run_until(t0 + 5s);
  STRCMP_EQUAL("+0:1 +500:0 +1000:1 +1500:0 +1600:1 +1900:0", timeline(0).c_str());
  CHECK_FALSE(fb.next_deadline().has_value());
}

TEST(Feedback, ALateWakeUpKeepsTheScheduleAndSetsOnlyTheCurrentLevel) {
  CHECK_TRUE(fb.play_on("red", hal::parse_pattern("blink 200ms x5").value(), clock.mono()).ok());
  clock.advance(350ms);  // the loop was busy: steps at 100, 200, 300 are missed
  fb.on_deadline(clock.mono());
  CHECK(fb.next_deadline() == t0 + 400ms);  // still on the grid started at t0
  run_until(t0 + 2s);
  STRCMP_EQUAL("+0:1 +350:0 +400:1 +500:0 +600:1 +700:0 +800:1 +900:0", timeline(1).c_str());
}

TEST(Feedback, AnEndlessBlinkFarBehindIsReanchored) {
  CHECK_TRUE(fb.play_on("green", hal::parse_pattern("blink 1s").value(), clock.mono()).ok());
  clock.advance(1h);
  fb.on_deadline(clock.mono());
  CHECK(fb.next_deadline() == clock.mono() + 500ms);
}

TEST(Feedback, UnknownSignalsAndOutputsAreErrors) {
  auto st = fb.play("party", clock.mono());
  CHECK(st.error().code == hal::Errc::not_found);
  STRCMP_EQUAL("feedback: no signal named 'party'", st.error().what.c_str());
  auto def = fb.define("beep", {{"horn", OutputPattern::pulse(100ms)}});
  CHECK(def.error().code == hal::Errc::config);
  STRCMP_EQUAL("feedback: signal 'beep': no output named 'horn'", def.error().what.c_str());
  CHECK_FALSE(fb.add_output("red", *red).ok());
}

TEST(Feedback, ProfileSignalsOverrideBuiltins) {
  CHECK_TRUE(
      fb.define("accepted", {{"green", OutputPattern::pulse(50ms)}, {"buzzer", OutputPattern::pulse(20ms)}})
          .ok());
  CHECK_TRUE(fb.play("accepted", clock.mono()).ok());
  run_until(t0 + 1s);
  STRCMP_EQUAL("+0:1 +50:0", timeline(0).c_str());
  STRCMP_EQUAL("+0:1 +20:0", timeline(2).c_str());
}

TEST(Feedback, AFailingOutputKeepsTimingAndRecovers) {
  red->set_fail(true);
  CHECK_TRUE(fb.play("bad_scan", clock.mono()).ok());
  run_until(t0 + 250ms);
  auto st = fb.status();
  CHECK(st[1].last_error.find("No such device") != std::string::npos);
  red->set_fail(false);
  run_until(t0 + 2s);
  STRCMP_EQUAL("+300:0 +400:1 +500:0", timeline(1).c_str());
  STRCMP_EQUAL("+0:1 +150:0", timeline(2).c_str());  // the buzzer was not held back
}

TEST(Feedback, BuiltinsSkipOutputsTheStationLacks) {
  hal::Feedback small;
  CHECK_TRUE(small.add_output("red", *red).ok());
  small.define_builtins();
  CHECK_TRUE(small.play("bad_scan", clock.mono()).ok());
  CHECK_TRUE(small.level("red"));
  for (const auto& b : hal::Feedback::builtins()) {
    for (const auto& part : b.parts) {
      CHECK_TEXT(hal::parse_pattern(part.second).ok(), std::string(part.second).c_str());
    }
  }
}
