// SPDX-License-Identifier: Apache-2.0
// The GPIO input path (request, active-low, bias, software debounce, long press) through the
// simulated chip, which runs the same ButtonLogic as the libgpiod backends.
#include "hal/sim/sim_gpio.hpp"

#include <CppUTest/TestHarness.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <vector>

#include "hal/sim/fake_clock.hpp"
#include "hal/sim/sim_gpio_inputs.hpp"
#include "hal/sim/sim_gpio_output.hpp"

using namespace std::chrono_literals;
using hal::StationEvent;
using Kind = hal::StationEvent::Kind;

namespace {
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

hal::GpioInputSpec button(std::string name, unsigned offset) {
  hal::GpioInputSpec s;
  s.name = std::move(name);
  s.line.chip = "sim-gpio";
  s.line.offset = offset;
  s.active_low = true;
  s.bias = hal::Bias::pull_up;
  s.debounce = 20ms;
  return s;
}
}  // namespace

TEST_GROUP(SimGpio) {
  hal::sim::FakeClock clock;
  hal::sim::SimGpio chip{clock};
  std::vector<StationEvent> out;

  // Runs the device as the loop would: read when readable, then wake at deadlines up to `until`.
  void run_until(hal::Device & dev, hal::Clock::MonoTime until) {
    if (readable(dev.fd())) {
      dev.on_readable(clock.mono(), out);
    }
    while (auto d = dev.next_deadline()) {
      if (*d > until) {
        break;
      }
      clock.advance(*d - clock.mono());
      dev.on_deadline(clock.mono(), out);
    }
    if (until > clock.mono()) {
      clock.advance(until - clock.mono());
    }
  }
};

TEST(SimGpio, ActiveLowButtonWithPullUpStartsReleasedAndPressesWhenPulledLow) {
  auto in = chip.request_inputs({button("pass", 3)});
  CHECK_TRUE(in.ok());
  CHECK_TRUE(chip.input_high(3));  // the requested pull-up
  CHECK_FALSE(readable((*in)->fd()));
  chip.set_input(3, false);
  CHECK_TRUE(readable((*in)->fd()));
  run_until(**in, clock.mono() + 100ms);
  LONGS_EQUAL(1, out.size());
  CHECK(out[0].kind == Kind::press);
  STRCMP_EQUAL("pass", out[0].input.c_str());
  CHECK_FALSE(readable((*in)->fd()));
}

TEST(SimGpio, BouncesInsideTheWindowGiveOnePressAndOneRelease) {
  auto in = chip.request_inputs({button("pass", 0)});
  CHECK_TRUE(in.ok());
  chip.bounce(0, 9, 2ms, clock.mono());  // ends low = pressed
  run_until(**in, clock.mono() + 200ms);
  chip.bounce(0, 5, 3ms, clock.mono());  // ends high = released
  run_until(**in, clock.mono() + 200ms);
  LONGS_EQUAL(2, out.size());
  CHECK(out[0].kind == Kind::press);
  CHECK(out[1].kind == Kind::release);
  LONGS_EQUAL(14, (*in)->raw_edges());
}

TEST(SimGpio, ThousandsOfBouncesGiveOneEvent) {
  auto in = chip.request_inputs({button("pass", 0)});
  CHECK_TRUE(in.ok());
  chip.bounce(0, 5001, 100us, clock.mono());
  run_until(**in, clock.mono() + 2s);
  LONGS_EQUAL(1, out.size());
  CHECK(out[0].kind == Kind::press);
  LONGS_EQUAL(5001, (*in)->raw_edges());
}

TEST(SimGpio, LongPressIsReportedWhileHeld) {
  auto spec = button("pedal", 5);
  spec.long_press = 2s;
  auto in = chip.request_inputs({spec});
  CHECK_TRUE(in.ok());
  auto start = clock.mono();
  chip.set_input(5, false);
  run_until(**in, start + 3s);
  LONGS_EQUAL(2, out.size());
  CHECK(out[1].kind == Kind::long_press);
  CHECK(out[1].at == start + 20ms + 2s);
  chip.set_input(5, true);
  run_until(**in, clock.mono() + 1s);
  LONGS_EQUAL(3, out.size());
  CHECK(out[2].kind == Kind::release);
}

TEST(SimGpio, InputsAreFoundByLineName) {
  chip.set_line_name(7, "FAIL_BTN");
  auto spec = button("fail", 0);
  spec.line.offset.reset();
  spec.line.line_name = "FAIL_BTN";
  auto in = chip.request_inputs({spec});
  CHECK_TRUE(in.ok());
  STRCMP_EQUAL("ion-agent", chip.consumer(7).c_str());
}

TEST(SimGpio, ABusyLineIsRefusedNamingLineChipAndUser) {
  chip.hog(4, "foo");
  auto in = chip.request_inputs({button("pass", 3), button("fail", 4)});
  CHECK_FALSE(in.ok());
  CHECK(in.error().code == hal::Errc::busy);
  STRCMP_EQUAL("input fail: gpio: request line 4 on sim-gpio: Device or resource busy (used by 'foo')",
               in.error().what.c_str());
  STRCMP_EQUAL("", chip.consumer(3).c_str());  // the half-made request gave line 3 back
}

TEST(SimGpio, AMissingLineOrChipIsRefused) {
  auto in = chip.request_inputs({button("pass", 40)});
  CHECK_FALSE(in.ok());
  CHECK(in.error().code == hal::Errc::not_found);
  STRCMP_EQUAL("gpio: line 40 on sim-gpio: no such line (chip has 32 lines)", in.error().what.c_str());
  auto spec = button("pass", 1);
  spec.line.chip = "gpiochip9";
  in = chip.request_inputs({spec});
  CHECK_FALSE(in.ok());
  CHECK(in.error().code == hal::Errc::not_found);
}

TEST(SimGpio, ReleasedLinesCanBeRequestedAgain) {
  {
    auto in = chip.request_inputs({button("pass", 3)});
    CHECK_TRUE(in.ok());
    CHECK_FALSE(chip.request_inputs({button("again", 3)}).ok());
  }
  CHECK_TRUE(chip.request_inputs({button("again", 3)}).ok());
}

TEST(SimGpio, OutputsDriveThePhysicalLevelWithActiveLow) {
  hal::GpioOutputSpec spec;
  spec.name = "red";
  spec.line.offset = 9;
  spec.active_low = true;
  auto o = chip.request_output(spec);
  CHECK_TRUE(o.ok());
  CHECK_TRUE(chip.output_high(9));  // logical off, active-low
  CHECK_TRUE((*o)->set(true).ok());
  CHECK_FALSE(chip.output_high(9));
  LONGS_EQUAL(2, chip.output_history(9).size());
}
