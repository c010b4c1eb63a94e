// SPDX-License-Identifier: Apache-2.0
// OutputPattern: what one feedback output (green, red, buzzer) does over time, as data. A
// pattern is a list of steps played once, then either a loop played until something else is
// played on that output, or a final steady level. PatternDriver plays it; Feedback groups
// patterns on several outputs into named signals. Durations are milliseconds.
//
// Text form (what a station profile writes; parse_pattern() reads it, describe() writes it):
//   on                      steady on            off                    steady off
//   pulse 200ms             on for 200 ms, then off
//   blink 200ms x3          3 blinks of period 200 ms (100 ms on, 100 ms off), then off
//   blink 100ms/400ms x2    2 blinks of 100 ms on, 400 ms off, then off
//   blink 1s                blink with period 1 s until something else is played
//   on 300ms / off 300ms    a step of that level and length (inside sequences)
//   a, b, c                 a sequence: items played in order; a bare last `on`/`off`
//                           sets the final level ("pulse 100ms, off 100ms, on")
//   ..., repeat             the whole sequence loops until something else is played
//   ..., repeat 3           the whole sequence is played 3 times
// Durations are integers with `ms` or `s` (1 ms .. 3600 s); counts are 1..1000; a blink
// without a count loops and must be the last item. At most 2000 steps after expansion.
// Errors are Errc::config: "pattern 'blink 0ms x3': item 1: blink period 0ms is too short".
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "hal/result.hpp"

namespace hal {

struct PatternStep {
  bool on = false;
  std::chrono::milliseconds duration{0};
  bool operator==(const PatternStep& o) const { return on == o.on && duration == o.duration; }
};

struct OutputPattern {
  std::vector<PatternStep> steps;  // played once, in order
  std::vector<PatternStep> loop;   // then played forever (if not empty)
  bool final_on = false;           // the level after `steps` when `loop` is empty

  static OutputPattern on();
  static OutputPattern off();
  static OutputPattern pulse(std::chrono::milliseconds on_time);
  // count == 0: blink until replaced.
  static OutputPattern blink(std::chrono::milliseconds on_time, std::chrono::milliseconds off_time,
                             unsigned count);

  bool forever() const { return !loop.empty(); }
  // Time until the final level is reached; 0 for steady patterns; meaningless when forever().
  std::chrono::milliseconds length() const;
  // A canonical text that parse_pattern() reads back to an equal pattern.
  std::string describe() const;
  bool operator==(const OutputPattern& o) const {
    return steps == o.steps && loop == o.loop && final_on == o.final_on;
  }
};

Result<OutputPattern> parse_pattern(std::string_view text);

}  // namespace hal
