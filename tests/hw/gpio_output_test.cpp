// SPDX-License-Identifier: Apache-2.0
// GpioOutput (and patterns on it) against the real kernel: the level the simulated pin
// carries is read back through gpio-sim's sysfs `value`. Run by the VM runner.
#include "hal/linux/gpio_output.hpp"

#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "gpio_sim.hpp"
#include "hal/feedback.hpp"

using namespace std::chrono_literals;
using hal::linux_gpiod::GpioOutput;

namespace {
hal::GpioOutputSpec light(const std::string& name, const std::string& chip, unsigned offset) {
  hal::GpioOutputSpec s;
  s.name = name;
  s.line.chip = chip;
  s.line.offset = offset;
  return s;
}
}  // namespace

TEST_GROUP(GpioOutputHw){};

TEST(GpioOutputHw, DrivesTheLineFromItsInitialLevel) {
  hw::GpioSimChip sim(4);
  CHECK_TEXT(sim.ok(), sim.error().c_str());
  auto spec = light("green", sim.label(), 1);
  spec.initial = true;
  auto out = GpioOutput::open(spec);
  CHECK_TEXT(out.ok(), out.ok() ? "" : out.error().what.c_str());
  LONGS_EQUAL(1, sim.value(1));
  CHECK_TRUE((*out)->set(false).ok());
  LONGS_EQUAL(0, sim.value(1));
  CHECK_TRUE((*out)->set(true).ok());
  LONGS_EQUAL(1, sim.value(1));
  STRCMP_EQUAL(("line 1 on " + sim.chip_name()).c_str(), (*out)->status().path.c_str());
}

TEST(GpioOutputHw, ActiveLowInvertsThePin) {
  hw::GpioSimChip sim(4);
  CHECK_TEXT(sim.ok(), sim.error().c_str());
  auto spec = light("red", sim.chip_name(), 2);
  spec.active_low = true;
  auto out = GpioOutput::open(spec);
  CHECK_TEXT(out.ok(), out.ok() ? "" : out.error().what.c_str());
  LONGS_EQUAL(1, sim.value(2));  // off = high on an active-low LED
  CHECK_TRUE((*out)->set(true).ok());
  LONGS_EQUAL(0, sim.value(2));
}

TEST(GpioOutputHw, AnOutputIsFoundByLineName) {
  std::string name = "ion-buzzer-" + std::to_string(::getpid());
  hw::GpioSimChip sim(8, {{7, name}});
  CHECK_TEXT(sim.ok(), sim.error().c_str());
  auto spec = light("buzzer", "", 0);
  spec.line.offset.reset();
  spec.line.line_name = name;
  auto out = GpioOutput::open(spec);
  CHECK_TEXT(out.ok(), out.ok() ? "" : out.error().what.c_str());
  CHECK_TRUE((*out)->set(true).ok());
  LONGS_EQUAL(1, sim.value(7));
}

TEST(GpioOutputHw, APulseOnTheRealLineEndsOff) {
  hw::GpioSimChip sim(4);
  CHECK_TEXT(sim.ok(), sim.error().c_str());
  auto out = GpioOutput::open(light("green", sim.label(), 0));
  CHECK_TEXT(out.ok(), out.ok() ? "" : out.error().what.c_str());
  hal::Feedback fb;
  CHECK_TRUE(fb.add_output("green", **out).ok());
  fb.define_builtins();
  hal::SystemClock clock;
  CHECK_TRUE(fb.play("accepted", clock.mono()).ok());  // green pulse 300ms
  LONGS_EQUAL(1, sim.value(0));
  while (auto d = fb.next_deadline()) {
    std::this_thread::sleep_until(*d);
    fb.on_deadline(clock.mono());
  }
  LONGS_EQUAL(0, sim.value(0));
}

TEST(GpioOutputHw, BusyAndMissingLinesAreClearErrors) {
  hw::GpioSimChip sim(4, {}, {{3, "foo"}});
  CHECK_TEXT(sim.ok(), sim.error().c_str());
  auto out = GpioOutput::open(light("red", sim.label(), 3));
  CHECK_FALSE(out.ok());
  CHECK(out.error().code == hal::Errc::busy);
  STRCMP_EQUAL(
      ("output red: gpio: request line 3 on " + sim.chip_name() + ": Device or resource busy (used by 'foo')")
          .c_str(),
      out.error().what.c_str());
  out = GpioOutput::open(light("red", sim.label(), 4));
  CHECK_FALSE(out.ok());
  STRCMP_EQUAL(
      ("output red: gpio: line 4 on " + sim.chip_name() + ": no such line (chip has 4 lines)").c_str(),
      out.error().what.c_str());
}
