// SPDX-License-Identifier: Apache-2.0
// Bounce storms through the software debounce (the path libgpiod v1 uses): how many events
// come out and what it costs in CPU. Prints figures; asserts nothing.
//   gpio_debounce_bench [EDGES]     (default 10000)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "hal/button_logic.hpp"
#include "hal/sim/fake_clock.hpp"
#include "hal/sim/sim_gpio.hpp"
#include "hal/sim/sim_gpio_inputs.hpp"

using namespace std::chrono_literals;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void report(const char* what, unsigned edges, std::size_t events, double cpu) {
  std::printf("%-44s edges=%-7u events=%-5zu cpu=%8.3f ms  (%6.1f ns/edge)\n", what, edges, events, cpu * 1e3,
              cpu * 1e9 / edges);
}

// One storm: `edges` alternating edges `spacing` apart, in bursts of `burst` separated by
// `gap`; the loop wakes at every deadline as the daemon's would.
void logic_storm(const char* what, unsigned edges, unsigned burst, std::chrono::microseconds spacing,
                 std::chrono::milliseconds gap) {
  hal::ButtonLogic b({"pedal", 20ms, 0ms});
  std::vector<hal::StationEvent> out;
  hal::Clock::MonoTime t(1s);
  bool level = false;
  double start = cpu_seconds();
  for (unsigned i = 0; i < edges; ++i) {
    level = !level;
    b.on_edge(level, t, out);
    t += (i + 1) % burst == 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(gap) : spacing;
    if (auto d = b.next_deadline(); d && *d <= t) {
      b.on_deadline(*d, out);
    }
  }
  b.on_deadline(t + 1s, out);
  report(what, edges, out.size(), cpu_seconds() - start);
}

void sim_chip_storm(unsigned edges) {
  hal::sim::FakeClock clock;
  hal::sim::SimGpio chip(clock);
  hal::GpioInputSpec spec;
  spec.name = "pedal";
  spec.line.offset = 0;
  spec.debounce = 20ms;
  auto in = chip.request_inputs({spec});
  if (!in.ok()) {
    std::fprintf(stderr, "%s\n", in.error().what.c_str());
    std::exit(1);
  }
  std::vector<hal::StationEvent> out;
  double start = cpu_seconds();
  chip.bounce(0, edges | 1u, 50us, clock.mono());  // odd: ends pressed
  clock.advance(1s);
  (*in)->on_readable(clock.mono(), out);
  report("SimGpio device, one storm, 50 us apart", edges | 1u, out.size(), cpu_seconds() - start);
}

}  // namespace

int main(int argc, char** argv) {
  unsigned edges = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 10000;
  if (edges < 2) {
    edges = 10000;
  }
  std::printf("software debounce, window 20 ms\n");
  logic_storm("ButtonLogic, one storm, 50 us apart", edges | 1u, edges | 1u, 50us, 0ms);
  logic_storm("ButtonLogic, bursts of 101 every 100 ms", edges / 101 * 101, 101, 50us, 100ms);
  logic_storm("ButtonLogic, edges 25 ms apart (no bounce)", edges, 1, 25ms, 25ms);
  sim_chip_storm(edges);
  return 0;
}
