// SPDX-License-Identifier: Apache-2.0
// Shared by `ion-agent queue` and `ion-agent status`: opening the outbox of a state directory
// without creating one, and rendering intents, ages and times for people and for --json.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/common/json.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"
#include "hal/result.hpp"

namespace firmware {

// not_found ("no outbox at ...") when the daemon has never created one. read_only unless
// `writable`.
hal::Result<std::unique_ptr<agent::Outbox>> open_existing_outbox(const std::string& state_dir,
                                                                 const hal::Clock& clock,
                                                                 agent::Outbox::Mode mode);

agent::Json intent_json(const agent::IntentRecord& r);
void print_intent(const agent::IntentRecord& r);
void print_json(const cJSON* doc);

std::int64_t wall_now_ms();
std::string human_age(std::int64_t ms);      // "42s", "5m03s", "2h10m", "3d4h"
std::string utc_time(std::int64_t wall_ms);  // "2026-11-28 00:16:38 UTC"
std::string one_line(const std::string& text, std::size_t max);

}  // namespace firmware
