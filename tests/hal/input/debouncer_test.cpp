// SPDX-License-Identifier: Apache-2.0
#include "hal/debouncer.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>

using namespace std::chrono_literals;
using hal::Debouncer;

namespace {
const Debouncer::MonoTime t0 = Debouncer::MonoTime(100s);
}

TEST_GROUP(Debouncer){};

TEST(Debouncer, ReportsALevelOnceItHeldForTheWindow) {
  Debouncer d(20ms);
  d.on_edge(true, t0);
  CHECK(d.next_deadline() == t0 + 20ms);
  CHECK_FALSE(d.poll(t0 + 19ms).has_value());
  Debouncer::MonoTime at{};
  auto level = d.poll(t0 + 25ms, &at);
  CHECK(level.has_value());
  CHECK_TRUE(*level);
  CHECK(at == t0 + 20ms);  // settled time, not the late poll time (kernel semantics)
  CHECK_FALSE(d.next_deadline().has_value());
}

TEST(Debouncer, BouncesInsideTheWindowRestartItAndGiveOneChange) {
  Debouncer d(20ms);
  bool level = false;
  for (int i = 0; i < 7; ++i) {  // 7 edges, 3 ms apart: ends high
    level = !level;
    d.on_edge(level, t0 + 3ms * i);
  }
  CHECK(d.next_deadline() == t0 + 18ms + 20ms);
  CHECK_FALSE(d.poll(t0 + 37ms).has_value());
  auto changed = d.poll(t0 + 38ms);
  CHECK(changed.has_value() && *changed);
  CHECK_FALSE(d.poll(t0 + 1s).has_value());
}

TEST(Debouncer, AGlitchThatReturnsInsideTheWindowIsNothing) {
  Debouncer d(20ms);
  d.on_edge(true, t0);
  d.on_edge(false, t0 + 5ms);
  CHECK_FALSE(d.next_deadline().has_value());
  CHECK_FALSE(d.poll(t0 + 1s).has_value());
  CHECK_FALSE(d.stable());
}

TEST(Debouncer, ZeroWindowPassesEveryEdgeAtItsOwnTime) {
  Debouncer d(0ms);
  d.on_edge(true, t0);
  Debouncer::MonoTime at{};
  auto l = d.poll(t0, &at);
  CHECK(l.has_value() && *l);
  CHECK(at == t0);
  d.on_edge(false, t0 + 1ms);
  l = d.poll(t0 + 1ms);
  CHECK(l.has_value() && !*l);
}

TEST(Debouncer, AnEdgeOlderThanThePreviousDoesNotShortenTheWindow) {
  Debouncer d(20ms);
  d.on_edge(true, t0 + 10ms);
  d.on_edge(false, t0 + 12ms);
  d.on_edge(true, t0 + 5ms);  // timestamp from a clock that disagrees
  CHECK(d.next_deadline() == t0 + 32ms);
}

TEST(Debouncer, ResetDropsPendingEdges) {
  Debouncer d(20ms);
  d.on_edge(true, t0);
  d.reset(false);
  CHECK_FALSE(d.next_deadline().has_value());
  CHECK_FALSE(d.poll(t0 + 1s).has_value());
}
