// SPDX-License-Identifier: Apache-2.0
#include "hal/button_logic.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using hal::ButtonLogic;
using hal::StationEvent;
using Kind = hal::StationEvent::Kind;

namespace {
const ButtonLogic::MonoTime t0 = ButtonLogic::MonoTime(10s);

std::string kinds(const std::vector<StationEvent>& ev) {
  std::string s;
  for (const auto& e : ev) {
    s += e.kind == Kind::press ? "P" : e.kind == Kind::release ? "R" : e.kind == Kind::long_press ? "L" : "?";
  }
  return s;
}
}  // namespace

TEST_GROUP(ButtonLogic) {
  std::vector<StationEvent> out;
};

TEST(ButtonLogic, PressAndReleaseCarryTheInputNameAndSettleTimes) {
  ButtonLogic b({"pass", 20ms, 0ms});
  b.on_edge(true, t0, out);
  CHECK(out.empty());
  CHECK(b.next_deadline() == t0 + 20ms);
  b.on_deadline(t0 + 20ms, out);
  b.on_edge(false, t0 + 200ms, out);
  b.on_deadline(t0 + 220ms, out);
  STRCMP_EQUAL("PR", kinds(out).c_str());
  STRCMP_EQUAL("pass", out[0].input.c_str());
  CHECK(out[0].at == t0 + 20ms);
  CHECK(out[1].at == t0 + 220ms);
}

TEST(ButtonLogic, LongPressComesBeforeTheReleaseThatFollowsIt) {
  ButtonLogic b({"pedal", 10ms, 1s});
  b.on_edge(true, t0, out);
  b.on_edge(false, t0 + 1500ms, out);  // the loop never woke in between
  b.on_deadline(t0 + 2s, out);
  STRCMP_EQUAL("PLR", kinds(out).c_str());
  CHECK(out[1].at == t0 + 10ms + 1s);
  CHECK(out[2].at == t0 + 1510ms);
}

TEST(ButtonLogic, AShortPressGivesNoLongPress) {
  ButtonLogic b({"pedal", 10ms, 1s});
  b.on_edge(true, t0, out);
  b.on_edge(false, t0 + 500ms, out);
  b.on_deadline(t0 + 5s, out);
  STRCMP_EQUAL("PR", kinds(out).c_str());
  CHECK_FALSE(b.next_deadline().has_value());
}

TEST(ButtonLogic, ADueEdgeIsSettledBeforeALaterEdgeIsApplied) {
  ButtonLogic b({"pass", 20ms, 0ms});
  b.on_edge(true, t0, out);
  b.on_edge(false, t0 + 50ms, out);  // press was stable 20 ms before this edge
  b.on_deadline(t0 + 100ms, out);
  STRCMP_EQUAL("PR", kinds(out).c_str());
}

TEST(ButtonLogic, StartsFromTheLevelReadAtRequestWithoutAnEvent) {
  ButtonLogic b({"pedal", 20ms, 0ms}, true);  // held down at start-up
  CHECK_TRUE(b.active());
  b.on_deadline(t0 + 1s, out);
  CHECK(out.empty());
  b.on_edge(false, t0 + 1s, out);
  b.on_deadline(t0 + 2s, out);
  STRCMP_EQUAL("R", kinds(out).c_str());
}

TEST(ButtonLogic, ResyncReportsOnlyARealChange) {
  ButtonLogic b({"pass", 20ms, 0ms});
  b.resync(false, t0, out);
  CHECK(out.empty());
  b.resync(true, t0, out);
  STRCMP_EQUAL("P", kinds(out).c_str());
}

TEST(ButtonLogic, ALevelReadBackCorrectsEdgesThatAllSaidTheSame) {
  ButtonLogic b({"pass", 20ms, 0ms});
  b.on_edge(true, t0, out);  // uAPI v1: both edges of a glitch read "active"
  b.on_edge(true, t0 + 1ms, out);
  b.confirm_level(false, t0 + 1ms, out);  // the line is back at rest
  b.on_deadline(t0 + 1s, out);
  CHECK(out.empty());
  LONGS_EQUAL(2, b.raw_edges());
}

TEST(ButtonLogic, AConfirmedLevelDoesNotStretchTheWindow) {
  ButtonLogic b({"pass", 20ms, 0ms});
  b.on_edge(false, t0, out);  // wrong direction reported
  b.confirm_level(true, t0, out);
  CHECK(b.next_deadline() == t0 + 20ms);
  b.on_deadline(t0 + 20ms, out);
  STRCMP_EQUAL("P", kinds(out).c_str());
}
