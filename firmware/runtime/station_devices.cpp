// SPDX-License-Identifier: Apache-2.0
#include "station_devices.hpp"

#include <unistd.h>

#include "hal/gpio_spec.hpp"
#include "hal/keymap.hpp"
#include "hal/linux/evdev_scanner.hpp"
#include "hal/linux/folder_watch.hpp"
#include "hal/linux/gpio_inputs.hpp"
#include "hal/linux/gpio_output.hpp"
#include "hal/linux/line_instrument.hpp"
#include "hal/linux/tty_scanner.hpp"
#include "hal/log.hpp"
#include "hal/output_pattern.hpp"
#include "hal/sim/sim_output.hpp"
#include "hal/sim/sim_station.hpp"

namespace firmware {
namespace {

using agent::InputSpec;

// The input that `scan` lines of the simulated station feed: the first scanner input, or the
// first input a scan rule listens on.
std::string sim_scanner(const agent::Profile& p) {
  for (const auto& in : p.inputs) {
    if (in.is_scanner()) {
      return in.name;
    }
  }
  for (const auto& r : p.rules) {
    if (r.event == "scan") {
      return r.on;
    }
  }
  return p.inputs.empty() ? "scanner" : p.inputs.front().name;
}

hal::Result<std::unique_ptr<hal::Device>> make_evdev(const InputSpec& in, hal::Clock::MonoTime now) {
  hal::linux_input::EvdevScannerOptions o;
  o.name = in.name;
  o.device = in.device;
  o.grab = in.grab;
  if (!in.usb.empty()) {
    ION_TRY(hal::linux_input::parse_usb_id(in.usb, o.vendor, o.product), "input " + in.name);
  }
  if (!in.keymap.empty()) {
    auto km = hal::Keymap::by_name(in.keymap);
    if (!km.ok()) {
      return std::move(km).error().context("input " + in.name);
    }
    o.scan.keymap = *km;
  }
  if (!in.terminator.empty()) {
    auto t = hal::parse_terminator(in.terminator);
    if (!t.ok()) {
      return std::move(t).error().context("input " + in.name);
    }
    o.scan.terminator = *t;
  }
  if (in.gap_ms >= 0) {
    o.scan.gap = std::chrono::milliseconds(in.gap_ms);
  }
  o.scan.max_length = static_cast<std::size_t>(in.max_length);
  ION_TRY(hal::linux_input::EvdevScanner::validate(o), "input " + in.name);
  auto dev = std::make_unique<hal::linux_input::EvdevScanner>(o);
  auto st = dev->open(now);
  if (!st.ok()) {
    hal::log::warning("station", "input " + in.name + ": " + st.error().what + " (will retry)");
  }
  return std::unique_ptr<hal::Device>(std::move(dev));
}

hal::Result<std::unique_ptr<hal::Device>> make_tty(const InputSpec& in, hal::Clock::MonoTime now) {
  hal::linux_tty::TtyScannerOptions o;
  o.name = in.name;
  o.device = in.device;
  o.baud = static_cast<unsigned>(in.baud);
  o.data_bits = static_cast<unsigned>(in.data_bits);
  o.stop_bits = static_cast<unsigned>(in.stop_bits);
  if (!in.parity.empty()) {
    auto p = hal::linux_tty::parse_parity(in.parity);
    if (!p.ok()) {
      return std::move(p).error().context("input " + in.name);
    }
    o.parity = *p;
  }
  if (!in.terminator.empty()) {
    auto t = hal::parse_serial_terminator(in.terminator);
    if (!t.ok()) {
      return std::move(t).error().context("input " + in.name);
    }
    o.framing.terminator = *t;
  }
  if (in.gap_ms >= 0) {
    o.framing.gap = std::chrono::milliseconds(in.gap_ms);
  }
  o.framing.max_length = static_cast<std::size_t>(in.max_length);
  ION_TRY(hal::linux_tty::TtyScanner::validate(o), "input " + in.name);
  auto dev = std::make_unique<hal::linux_tty::TtyScanner>(o);
  auto st = dev->open(now);
  if (!st.ok()) {
    hal::log::warning("station", "input " + in.name + ": " + st.error().what + " (will retry)");
  }
  return std::unique_ptr<hal::Device>(std::move(dev));
}

// A folder input is a directory, not hardware: it is watched with inotify with or without
// --sim, so a simulated station can still take a test stand's real files.
hal::Result<std::unique_ptr<hal::Device>> make_folder(const InputSpec& in, hal::Clock::MonoTime now) {
  hal::linux_folder::FolderWatchOptions o;
  o.folder.name = in.name;
  o.folder.path = in.path;
  o.folder.pattern = in.pattern;
  o.folder.max_bytes = static_cast<std::uint64_t>(in.max_file_mb) << 20;
  ION_TRY(hal::linux_folder::FolderWatch::validate(o), "input " + in.name);
  auto dev = std::make_unique<hal::linux_folder::FolderWatch>(o);
  auto st = dev->open(now);
  if (!st.ok()) {
    hal::log::warning("station",
                      "input " + in.name + ": " + st.error().what + " (watched for until it exists)");
  }
  return std::unique_ptr<hal::Device>(std::move(dev));
}

hal::Result<std::unique_ptr<hal::linux_instrument::LineInstrument>> make_instrument(
    const InputSpec& in, hal::Clock::MonoTime now) {
  hal::linux_instrument::LineInstrumentOptions o;
  o.session.name = in.name;
  o.session.mode =
      in.mode == "query" ? hal::InstrumentOptions::Mode::query : hal::InstrumentOptions::Mode::stream;
  o.session.command = in.command;
  o.session.terminator = in.terminator == "cr" ? "\r" : in.terminator == "lf" ? "\n" : "\r\n";
  o.session.timeout = std::chrono::milliseconds(in.timeout_ms);
  o.session.max_length = static_cast<std::size_t>(in.max_length);
  o.tcp = in.tcp;
  if (in.tcp.empty()) {
    o.serial.name = in.name;
    o.serial.device = in.device;
    o.serial.baud = static_cast<unsigned>(in.baud);
    o.serial.data_bits = static_cast<unsigned>(in.data_bits);
    o.serial.stop_bits = static_cast<unsigned>(in.stop_bits);
    if (!in.parity.empty()) {
      auto p = hal::linux_tty::parse_parity(in.parity);
      if (!p.ok()) {
        return std::move(p).error().context("input " + in.name);
      }
      o.serial.parity = *p;
    }
  }
  ION_TRY(hal::linux_instrument::LineInstrument::validate(o), "input " + in.name);
  auto dev = std::make_unique<hal::linux_instrument::LineInstrument>(o);
  auto st = dev->open(now);
  if (!st.ok()) {
    hal::log::warning("station", "input " + in.name + ": " + st.error().what + " (will retry)");
  }
  return dev;
}

template <class Spec, class Ref>
void set_line(const Spec& in, Ref& ref) {
  ref.chip = in.chip;
  if (in.line >= 0) {
    ref.offset = static_cast<unsigned>(in.line);
  } else {
    ref.line_name = in.line_name;
  }
}

hal::Result<hal::GpioInputSpec> gpio_input_spec(const InputSpec& in) {
  hal::GpioInputSpec g;
  g.name = in.name;
  set_line(in, g.line);
  g.active_low = in.active_low;
  if (!in.bias.empty()) {
    auto b = hal::parse_bias(in.bias);
    if (!b.ok()) {
      return std::move(b).error().context("input " + in.name);
    }
    g.bias = *b;
  }
  g.debounce = std::chrono::milliseconds(in.debounce_ms);
  g.long_press = std::chrono::milliseconds(in.long_press_ms);
  return g;
}

hal::Result<std::unique_ptr<hal::Output>> make_gpio_output(const agent::OutputSpec& out) {
  hal::GpioOutputSpec g;
  g.name = out.name;
  set_line(out, g.line);
  g.active_low = out.active_low;
  if (!out.drive.empty()) {
    auto d = hal::parse_drive(out.drive);
    if (!d.ok()) {
      return std::move(d).error().context("output " + out.name);
    }
    g.drive = *d;
  }
  auto o = hal::linux_gpiod::GpioOutput::open(g);
  if (!o.ok()) {
    return std::move(o).error().context("output " + out.name);
  }
  return std::unique_ptr<hal::Output>(std::move(o).value());
}

}  // namespace

hal::Result<std::unique_ptr<StationDevices>> StationDevices::build(const agent::Profile& profile,
                                                                   const std::string& sim_source,
                                                                   hal::Clock::MonoTime now) {
  std::unique_ptr<StationDevices> d(new StationDevices());
  bool sim = !sim_source.empty();
  if (sim) {
    ION_TRY(d->build_sim(profile, sim_source), "station");
    ION_TRY(d->build_folders(profile, now), "station");
  } else {
    ION_TRY(d->build_real(profile, now), "station");
  }
  ION_TRY(d->build_outputs(profile, sim), "station");
  return d;
}

hal::Status StationDevices::build_sim(const agent::Profile& profile, const std::string& source) {
  hal::sim::SimStationConfig c;
  c.path = source;
  c.scanner = sim_scanner(profile);
  for (const auto& in : profile.inputs) {
    if (in.name == c.scanner) {
      c.max_scan_length = static_cast<std::size_t>(in.max_length);
      continue;
    }
    if (in.is_instrument()) {
      c.instruments.push_back(in.name);
      sim_instruments_[in.name] = in.command;
      continue;
    }
    if (in.is_folder()) {
      continue;  // watched for real (build_folders)
    }
    hal::ButtonConfig b;
    b.name = in.name;
    b.long_press = std::chrono::milliseconds(in.long_press_ms);
    c.buttons.push_back(b);
  }
  auto st = hal::sim::SimStation::open(c);
  if (!st.ok()) {
    return std::move(st).error().context("sim source " + source);
  }
  kinds_.emplace_back(inputs_.empty() ? "sim" : "", "sim");
  inputs_.push_back(std::move(st).value());
  kinds_.back().first = inputs_.back()->status().name;
  for (const auto& in : profile.inputs) {
    if (!in.is_folder()) {
      kinds_.emplace_back(in.name, "sim");
    }
  }
  return hal::ok();
}

hal::Status StationDevices::build_folders(const agent::Profile& profile, hal::Clock::MonoTime now) {
  for (const auto& in : profile.inputs) {
    if (in.is_folder()) {
      auto dev = make_folder(in, now);
      if (!dev.ok()) {
        return std::move(dev).error();
      }
      inputs_.push_back(std::move(dev).value());
      kinds_.emplace_back(in.name, "folder");
    }
  }
  return hal::ok();
}

hal::Status StationDevices::build_real(const agent::Profile& profile, hal::Clock::MonoTime now) {
  std::vector<hal::GpioInputSpec> gpio;  // all GPIO inputs share one device (one request per chip)
  for (const auto& in : profile.inputs) {
    hal::Result<std::unique_ptr<hal::Device>> dev = hal::Error(hal::Errc::internal, "");
    switch (in.type) {
      case InputSpec::Type::evdev:
        dev = make_evdev(in, now);
        break;
      case InputSpec::Type::serial:
        dev = make_tty(in, now);
        break;
      case InputSpec::Type::gpio: {
        auto spec = gpio_input_spec(in);
        if (!spec.ok()) {
          return std::move(spec).error();
        }
        gpio.push_back(std::move(spec).value());
        kinds_.emplace_back(in.name, "gpio");
        continue;
      }
      case InputSpec::Type::sim:
        dev = hal::Error(hal::Errc::config,
                         "input " + in.name + ": type sim needs `ion-agent run --sim FIFO|-`");
        break;
      case InputSpec::Type::folder:
        dev = make_folder(in, now);
        if (dev.ok()) {
          inputs_.push_back(std::move(dev).value());
          kinds_.emplace_back(in.name, "folder");
          continue;
        }
        break;
      case InputSpec::Type::instrument: {
        auto inst = make_instrument(in, now);
        if (!inst.ok()) {
          return std::move(inst).error();
        }
        instruments_[in.name] = inst->get();
        inputs_.push_back(std::move(inst).value());
        kinds_.emplace_back(in.name, "instrument");
        continue;
      }
    }
    if (!dev.ok()) {
      return std::move(dev).error();
    }
    inputs_.push_back(std::move(dev).value());
    kinds_.emplace_back(in.name, "scanner");
  }
  if (!gpio.empty()) {
    auto g = hal::linux_gpiod::GpioInputs::open(gpio);
    if (!g.ok()) {
      return std::move(g).error().context("gpio inputs");
    }
    inputs_.push_back(std::move(g).value());
    kinds_.emplace_back(inputs_.back()->status().name, "gpio");
  }
  return hal::ok();
}

hal::Status StationDevices::build_outputs(const agent::Profile& profile, bool sim) {
  for (const auto& out : profile.outputs) {
    if (!sim && out.type == agent::OutputSpec::Type::gpio) {
      auto o = make_gpio_output(out);
      if (!o.ok()) {
        return std::move(o).error();
      }
      outputs_.push_back(std::move(o).value());
    } else {
      outputs_.push_back(std::make_unique<hal::sim::SimOutput>(out.name));
    }
    ION_TRY(feedback_.add_output(out.name, *outputs_.back()), "output " + out.name);
  }
  return hal::ok();
}

std::vector<hal::Device*> StationDevices::inputs() const {
  std::vector<hal::Device*> v;
  for (const auto& d : inputs_) {
    v.push_back(d.get());
  }
  return v;
}

void StationDevices::play(const agent::Pattern& p, hal::Clock::MonoTime now) {
  auto pattern = hal::parse_pattern(p.pattern);
  hal::Status st = pattern.ok() ? feedback_.play_on(p.output, *pattern, now) : hal::Status(pattern.error());
  if (!st.ok()) {
    hal::log::warning("station", "feedback: " + p.output + ": " + st.error().what);
  }
}

std::vector<hal::DeviceStatus> StationDevices::status() const {
  std::vector<hal::DeviceStatus> all;
  for (const auto& d : inputs_) {
    all.push_back(d->status());
  }
  for (const auto& o : outputs_) {
    all.push_back(o->status());
  }
  return all;
}

void StationDevices::query(const std::string& name, hal::Clock::MonoTime now) {
  auto it = instruments_.find(name);
  if (it != instruments_.end()) {
    it->second->query(now);
    return;
  }
  auto sim = sim_instruments_.find(name);
  if (sim != sim_instruments_.end()) {
    // One write per line, as SimOutput does, so a driving script never sees half a line.
    std::string line = "read " + name + " " + sim->second + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      hal::log::warning("station", "sim: read " + name + ": could not write to stdout");
    }
    hal::log::info("station", "sim: read " + name + ": answer with `reading " + name + " TEXT`");
    return;
  }
  hal::log::warning("station", "read " + name + ": no such instrument");
}

std::string StationDevices::kind_of(const std::string& input) const {
  for (const auto& k : kinds_) {
    if (k.first == input) {
      return k.second;
    }
  }
  return "output";
}

}  // namespace firmware
