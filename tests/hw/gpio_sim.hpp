// SPDX-License-Identifier: Apache-2.0
// GpioSimChip: one throw-away chip in the kernel's gpio-sim, made through configfs for one
// hw test (needs root, configfs at /sys/kernel/config and the gpio-sim module; the VM runner
// provides them). Layout, as libgpiod's tests/gpiosim uses it:
//   /sys/kernel/config/gpio-sim/<dev>/{dev_name,live}
//   /sys/kernel/config/gpio-sim/<dev>/bank0/{num_lines,label,chip_name,lineN/name,lineN/hog/{name,direction}}
//   /sys/devices/platform/<dev_name>/<chip_name>/sim_gpioN/{pull,value}
// The test drives inputs with set_pull() and reads outputs with value(). The destructor
// takes the chip down (live=0) and removes every configfs directory it made.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace hw {

class GpioSimChip {
 public:
  static constexpr const char* kConfigfs = "/sys/kernel/config/gpio-sim";

  // names: offset -> line name; hogs: offset -> consumer name of a kernel hog (an input).
  GpioSimChip(unsigned num_lines, std::map<unsigned, std::string> names = {},
              std::map<unsigned, std::string> hogs = {})
      : names_(std::move(names)), hogs_(std::move(hogs)) {
    static unsigned counter = 0;
    label_ = "ion-hw-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    dir_ = std::string(kConfigfs) + "/" + label_;
    bank_ = dir_ + "/bank0";
    if (!make_dir(dir_) || !make_dir(bank_) || !write(bank_ + "/num_lines", std::to_string(num_lines)) ||
        !write(bank_ + "/label", label_)) {
      return;
    }
    for (const auto& [offset, name] : names_) {
      std::string line = bank_ + "/line" + std::to_string(offset);
      if (!make_dir(line) || !write(line + "/name", name)) {
        return;
      }
    }
    for (const auto& [offset, consumer] : hogs_) {
      std::string line = bank_ + "/line" + std::to_string(offset);
      if (!make_dir(line) || !make_dir(line + "/hog") || !write(line + "/hog/name", consumer) ||
          !write(line + "/hog/direction", "input")) {
        return;
      }
    }
    if (!write(dir_ + "/live", "1") || !read(dir_ + "/dev_name", dev_name_) ||
        !read(bank_ + "/chip_name", chip_name_)) {
      return;
    }
    sysfs_ = "/sys/devices/platform/" + dev_name_ + "/" + chip_name_;
    ok_ = true;
  }

  ~GpioSimChip() {
    if (ok_) {
      write(dir_ + "/live", "0");
    }
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      ::rmdir(it->c_str());
    }
  }
  GpioSimChip(const GpioSimChip&) = delete;
  GpioSimChip& operator=(const GpioSimChip&) = delete;

  bool ok() const { return ok_; }
  // What failed while making the chip (for the test's failure message).
  const std::string& error() const { return error_; }
  const std::string& label() const { return label_; }          // the chip's label
  const std::string& chip_name() const { return chip_name_; }  // "gpiochip3"

  // Drives an input line: pull-up makes it read 1, pull-down 0.
  bool set_pull(unsigned offset, bool up) {
    return write(line_attr(offset, "pull"), up ? "pull-up" : "pull-down");
  }
  // The physical level the line has (an output's driven level): 0, 1, or -1 on error.
  int value(unsigned offset) {
    std::string v;
    if (!read(line_attr(offset, "value"), v) || v.empty()) {
      return -1;
    }
    return v[0] == '1' ? 1 : v[0] == '0' ? 0 : -1;
  }

 private:
  std::string line_attr(unsigned offset, const char* attr) const {
    return sysfs_ + "/sim_gpio" + std::to_string(offset) + "/" + attr;
  }
  bool make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) != 0) {
      error_ = "mkdir " + path + ": " + std::strerror(errno) + " (is gpio-sim loaded and configfs mounted?)";
      return false;
    }
    made_.push_back(path);
    return true;
  }
  bool write(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    bool good = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) {
      ::close(fd);
    }
    if (!good && error_.empty()) {
      error_ = "write '" + text + "' to " + path + " failed";
    }
    return good;
  }
  bool read(const std::string& path, std::string& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    char buf[128] = {};
    ssize_t n = fd >= 0 ? ::read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) {
      ::close(fd);
    }
    if (n <= 0) {
      error_ = "read " + path + " failed";
      return false;
    }
    out.assign(buf, static_cast<size_t>(n));
    while (!out.empty() && (out.back() == '\n' || out.back() == '\0')) {
      out.pop_back();
    }
    return true;
  }

  std::map<unsigned, std::string> names_;
  std::map<unsigned, std::string> hogs_;
  std::vector<std::string> made_;  // configfs directories, removed in reverse order
  std::string label_, dir_, bank_, dev_name_, chip_name_, sysfs_, error_;
  bool ok_ = false;
};

}  // namespace hw
