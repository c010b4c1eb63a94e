// SPDX-License-Identifier: Apache-2.0
// Must compile: the control for wrong_way.cpp. scan/ links common/, so common's headers are
// on its include path (built against ion_agent_scan like wrong_way.cpp).
#include "agent/common/json.hpp"
#include "agent/scan/gs1.hpp"

int layout_right_way() {
  return 0;
}
