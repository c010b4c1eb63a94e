// SPDX-License-Identifier: Apache-2.0
#include "hal/button_logic.hpp"

#include <utility>

namespace hal {

ButtonLogic::ButtonLogic(ButtonConfig config, bool initial_active)
    : config_(std::move(config)),
      debouncer_(config_.debounce, initial_active),
      long_press_(config_.long_press) {}

void ButtonLogic::on_edge(bool active, MonoTime at, std::vector<StationEvent>& out) {
  on_deadline(at, out);
  ++raw_edges_;
  debouncer_.on_edge(active, at);
  // A zero window settles at once; do it now rather than waiting for the loop.
  on_deadline(at, out);
}

std::optional<ButtonLogic::MonoTime> ButtonLogic::next_deadline() const {
  auto a = debouncer_.next_deadline();
  auto b = long_press_.next_deadline();
  if (a && b) {
    return std::min(*a, *b);
  }
  return a ? a : b;
}

void ButtonLogic::on_deadline(MonoTime now, std::vector<StationEvent>& out) {
  // Handle what is due in time order: a long press that completed before a later release
  // is reported before it.
  for (;;) {
    auto d = debouncer_.next_deadline();
    auto l = long_press_.next_deadline();
    MonoTime at{};
    if (l && *l <= now && (!d || *l <= *d)) {
      long_press_.poll(now, &at);
      emit(StationEvent::Kind::long_press, at, out);
    } else if (d && *d <= now) {
      auto level = debouncer_.poll(now, &at);
      if (level) {
        on_stable(*level, at, out);
      }
    } else {
      return;
    }
  }
}

void ButtonLogic::confirm_level(bool active, MonoTime at, std::vector<StationEvent>& out) {
  if (debouncer_.raw() == active) {
    return;
  }
  on_deadline(at, out);
  debouncer_.on_edge(active, at);
  on_deadline(at, out);
}

void ButtonLogic::resync(bool active, MonoTime at, std::vector<StationEvent>& out) {
  bool was = debouncer_.stable();
  debouncer_.reset(active);
  if (was != active) {
    on_stable(active, at, out);
  }
}

void ButtonLogic::on_stable(bool active, MonoTime at, std::vector<StationEvent>& out) {
  if (active) {
    long_press_.on_press(at);
    emit(StationEvent::Kind::press, at, out);
  } else {
    long_press_.on_release();
    emit(StationEvent::Kind::release, at, out);
  }
}

void ButtonLogic::emit(StationEvent::Kind kind, MonoTime at, std::vector<StationEvent>& out) const {
  StationEvent e;
  e.kind = kind;
  e.input = config_.name;
  e.at = at;
  out.push_back(std::move(e));
}

}  // namespace hal
