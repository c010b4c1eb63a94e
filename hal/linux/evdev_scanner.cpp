// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/evdev_scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <utility>

#include "hal/log.hpp"

namespace hal::linux_input {
namespace {

constexpr std::string_view kModule = "evdev";

bool test_bit(const std::uint8_t* bits, std::size_t len, unsigned bit) {
  return bit / 8 < len && (bits[bit / 8] & (1U << (bit % 8))) != 0;
}

// Event nodes in numeric order (event2 before event10), so the choice is stable across boots.
std::vector<std::string> event_nodes(const std::string& dir) {
  std::vector<std::pair<long, std::string>> nodes;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n.rfind("event", 0) == 0 && n.size() > 5) {
        nodes.emplace_back(std::strtol(e->d_name + 5, nullptr, 10), dir + "/" + e->d_name);
      }
    }
    ::closedir(d);
  }
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::string> paths;
  for (auto& n : nodes) {
    paths.push_back(std::move(n.second));
  }
  return paths;
}

std::string usb_id_text(std::uint16_t vendor, std::uint16_t product) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%04x", vendor, product);
  return buf;
}

}  // namespace

Status parse_usb_id(std::string_view text, std::uint16_t& vendor, std::uint16_t& product) {
  auto hex = [](std::string_view s, std::uint16_t& v) {
    if (s.empty() || s.size() > 4) {
      return false;
    }
    unsigned x = 0;
    for (char c : s) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) {
        return false;
      }
      x = x * 16 + static_cast<unsigned>(d);
    }
    v = static_cast<std::uint16_t>(x);
    return true;
  };
  auto colon = text.find(':');
  if (colon == std::string_view::npos || !hex(text.substr(0, colon), vendor) ||
      !hex(text.substr(colon + 1), product)) {
    return Error(Errc::config,
                 "evdev: usb id '" + std::string(text) + "' is not VID:PID in hex (e.g. 05e0:1200)");
  }
  return ok();
}

EvdevScanner::EvdevScanner(EvdevScannerOptions options)
    : options_(std::move(options)),
      assembler_(options_.scan),
      reopen_(kModule, options_.name,
              !options_.device.empty() ? options_.device
                                       : "usb " + usb_id_text(options_.vendor, options_.product),
              Backoff(options_.reopen_min, options_.reopen_max)) {}

Status EvdevScanner::validate(const EvdevScannerOptions& o) {
  if (o.device.empty() && o.vendor == 0 && o.product == 0) {
    return Error(Errc::config, "evdev: input '" + o.name + "': needs \"device\" or \"usb\" (VID:PID)");
  }
  if (o.scan.max_length == 0) {
    return Error(Errc::config, "evdev: input '" + o.name + "': max_length must be at least 1");
  }
  if (o.scan.terminator == ScanAssemblerOptions::Terminator::none && o.scan.gap.count() <= 0) {
    return Error(Errc::config, "evdev: input '" + o.name + "': terminator \"none\" needs gap_ms > 0");
  }
  if (o.reopen_min.count() <= 0) {
    return Error(Errc::config, "evdev: input '" + o.name + "': reopen_min_ms must be positive");
  }
  return ok();
}

Status EvdevScanner::open(Clock::MonoTime now) {
  Result<std::string> found = find_path();
  Status st = found.ok() ? open_path(found.value()) : Status(std::move(found).error());
  if (!st.ok()) {
    reopen_.open_failed(now, st.error());
  }
  return st;
}

Result<std::string> EvdevScanner::find_path() const {
  if (!options_.device.empty()) {
    return options_.device;
  }
  std::string fallback;
  for (const auto& path : event_nodes(options_.input_dir)) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    input_id id{};
    if (!fd.valid() || ::ioctl(fd.get(), EVIOCGID, &id) != 0 || id.vendor != options_.vendor ||
        id.product != options_.product) {
      continue;
    }
    // A scanner often has several nodes (keyboard, consumer keys, mouse): take the one that
    // can type letters.
    std::uint8_t keys[KEY_MAX / 8 + 1] = {};
    if (::ioctl(fd.get(), EVIOCGBIT(EV_KEY, sizeof keys), keys) >= 0 && test_bit(keys, sizeof keys, KEY_A) &&
        test_bit(keys, sizeof keys, KEY_ENTER)) {
      return path;
    }
    if (fallback.empty()) {
      fallback = path;
    }
  }
  if (!fallback.empty()) {
    return fallback;
  }
  return Error(Errc::not_found, "evdev: no input device with USB id " +
                                    usb_id_text(options_.vendor, options_.product) + " in " +
                                    options_.input_dir);
}

