// SPDX-License-Identifier: Apache-2.0
// libgpiod 1.6: gpiod_chip_open_lookup() already accepts a name, path, label or number.
#include <cerrno>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_locate.hpp"

namespace hal::linux_gpiod {
namespace {

Error chip_error(const std::string& id, int err) {
  if (err == ENOENT || err == ENODEV || err == ENOTTY || err == EINVAL) {
    return Error(Errc::not_found, "gpio: open chip '" + id +
                                      "': no such GPIO chip (looked up by name, path, label and number)");
  }
  return errno_error(Errc::io, "gpio: open chip '" + id + "'", err);
}

LineAddress address_of(gpiod_chip* chip, unsigned offset) {
  LineAddress a;
  a.chip_name = text_or_empty(gpiod_chip_name(chip));
  a.chip_path = "/dev/" + a.chip_name;
  a.chip_label = text_or_empty(gpiod_chip_label(chip));
  a.num_lines = gpiod_chip_num_lines(chip);
  a.offset = offset;
  return a;
}

Result<LineAddress> by_name(const GpioLineRef& ref) {
  if (!ref.chip.empty()) {
    Chip chip(gpiod_chip_open_lookup(ref.chip.c_str()));
    if (!chip) {
      return chip_error(ref.chip, errno);
    }
    gpiod_line* line = gpiod_chip_find_line(chip.get(), ref.line_name.c_str());
    if (line == nullptr) {
      return Error(Errc::not_found, "gpio: find " + ref.describe() + ": no line with that name");
    }
    return address_of(chip.get(), gpiod_line_offset(line));
  }
  gpiod_line* line = gpiod_line_find(ref.line_name.c_str());
  if (line == nullptr) {
    return Error(Errc::not_found, "gpio: find " + ref.describe() + ": no line with that name on any chip");
  }
  LineAddress a = address_of(gpiod_line_get_chip(line), gpiod_line_offset(line));
  gpiod_line_close_chip(line);
  return a;
}

}  // namespace

Result<LineAddress> locate(const GpioLineRef& ref) {
  if (!ref.offset) {
    if (ref.line_name.empty()) {
      return Error(Errc::config, "gpio: a line needs an offset or a name");
    }
    return by_name(ref);
  }
  if (ref.chip.empty()) {
    return Error(Errc::config, "gpio: " + ref.describe() + ": a line given by offset needs a chip");
  }
  Chip chip(gpiod_chip_open_lookup(ref.chip.c_str()));
  if (!chip) {
    return chip_error(ref.chip, errno);
  }
  LineAddress a = address_of(chip.get(), *ref.offset);
  if (a.offset >= a.num_lines) {
    return Error(Errc::not_found, "gpio: " + a.where() + ": no such line (chip has " +
                                      std::to_string(a.num_lines) + " lines)");
  }
  return a;
}

}  // namespace hal::linux_gpiod
