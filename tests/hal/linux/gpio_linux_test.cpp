// SPDX-License-Identifier: Apache-2.0
// The Linux GPIO backend's start-up errors that need no GPIO hardware; the rest is covered
// against gpio-sim by tests/hw (VM runner). Both libgpiod generations must say the same.
#include <CppUTest/TestHarness.h>

#include "hal/linux/gpio_inputs.hpp"
#include "hal/linux/gpio_output.hpp"

using hal::linux_gpiod::GpioInputs;
using hal::linux_gpiod::GpioOutput;

TEST_GROUP(GpioLinux){};

TEST(GpioLinux, AnUnknownChipIsNamedInTheError) {
  hal::GpioInputSpec in;
  in.name = "pass";
  in.line.chip = "ion-test-no-such-chip";
  in.line.offset = 17;
  auto r = GpioInputs::open({in});
  CHECK_FALSE(r.ok());
  CHECK(r.error().code == hal::Errc::not_found);
  STRCMP_EQUAL(
      "input pass: gpio: open chip 'ion-test-no-such-chip': no such GPIO chip (looked up by name, path, "
      "label and "
      "number)",
      r.error().what.c_str());
}

TEST(GpioLinux, AnUnknownLineNameIsNamedInTheError) {
  hal::GpioOutputSpec out;
  out.name = "red";
  out.line.line_name = "ION_TEST_NO_SUCH_LINE";
  auto r = GpioOutput::open(out);
  CHECK_FALSE(r.ok());
  CHECK(r.error().code == hal::Errc::not_found);
  STRCMP_EQUAL("output red: gpio: find line 'ION_TEST_NO_SUCH_LINE': no line with that name on any chip",
               r.error().what.c_str());
}

TEST(GpioLinux, AnOffsetWithoutAChipIsAConfigError) {
  hal::GpioInputSpec in;
  in.name = "pedal";
  in.line.offset = 4;
  auto r = GpioInputs::open({in});
  CHECK_FALSE(r.ok());
  CHECK(r.error().code == hal::Errc::config);
  STRCMP_EQUAL("input pedal: gpio: line 4: a line given by offset needs a chip", r.error().what.c_str());
}

TEST(GpioLinux, NoInputsIsAnIdleDevice) {
  auto r = GpioInputs::open({});
  CHECK_TRUE(r.ok());
  CHECK((*r)->fd() >= 0);
  CHECK_FALSE((*r)->next_deadline().has_value());
}
