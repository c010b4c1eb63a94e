// SPDX-License-Identifier: Apache-2.0
// The IonSim test helper itself: starts the simulator, reads its ready file, talks to the
// admin API and stops it. If this fails, every other integration test will too.
#include <CppUTest/TestHarness.h>
#include <signal.h>
#include <unistd.h>

#include "ion_sim.hpp"

TEST_GROUP(IonSimHelper){};

TEST(IonSimHelper, StartsAnswersAdminAndStops) {
  pid_t pid = -1;
  {
    ion_test::IonSim sim;
    CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
    CHECK_TRUE(sim.port() > 0);
    CHECK_TRUE(access(sim.ca().c_str(), R_OK) == 0);
    STRCMP_CONTAINS("https://127.0.0.1:", sim.api_url().c_str());
    agent::Json st = sim.state();
    CHECK_TRUE_TEXT(st != nullptr, sim.last_admin_error().c_str());
    pid = sim.pid();
    CHECK_EQUAL(0, kill(pid, 0));
  }
  // Destructor stopped and reaped it.
  CHECK_EQUAL(-1, kill(pid, 0));
}
