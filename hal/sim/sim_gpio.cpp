// SPDX-License-Identifier: Apache-2.0
#include "hal/sim/sim_gpio.hpp"

#include <sys/eventfd.h>

#include <cerrno>

#include "hal/sim/sim_gpio_inputs.hpp"
#include "hal/sim/sim_gpio_output.hpp"

namespace hal::sim {

SimGpio::SimGpio(const Clock& clock, std::string label, unsigned num_lines)
    : clock_(clock), label_(std::move(label)), lines_(num_lines) {}

SimGpio::~SimGpio() = default;

void SimGpio::set_line_name(unsigned offset, std::string name) {
  lines_.at(offset).name = std::move(name);
}

void SimGpio::hog(unsigned offset, std::string consumer) {
  lines_.at(offset).consumer = std::move(consumer);
}

void SimGpio::set_input(unsigned offset, bool high) {
  set_input_at(offset, high, clock_.mono());
}

void SimGpio::set_input_at(unsigned offset, bool high, MonoTime at) {
  Line& l = lines_.at(offset);
  if (l.input_high == high) {
    return;
  }
  l.input_high = high;
  if (l.listener != nullptr) {
    l.listener->push_edge(l.listener_index, high, at);
  }
}

void SimGpio::bounce(unsigned offset, unsigned edges, std::chrono::nanoseconds spacing, MonoTime start) {
  for (unsigned i = 0; i < edges; ++i) {
    set_input_at(offset, !lines_.at(offset).input_high, start + spacing * i);
  }
}

bool SimGpio::input_high(unsigned offset) const {
  return lines_.at(offset).input_high;
}

bool SimGpio::output_high(unsigned offset) const {
  return lines_.at(offset).output_high;
}

const std::vector<SimGpio::Change>& SimGpio::output_history(unsigned offset) const {
  return lines_.at(offset).history;
}

std::string SimGpio::consumer(unsigned offset) const {
  return lines_.at(offset).consumer;
}

Result<unsigned> SimGpio::resolve(const GpioLineRef& ref) const {
  if (!ref.chip.empty() && ref.chip != label_) {
    return Error(Errc::not_found,
                 "gpio: open chip '" + ref.chip + "': no such chip (sim has '" + label_ + "')");
  }
  if (ref.offset) {
    if (*ref.offset >= lines_.size()) {
      return Error(Errc::not_found, "gpio: " + ref.describe() + ": no such line (chip has " +
                                        std::to_string(lines_.size()) + " lines)");
    }
    return *ref.offset;
  }
  for (unsigned i = 0; i < lines_.size(); ++i) {
    if (!ref.line_name.empty() && lines_[i].name == ref.line_name) {
      return i;
    }
  }
  return Error(Errc::not_found, "gpio: find " + ref.describe() + ": no line with that name");
}

Status SimGpio::claim(unsigned offset, const GpioLineRef& ref) {
  Line& l = lines_[offset];
  if (!l.consumer.empty()) {
    return gpio_request_error("line " + std::to_string(offset) + " on " + label_, EBUSY, l.consumer);
  }
  (void)ref;
  l.consumer = "ion-agent";
  return ok();
}

void SimGpio::release(unsigned offset) {
  Line& l = lines_.at(offset);
  l.consumer.clear();
  l.listener = nullptr;
}

void SimGpio::drive(unsigned offset, bool high) {
  Line& l = lines_.at(offset);
  l.output_high = high;
  l.history.push_back({clock_.mono(), high});
}

Result<std::unique_ptr<SimGpioInputs>> SimGpio::request_inputs(const std::vector<GpioInputSpec>& specs) {
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    return errno_error(Errc::io, "gpio: sim: eventfd", errno);
  }
  std::unique_ptr<SimGpioInputs> in(new SimGpioInputs(*this, UniqueFd(efd)));
  for (const auto& spec : specs) {
    auto offset = resolve(spec.line);
    if (!offset.ok()) {
      return std::move(offset).error();  // ~SimGpioInputs releases what was claimed
    }
    ION_TRY(claim(*offset, spec.line), "input " + spec.name);
    Line& l = lines_[*offset];
    if (spec.bias == Bias::pull_up || spec.bias == Bias::pull_down) {
      l.input_high = spec.bias == Bias::pull_up;  // as gpio-sim: the requested bias sets the pull
    }
    l.listener = in.get();
    l.listener_index = static_cast<unsigned>(in->specs_.size());
    in->specs_.push_back(spec);
    in->offsets_.push_back(*offset);
    bool active = l.input_high != spec.active_low;
    in->logic_.emplace_back(ButtonConfig{spec.name, spec.debounce, spec.long_press}, active);
  }
  return in;
}

Result<std::unique_ptr<SimGpioOutput>> SimGpio::request_output(const GpioOutputSpec& spec) {
  auto offset = resolve(spec.line);
  if (!offset.ok()) {
    return std::move(offset).error();
  }
  ION_TRY(claim(*offset, spec.line), "output " + spec.name);
  std::unique_ptr<SimGpioOutput> out(new SimGpioOutput(*this, spec, *offset));
  drive(*offset, spec.initial != spec.active_low);
  return out;
}

}  // namespace hal::sim
