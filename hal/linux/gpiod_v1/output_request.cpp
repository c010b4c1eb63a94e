// SPDX-License-Identifier: Apache-2.0
// libgpiod 1.6 (GPIO uAPI v1) output line.
#include <cerrno>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_output_request.hpp"

namespace hal::linux_gpiod {

struct OutputRequest::Impl {
  Chip chip;
  gpiod_line* line = nullptr;  // owned by chip
  std::string where;
};

OutputRequest::OutputRequest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputRequest::~OutputRequest() = default;

Result<std::unique_ptr<OutputRequest>> OutputRequest::open(const LineAddress& line, bool active_low,
                                                           Drive drive, bool initial, const char* consumer) {
  auto impl = std::make_unique<Impl>();
  impl->where = line.where();
  impl->chip.reset(gpiod_chip_open(line.chip_path.c_str()));
  if (!impl->chip) {
    return errno_error(Errc::io, "gpio: open chip " + line.chip_path, errno);
  }
  impl->line = gpiod_chip_get_line(impl->chip.get(), line.offset);
  if (impl->line == nullptr) {
    return gpio_request_error(impl->where, errno, "");
  }
  int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
  if (drive == Drive::open_drain) {
    flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN;
  } else if (drive == Drive::open_source) {
    flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE;
  }
  if (gpiod_line_request_output_flags(impl->line, consumer, flags, initial ? 1 : 0) != 0) {
    int err = errno;
    std::string user;
    if (err == EBUSY && gpiod_line_update(impl->line) == 0) {
      user = text_or_empty(gpiod_line_consumer(impl->line));
    }
    return gpio_request_error(impl->where, err, user);
  }
  return std::unique_ptr<OutputRequest>(new OutputRequest(std::move(impl)));
}

Status OutputRequest::set(bool active) {
  if (gpiod_line_set_value(impl_->line, active ? 1 : 0) != 0) {
    return errno_error(Errc::io, "gpio: set " + impl_->where, errno);
  }
  return ok();
}

}  // namespace hal::linux_gpiod
