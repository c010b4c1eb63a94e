// SPDX-License-Identifier: Apache-2.0
// Must NOT compile: scan/ sits below outbox/ in the stage order, so the outbox's headers are
// not on scan's include path (tests/layout/CMakeLists.txt builds this against ion_agent_scan).
#include "agent/outbox/outbox.hpp"

int layout_wrong_way() {
  return 0;
}
