// SPDX-License-Identifier: Apache-2.0
// SimGpio: an in-process fake GPIO chip for tests (Zephyr's gpio_emul idea). The test side
// drives input levels (set_input, bounce) and reads what outputs drive (output_high,
// output_history); the device side requests lines with the same GpioInputSpec /
// GpioOutputSpec the Linux backends take, gets a hal::Device (SimGpioInputs, fd = eventfd)
// and hal::Outputs (SimGpioOutput), and runs the same ButtonLogic, so debounce, long press
// and output patterns are tested through the path the real backends use. Errors have the
// real backends' text ("gpio: request line 3 on sim-gpio: Device or resource busy (used by
// 'hog')"). Levels are physical; active-low is applied by the requesters, as in the kernel.
// Single-threaded. The chip must outlive the inputs and outputs requested from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hal/clock.hpp"
#include "hal/gpio_spec.hpp"
#include "hal/result.hpp"

namespace hal::sim {

class SimGpioInputs;
class SimGpioOutput;

class SimGpio {
 public:
  using MonoTime = Clock::MonoTime;
  struct Change {
    MonoTime at;
    bool high;
  };

  SimGpio(const Clock& clock, std::string label = "sim-gpio", unsigned num_lines = 32);
  ~SimGpio();
  SimGpio(const SimGpio&) = delete;
  SimGpio& operator=(const SimGpio&) = delete;

  const std::string& label() const { return label_; }
  unsigned num_lines() const { return static_cast<unsigned>(lines_.size()); }
  void set_line_name(unsigned offset, std::string name);
  // Marks a line as used by someone else (a kernel hog, another program).
  void hog(unsigned offset, std::string consumer);

  // Test side. set_input drives the physical level now (clock.mono()) or at `at`; an edge is
  // queued for the requester only when the level changes. bounce() makes `edges` alternating
  // edges `spacing` apart starting at `start`, ending on the opposite of the current level
  // when `edges` is odd.
  void set_input(unsigned offset, bool high);
  void set_input_at(unsigned offset, bool high, MonoTime at);
  void bounce(unsigned offset, unsigned edges, std::chrono::nanoseconds spacing, MonoTime start);
  bool input_high(unsigned offset) const;
  bool output_high(unsigned offset) const;
  const std::vector<Change>& output_history(unsigned offset) const;
  // Who holds the line ("" when free).
  std::string consumer(unsigned offset) const;

  // Device side.
  Result<std::unique_ptr<SimGpioInputs>> request_inputs(const std::vector<GpioInputSpec>& specs);
  Result<std::unique_ptr<SimGpioOutput>> request_output(const GpioOutputSpec& spec);

 private:
  friend class SimGpioInputs;
  friend class SimGpioOutput;
  struct Line {
    std::string name;
    std::string consumer;
    bool input_high = false;
    bool output_high = false;
    SimGpioInputs* listener = nullptr;
    unsigned listener_index = 0;
    std::vector<Change> history;
  };

  Result<unsigned> resolve(const GpioLineRef& ref) const;
  Status claim(unsigned offset, const GpioLineRef& ref);
  void release(unsigned offset);
  void drive(unsigned offset, bool high);

  const Clock& clock_;
  std::string label_;
  std::vector<Line> lines_;
};

}  // namespace hal::sim
