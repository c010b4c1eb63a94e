// SPDX-License-Identifier: Apache-2.0
#include "hal/long_press.hpp"

namespace hal {

LongPressDetector::LongPressDetector(std::chrono::nanoseconds threshold) : threshold_(threshold) {}

void LongPressDetector::on_press(MonoTime at) {
  armed_ = enabled();
  pressed_at_ = at;
}

void LongPressDetector::on_release() {
  armed_ = false;
}

std::optional<LongPressDetector::MonoTime> LongPressDetector::next_deadline() const {
  if (!armed_) {
    return std::nullopt;
  }
  return pressed_at_ + threshold_;
}

bool LongPressDetector::poll(MonoTime now, MonoTime* at) {
  if (!armed_ || now < pressed_at_ + threshold_) {
    return false;
  }
  armed_ = false;
  if (at != nullptr) {
    *at = pressed_at_ + threshold_;
  }
  return true;
}

}  // namespace hal
