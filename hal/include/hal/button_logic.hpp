// SPDX-License-Identifier: Apache-2.0
// ButtonLogic: one station input (button, pedal, switch) from raw logical edges to
// StationEvents: optional software debounce (Debouncer), then press / release, then
// long_press (LongPressDetector). Every GPIO input backend (libgpiod v1 and v2, the simulated
// chip, the FIFO-driven SimStation) feeds its edges here, so they all produce the same events.
// When the kernel already debounces (GPIO uAPI v2), the backend passes debounce = 0.
// Pure and single-threaded: the owner calls on_deadline() at next_deadline().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hal/debouncer.hpp"
#include "hal/device.hpp"
#include "hal/long_press.hpp"

namespace hal {

struct ButtonConfig {
  std::string name;                        // copied into StationEvent::input
  std::chrono::nanoseconds debounce{0};    // software debounce window; 0 = none
  std::chrono::nanoseconds long_press{0};  // 0 = no long_press events
};

class ButtonLogic {
 public:
  using MonoTime = Clock::MonoTime;

  // initial_active: the level read when the line was requested. It is taken as the stable
  // state without an event, so a pedal held down at start-up is not reported as a new press.
  explicit ButtonLogic(ButtonConfig config, bool initial_active = false);

  // A raw edge: the logical level (after active-low) is now `active` since `at`. Work that
  // fell due before `at` is done first, so events keep their order.
  void on_edge(bool active, MonoTime at, std::vector<StationEvent>& out);
  std::optional<MonoTime> next_deadline() const;
  void on_deadline(MonoTime now, std::vector<StationEvent>& out);

  const std::string& name() const { return config_.name; }
  bool active() const { return debouncer_.stable(); }
  std::uint64_t raw_edges() const { return raw_edges_; }
  // The line's level read back after a batch of edges stamped up to `at`. Software debounce
  // trusts the last edge's direction; on GPIO uAPI v1 the kernel reads the level late, so
  // edges of a fast burst may all carry the same direction. A differing level replaces the
  // raw level without counting as an edge or moving the window past `at`.
  void confirm_level(bool active, MonoTime at, std::vector<StationEvent>& out);
  // Re-sync after lost events: adopt `active` as the stable level, emitting press/release if
  // it differs from what was last reported.
  void resync(bool active, MonoTime at, std::vector<StationEvent>& out);

 private:
  void emit(StationEvent::Kind kind, MonoTime at, std::vector<StationEvent>& out) const;
  void on_stable(bool active, MonoTime at, std::vector<StationEvent>& out);

  ButtonConfig config_;
  Debouncer debouncer_;
  LongPressDetector long_press_;
  std::uint64_t raw_edges_ = 0;
};

}  // namespace hal