Status EvdevScanner::open_path(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    Error e = errno_error(err == ENOENT ? Errc::not_found : Errc::io, "evdev: open " + path, err);
    if (err == EACCES) {
      e.what += " (is the service user in group 'input'?)";
    }
    return e;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return errno_error(Errc::io, "evdev: stat " + path, errno);
  }
  kind_ = S_ISCHR(st.st_mode) ? Kind::device : S_ISFIFO(st.st_mode) ? Kind::fifo : Kind::file;
  if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)) {
    return Error(Errc::config, "evdev: " + path + " is not a device, FIFO or recorded file");
  }
  bool grabbed = options_.grab && ::ioctl(fd.get(), EVIOCGRAB, 1) == 0;
  if (options_.grab && !grabbed) {
    int err = errno;
    if (err == EBUSY) {
      return Error(Errc::busy, "evdev: grab " + path + ": another program holds a grab on it");
    }
    if (kind_ == Kind::device && err != ENOTTY && err != EINVAL) {
      return errno_error(Errc::io, "evdev: grab " + path, err);
    }
    // ENOTTY: a replay file or FIFO has nothing to grab.
  }
  if (kind_ == Kind::device) {
    // Monotonic timestamps: the gap rule compares them, and wall time may be stepped by NTP.
    int clk = CLOCK_MONOTONIC;
    (void)::ioctl(fd.get(), EVIOCSCLOCKID, &clk);
  }
  fd_ = std::move(fd);
  partial_.clear();
  assembler_.reset();
  last_read_.reset();
  resync();
  reopen_.opened(path);
  log::info(kModule, "input '" + options_.name + "': opened " + path + (grabbed ? " (grabbed)" : ""));
  return ok();
}

void EvdevScanner::resync() {
  if (kind_ != Kind::device || !fd_.valid()) {
    return;
  }
  std::uint8_t keys[KEY_MAX / 8 + 1] = {};
  if (::ioctl(fd_.get(), EVIOCGKEY(sizeof keys), keys) >= 0) {
    assembler_.set_key_state(keys, sizeof keys);
  }
}

std::optional<Clock::MonoTime> EvdevScanner::next_deadline() const {
  if (!fd_.valid()) {
    return reopen_.deadline();
  }
  if (assembler_.pending() && last_read_ && options_.scan.gap.count() > 0) {
    return *last_read_ + options_.scan.gap;
  }
  return std::nullopt;
}

bool EvdevScanner::read_available(Clock::MonoTime now, std::vector<ScanRead>& reads) {
  char buf[64 * sizeof(input_event)];
  bool dropped = false;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    int err = errno;
    if (n > 0) {
      partial_.append(buf, static_cast<std::size_t>(n));
      std::vector<input_event> events;
      partial_.erase(0, parse_input_records(partial_, options_.replay_layout, events));
      for (const auto& ev : events) {
        dropped = dropped || (ev.type == EV_SYN && ev.code == SYN_DROPPED);
        assembler_.feed(ev, reads);
      }
      continue;
    }
    if (n < 0 && err == EINTR) {
      continue;
    }
    if (n < 0 && err == EAGAIN) {
      break;
    }
    if (n == 0 && kind_ == Kind::file) {
      // The end of a recorded stream: what is still open ends as if the gap had passed.
      assembler_.flush_idle(reads);
      fd_.reset();
      reopen_.ended("evdev: " + reopen_.status().path + ": end of recorded stream");
      return dropped;
    }
    if (n == 0) {
      assembler_.flush_idle(reads);  // FIFO writer gone: the recording ended, as for a file
    }
    const std::string& path = reopen_.status().path;
    lost(now,
         n == 0 ? "evdev: read " + path + ": writer closed"
                : errno_error(Errc::io, "evdev: read " + path, err).what,
         reads);
    return dropped;
  }
  return dropped;
}

void EvdevScanner::on_readable(Clock::MonoTime now, std::vector<StationEvent>& out) {
  if (!fd_.valid()) {
    return;
  }
  std::vector<ScanRead> reads;
  if (read_available(now, reads)) {
    resync();  // after SYN_DROPPED, the modifier state comes from the device, not the stream
  }
  last_read_ = now;
  append_scan_events(reads, options_.name, now, out);
}

void EvdevScanner::on_deadline(Clock::MonoTime now, std::vector<StationEvent>& out) {
  std::vector<ScanRead> reads;
  if (fd_.valid() && assembler_.pending() && last_read_ && options_.scan.gap.count() > 0 &&
      now >= *last_read_ + options_.scan.gap) {
    assembler_.flush_idle(reads);
  }
  if (!fd_.valid()) {
    reopen_.retry_if_due(now, [&] { return open(now); });
  }
  append_scan_events(reads, options_.name, now, out);
}

void EvdevScanner::lost(Clock::MonoTime now, std::string why, std::vector<ScanRead>& reads) {
  // A scan cut by the unplug is reported as rejected, never dropped and never passed as whole.
  assembler_.abandon("scanner disconnected during the scan (" + why + ")", reads);
  fd_.reset();
  partial_.clear();
  assembler_.reset();
  reopen_.lost(now, std::move(why));
}

}  // namespace hal::linux_input
