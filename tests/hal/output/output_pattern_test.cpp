// SPDX-License-Identifier: Apache-2.0
#include "hal/output_pattern.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using hal::OutputPattern;
using hal::parse_pattern;
using hal::PatternStep;

TEST_GROUP(OutputPattern){};

TEST(OutputPattern, ParsesSteadyPulseAndCountedBlink) {
  CHECK(parse_pattern("on").value() == OutputPattern::on());
  CHECK(parse_pattern(" off ").value() == OutputPattern::off());
  CHECK(parse_pattern("pulse 200ms").value() == OutputPattern::pulse(200ms));
  auto b = parse_pattern("blink 200ms x3").value();
  CHECK(b == OutputPattern::blink(100ms, 100ms, 3));
  LONGS_EQUAL(6, b.steps.size());
  CHECK(b.length() == 600ms);
  CHECK_FALSE(b.final_on);
}

TEST(OutputPattern, ParsesAsymmetricAndEndlessBlink) {
  CHECK(parse_pattern("blink 100ms/400ms x2").value() == OutputPattern::blink(100ms, 400ms, 2));
  auto forever = parse_pattern("blink 1s").value();
  CHECK_TRUE(forever.forever());
  CHECK(forever.loop[0] == (PatternStep{true, 500ms}));
  CHECK(forever.loop[1] == (PatternStep{false, 500ms}));
}

TEST(OutputPattern, ParsesSequencesWithFinalLevelAndRepeat) {
  auto p = parse_pattern("pulse 100ms, off 100ms, pulse 300ms, on").value();
  LONGS_EQUAL(3, p.steps.size());
  CHECK(p.steps[2] == (PatternStep{true, 300ms}));
  CHECK_TRUE(p.final_on);
  auto r = parse_pattern("on 50ms, off 950ms, repeat").value();
  CHECK(r.steps.empty());
  LONGS_EQUAL(2, r.loop.size());
  auto r3 = parse_pattern("on 50ms, off 50ms, repeat 3").value();
  LONGS_EQUAL(6, r3.steps.size());
  CHECK_FALSE(r3.forever());
  auto prefix = parse_pattern("pulse 1s, blink 200ms").value();
  LONGS_EQUAL(1, prefix.steps.size());
  LONGS_EQUAL(2, prefix.loop.size());
}

TEST(OutputPattern, DescribeReadsBackToTheSamePattern) {
  for (const char* text :
       {"on", "off", "pulse 200ms", "blink 200ms x3", "blink 100ms/400ms x2", "blink 2s",
        "pulse 100ms, off 100ms, pulse 300ms, on", "on 50ms, off 950ms, repeat", "pulse 1s, blink 200ms"}) {
    auto p = parse_pattern(text).value();
    auto again = parse_pattern(p.describe());
    CHECK_TEXT(again.ok(), p.describe().c_str());
    CHECK_TEXT(again.value() == p, text);
  }
}

TEST(OutputPattern, RejectsBadTextNamingTheItem) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "pattern: empty (write e.g. on, off, pulse 200ms, blink 200ms x3)"},
      {"blnk 100ms",
       "pattern 'blnk 100ms': item 1 ('blnk 100ms'): unknown word 'blnk' (expected on, off, pulse, "
       "blink or repeat)"},
      {"pulse", "pattern 'pulse': item 1 ('pulse'): expected 'pulse DURATION'"},
      {"pulse 0ms",
       "pattern 'pulse 0ms': item 1 ('pulse 0ms'): pulse: duration 0ms is out of range (1ms..3600s)"},
      {"pulse 20",
       "pattern 'pulse 20': item 1 ('pulse 20'): pulse: '20' is not a duration (write e.g. 200ms or 2s)"},
      {"blink 1ms x2",
       "pattern 'blink 1ms x2': item 1 ('blink 1ms x2'): blink period 1ms is too short (at least 2ms)"},
      {"blink 100ms x0",
       "pattern 'blink 100ms x0': item 1 ('blink 100ms x0'): blink count: count '0' must be 1..1000"},
      {"blink 100ms 3",
       "pattern 'blink 100ms 3': item 1 ('blink 100ms 3'): blink count: '3' is not a count (write "
       "e.g. x3)"},
      {"on, pulse 1s",
       "pattern 'on, pulse 1s': item 1 ('on'): a bare 'on' must be the last item (give a duration)"},
      {"blink 1s, pulse 1s",
       "pattern 'blink 1s, pulse 1s': item 2 ('pulse 1s'): nothing may follow a loop or repeat"},
      {"repeat", "pattern 'repeat': item 1 ('repeat'): nothing to repeat"},
      {"pulse 1s,", "pattern 'pulse 1s,': item 2 (''): empty item"},
      {"pulse 1s, off 1s, pulse 1s, repeat 1000",
       "pattern 'pulse 1s, off 1s, pulse 1s, repeat 1000': item 4 ('repeat 1000'): more than 2000 steps"},
  };
  for (const auto& c : cases) {
    auto r = parse_pattern(c.text);
    CHECK_TEXT(!r.ok(), c.text);
    CHECK(r.error().code == hal::Errc::config);
    STRCMP_EQUAL(c.error, r.error().what.c_str());
  }
}
