// SPDX-License-Identifier: Apache-2.0
#include "hal/feedback.hpp"

namespace hal {

const std::vector<BuiltinSignal>& Feedback::builtins() {
  static const std::vector<BuiltinSignal> kBuiltins = {
      {"accepted", {{"green", "pulse 300ms"}}},
      {"bad_scan", {{"red", "blink 200ms x3"}, {"buzzer", "pulse 150ms"}}},
      {"queue_full", {{"red", "on"}, {"buzzer", "pulse 1s"}}},
      {"no_unit", {{"red", "blink 800ms x2"}}},
  };
  return kBuiltins;
}

Status Feedback::add_output(std::string name, Output& output) {
  if (name.empty() || find(name) != nullptr) {
    return Error(Errc::config, "feedback: output name '" + name + "' is empty or already used");
  }
  outputs_.emplace_back(&output, std::make_unique<PatternDriver>(std::move(name), output));
  return ok();
}

void Feedback::define_builtins() {
  for (const auto& b : builtins()) {
    std::vector<SignalPart> parts;
    for (const auto& [out, text] : b.parts) {
      if (find(out) != nullptr) {
        // The texts are ours and covered by tests; a parse failure here is a bug.
        parts.push_back({std::string(out), parse_pattern(text).value()});
      }
    }
    signals_[std::string(b.name)] = std::move(parts);
  }
  std::vector<SignalPart> clear;
  for (const auto& o : outputs_) {
    clear.push_back({o.second->name(), OutputPattern::off()});
  }
  signals_["clear"] = std::move(clear);
}

Status Feedback::define(std::string signal, std::vector<SignalPart> parts) {
  if (signal.empty()) {
    return Error(Errc::config, "feedback: a signal needs a name");
  }
  for (const auto& p : parts) {
    if (find(p.output) == nullptr) {
      return Error(Errc::config, "feedback: signal '" + signal + "': no output named '" + p.output + "'");
    }
  }
  signals_[std::move(signal)] = std::move(parts);
  return ok();
}

bool Feedback::has_signal(std::string_view signal) const {
  return signals_.find(signal) != signals_.end();
}

Status Feedback::play(std::string_view signal, MonoTime now) {
  auto it = signals_.find(signal);
  if (it == signals_.end()) {
    return Error(Errc::not_found, "feedback: no signal named '" + std::string(signal) + "'");
  }
  for (const auto& part : it->second) {
    ION_TRY(play_on(part.output, part.pattern, now), "feedback: " + std::string(signal));
  }
  return ok();
}

Status Feedback::play_on(std::string_view output, const OutputPattern& pattern, MonoTime now) {
  PatternDriver* d = find(output);
  if (d == nullptr) {
    return Error(Errc::not_found, "feedback: no output named '" + std::string(output) + "'");
  }
  d->play(pattern, now);
  return ok();
}

std::optional<Feedback::MonoTime> Feedback::next_deadline() const {
  std::optional<MonoTime> best;
  for (const auto& o : outputs_) {
    auto d = o.second->next_deadline();
    if (d && (!best || *d < *best)) {
      best = d;
    }
  }
  return best;
}

void Feedback::on_deadline(MonoTime now) {
  for (auto& o : outputs_) {
    o.second->on_deadline(now);
  }
}

bool Feedback::level(std::string_view output) const {
  const PatternDriver* d = find(output);
  return d != nullptr && d->level();
}

std::vector<DeviceStatus> Feedback::status() const {
  std::vector<DeviceStatus> out;
  for (const auto& o : outputs_) {
    DeviceStatus s = o.first->status();
    if (s.last_error.empty()) {
      s.last_error = o.second->last_error();
    }
    out.push_back(std::move(s));
  }
  return out;
}

PatternDriver* Feedback::find(std::string_view output) {
  for (auto& o : outputs_) {
    if (o.second->name() == output) {
      return o.second.get();
    }
  }
  return nullptr;
}

const PatternDriver* Feedback::find(std::string_view output) const {
  for (const auto& o : outputs_) {
    if (o.second->name() == output) {
      return o.second.get();
    }
  }
  return nullptr;
}

}  // namespace hal
