// SPDX-License-Identifier: Apache-2.0
// Shared by the outbox integration tests, the crash driver and the benchmark: a scripted
// station workload ("the recipe"), a loop that drives the dispatcher with the real GraphQL
// client, and a checker that compares the ION simulator's state and request log with what the
// accepted intents should have done, exactly once.
//
// The recipe: intent i belongs to unit i / 10 (serial "<prefix>-<6 digits>", subject = serial)
// and is step i % 10 of
//   0 unit.ensure  ASM-100 at RECEIVING        5 step.status COMPLETE      (step 1)
//   1 unit.move    KIT-A                       6 step.status IN_PROGRESS   (step 2)
//   2 run.ensure   procedure 12                7 step.fields Visual inspection passed = "pass"
//   3 step.status  IN_PROGRESS (step 1)        8 step.status COMPLETE      (step 2: run COMPLETE)
//   4 step.fields  Notes = "unit N", Torque checked = true
//   9 issue.create (every 5th unit) or unit.move FINISHED-GOODS
// against the simulator's default fixture (tests/ion-sim/README.md).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/common/json.hpp"
#include "agent/dispatch/dispatcher.hpp"
#include "agent/intent/intent.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "hal/clock.hpp"

namespace outbox_test {

constexpr int kRecipeLength = 10;

agent::NewIntent recipe_intent(const std::string& prefix, int index, const hal::Clock& clock);
std::string recipe_serial(const std::string& prefix, int unit);

struct SimEndpoint {
  std::string api_url;
  std::string token_url;
  std::string ca;
};

// A CurlGraphqlClient for the simulator's demo key (the fixture's public test secret).
hal::Result<std::unique_ptr<agent::CurlGraphqlClient>> make_sim_client(const SimEndpoint& sim,
                                                                       const hal::Clock& clock);

// Drives the client and the dispatcher until the dispatcher is idle (true) or `limit` passes.
// `between` (optional) runs once per loop turn, e.g. to append more intents.
bool drain(agent::Dispatcher& d, agent::CurlGraphqlClient& c, const hal::Clock& clock,
           std::chrono::milliseconds limit, const std::function<void()>& between = {});

// Compares the simulator's state (`/_sim/state`) and request log (`/_sim/log`) with the effect
// of recipe intents 0 .. n-1 for `prefix`: every unit, run, step status, field value, issue
// and location as expected, each applied mutation exactly once and in recipe order per unit.
// Returns "" when everything matches, else a description of the first mismatches.
std::string check_recipe_effect(const cJSON* state, const cJSON* log, const std::string& prefix, int n);

}  // namespace outbox_test
