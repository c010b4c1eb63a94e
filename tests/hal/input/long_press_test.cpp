// SPDX-License-Identifier: Apache-2.0
#include "hal/long_press.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>

using namespace std::chrono_literals;
using hal::LongPressDetector;

namespace {
const LongPressDetector::MonoTime t0 = LongPressDetector::MonoTime(50s);
}

TEST_GROUP(LongPress){};

TEST(LongPress, FiresOnceAfterTheThreshold) {
  LongPressDetector lp(1500ms);
  lp.on_press(t0);
  CHECK(lp.next_deadline() == t0 + 1500ms);
  CHECK_FALSE(lp.poll(t0 + 1499ms));
  LongPressDetector::MonoTime at{};
  CHECK_TRUE(lp.poll(t0 + 2s, &at));
  CHECK(at == t0 + 1500ms);
  CHECK_FALSE(lp.poll(t0 + 3s));
  CHECK_FALSE(lp.next_deadline().has_value());
}

TEST(LongPress, AReleaseBeforeTheThresholdCancelsIt) {
  LongPressDetector lp(1s);
  lp.on_press(t0);
  lp.on_release();
  CHECK_FALSE(lp.next_deadline().has_value());
  CHECK_FALSE(lp.poll(t0 + 5s));
}

TEST(LongPress, EachPressIsTimedFromItsOwnStart) {
  LongPressDetector lp(1s);
  lp.on_press(t0);
  lp.on_release();
  lp.on_press(t0 + 800ms);
  CHECK_FALSE(lp.poll(t0 + 1s));
  CHECK_TRUE(lp.poll(t0 + 1800ms));
}

TEST(LongPress, ZeroThresholdIsDisabled) {
  LongPressDetector lp(0ms);
  lp.on_press(t0);
  CHECK_FALSE(lp.enabled());
  CHECK_FALSE(lp.next_deadline().has_value());
  CHECK_FALSE(lp.poll(t0 + 1h));
}
