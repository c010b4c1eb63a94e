// SPDX-License-Identifier: Apache-2.0
// libgpiod 2.x: chips are opened by path only, so names, numbers and labels are resolved
// here by walking /dev for GPIO character devices.
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "hal/linux/gpiod_handles.hpp"
#include "hal/linux/gpiod_locate.hpp"

namespace hal::linux_gpiod {
namespace {

// /dev/gpiochip* in numeric order (gpiochip2 before gpiochip10).
std::vector<std::string> chip_paths() {
  std::vector<std::string> paths;
  DIR* dir = ::opendir("/dev");
  if (dir == nullptr) {
    return paths;
  }
  while (dirent* e = ::readdir(dir)) {
    std::string path = std::string("/dev/") + e->d_name;
    if (std::strncmp(e->d_name, "gpiochip", 8) == 0 && gpiod_is_gpiochip_device(path.c_str())) {
      paths.push_back(path);
    }
  }
  ::closedir(dir);
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return paths;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Error chip_error(const std::string& id, int err) {
  if (err == ENOENT || err == ENODEV || err == ENOTTY || err == EINVAL) {
    return Error(Errc::not_found, "gpio: open chip '" + id +
                                      "': no such GPIO chip (looked up by name, path, label and number)");
  }
  return errno_error(Errc::io, "gpio: open chip '" + id + "'", err);
}

Result<LineAddress> describe_chip(gpiod_chip* chip) {
  ChipInfo info(gpiod_chip_get_info(chip));
  if (!info) {
    return errno_error(Errc::io, std::string("gpio: read chip info of ") + gpiod_chip_get_path(chip), errno);
  }
  LineAddress a;
  a.chip_path = gpiod_chip_get_path(chip);
  a.chip_name = text_or_empty(gpiod_chip_info_get_name(info.get()));
  a.chip_label = text_or_empty(gpiod_chip_info_get_label(info.get()));
  a.num_lines = static_cast<unsigned>(gpiod_chip_info_get_num_lines(info.get()));
  return a;
}

// Opens a chip by path, name ("gpiochip0"), number ("0") or label.
Result<Chip> open_chip(const std::string& id) {
  std::string path = id;
  if (all_digits(id)) {
    path = "/dev/gpiochip" + id;
  } else if (id.front() != '/') {
    path = "/dev/" + id;
  }
  if (gpiod_is_gpiochip_device(path.c_str())) {
    Chip chip(gpiod_chip_open(path.c_str()));
    if (!chip) {
      return chip_error(id, errno);
    }
    return chip;
  }
  if (id.front() != '/') {
    for (const auto& p : chip_paths()) {
      Chip chip(gpiod_chip_open(p.c_str()));
      if (!chip) {
        continue;
      }
      ChipInfo info(gpiod_chip_get_info(chip.get()));
      if (info && text_or_empty(gpiod_chip_info_get_label(info.get())) == id) {
        return chip;
      }
    }
  }
  return chip_error(id, ENOENT);
}

Result<LineAddress> by_name(const GpioLineRef& ref) {
  std::vector<std::string> ids;
  if (!ref.chip.empty()) {
    ids.push_back(ref.chip);
  } else {
    ids = chip_paths();
  }
  for (const auto& id : ids) {
    auto chip = open_chip(id);
    if (!chip.ok()) {
      if (!ref.chip.empty()) {
        return std::move(chip).error();
      }
      continue;  // an unreadable chip while searching all of them is not the one we want
    }
    int offset = gpiod_chip_get_line_offset_from_name(chip->get(), ref.line_name.c_str());
    if (offset >= 0) {
      auto a = describe_chip(chip->get());
      ION_TRY(a, "gpio: find " + ref.describe());
      a->offset = static_cast<unsigned>(offset);
      return a;
    }
  }
  return Error(Errc::not_found, "gpio: find " + ref.describe() + ": no line with that name" +
                                    (ref.chip.empty() ? " on any chip" : ""));
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
  auto chip = open_chip(ref.chip);
  if (!chip.ok()) {
    return std::move(chip).error();
  }
  auto a = describe_chip(chip->get());
  if (!a.ok()) {
    return a;
  }
  a->offset = *ref.offset;
  if (a->offset >= a->num_lines) {
    return Error(Errc::not_found, "gpio: " + a->where() + ": no such line (chip has " +
                                      std::to_string(a->num_lines) + " lines)");
  }
  return a;
}

}  // namespace hal::linux_gpiod
