// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/gpio_output.hpp"

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_locate.hpp"
#include "hal/linux/gpiod_output_request.hpp"

namespace hal::linux_gpiod {

Result<std::unique_ptr<GpioOutput>> GpioOutput::open(const GpioOutputSpec& spec) {
  auto where = locate(spec.line);
  ION_TRY(where, "output " + spec.name);
  auto req = OutputRequest::open(*where, spec.active_low, spec.drive, spec.initial, kConsumer);
  if (!req.ok()) {
    return std::move(req).error().context("output " + spec.name);
  }
  return std::unique_ptr<GpioOutput>(new GpioOutput(spec.name, where->where(), std::move(req).value()));
}

GpioOutput::GpioOutput(std::string name, std::string where, std::unique_ptr<OutputRequest> request)
    : name_(std::move(name)), where_(std::move(where)), request_(std::move(request)) {}

GpioOutput::~GpioOutput() = default;

Status GpioOutput::set(bool on) {
  Status st = request_->set(on);
  last_error_ = st.ok() ? std::string() : st.error().what;
  return st;
}

DeviceStatus GpioOutput::status() const {
  DeviceStatus s;
  s.name = name_;
  s.path = where_;
  s.connected = last_error_.empty();
  s.last_error = last_error_;
  return s;
}

}  // namespace hal::linux_gpiod
