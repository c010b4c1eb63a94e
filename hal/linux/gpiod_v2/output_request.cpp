// SPDX-License-Identifier: Apache-2.0
// libgpiod 2.x (GPIO uAPI v2) output line.
#include <cerrno>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_output_request.hpp"

namespace hal::linux_gpiod {

struct OutputRequest::Impl {
  Chip chip;
  LineRequest request;
  unsigned offset = 0;
  std::string where;
};

namespace {

gpiod_line_drive drive_of(Drive d) {
  switch (d) {
    case Drive::push_pull:
      return GPIOD_LINE_DRIVE_PUSH_PULL;
    case Drive::open_drain:
      return GPIOD_LINE_DRIVE_OPEN_DRAIN;
    case Drive::open_source:
      return GPIOD_LINE_DRIVE_OPEN_SOURCE;
  }
  return GPIOD_LINE_DRIVE_PUSH_PULL;
}

std::string consumer_of(gpiod_chip* chip, unsigned offset) {
  LineInfo info(gpiod_chip_get_line_info(chip, offset));
  if (!info || !gpiod_line_info_is_used(info.get())) {
    return {};
  }
  return text_or_empty(gpiod_line_info_get_consumer(info.get()));
}

}  // namespace

OutputRequest::OutputRequest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputRequest::~OutputRequest() = default;

Result<std::unique_ptr<OutputRequest>> OutputRequest::open(const LineAddress& line, bool active_low,
                                                           Drive drive, bool initial, const char* consumer) {
  auto impl = std::make_unique<Impl>();
  impl->offset = line.offset;
  impl->where = line.where();
  impl->chip.reset(gpiod_chip_open(line.chip_path.c_str()));
  if (!impl->chip) {
    return errno_error(Errc::io, "gpio: open chip " + line.chip_path, errno);
  }
  LineSettings s(gpiod_line_settings_new());
  LineConfig cfg(gpiod_line_config_new());
  RequestConfig req_cfg(gpiod_request_config_new());
  if (!s || !cfg || !req_cfg ||
      gpiod_line_settings_set_direction(s.get(), GPIOD_LINE_DIRECTION_OUTPUT) != 0 ||
      gpiod_line_settings_set_drive(s.get(), drive_of(drive)) != 0 ||
      gpiod_line_settings_set_output_value(
          s.get(), initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) != 0) {
    return errno_error(Errc::io, "gpio: output settings", errno);
  }
  gpiod_line_settings_set_active_low(s.get(), active_low);
  if (gpiod_line_config_add_line_settings(cfg.get(), &impl->offset, 1, s.get()) != 0) {
    return errno_error(Errc::io, "gpio: line config", errno);
  }
  gpiod_request_config_set_consumer(req_cfg.get(), consumer);
  impl->request.reset(gpiod_chip_request_lines(impl->chip.get(), req_cfg.get(), cfg.get()));
  if (!impl->request) {
    int err = errno;
    return gpio_request_error(impl->where, err,
                              err == EBUSY ? consumer_of(impl->chip.get(), impl->offset) : "");
  }
  return std::unique_ptr<OutputRequest>(new OutputRequest(std::move(impl)));
}

Status OutputRequest::set(bool active) {
  if (gpiod_line_request_set_value(impl_->request.get(), impl_->offset,
                                   active ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) != 0) {
    return errno_error(Errc::io, "gpio: set " + impl_->where, errno);
  }
  return ok();
}

}  // namespace hal::linux_gpiod
