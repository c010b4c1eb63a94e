// SPDX-License-Identifier: Apache-2.0
// Shared by the workflow suites: a profile parsed from text (the test fails on a parse
// error) and a station event as an input would deliver it.
#pragma once

#include <CppUTest/TestHarness.h>

#include <memory>

#include "agent/profile/profile.hpp"
#include "hal/device.hpp"

namespace workflow_fixtures {

inline std::shared_ptr<const agent::Profile> load(const char* text, const char* file_name) {
  auto p = agent::parse_profile(text, file_name);
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
  return std::make_shared<const agent::Profile>(std::move(p).value());
}

inline hal::StationEvent event(hal::StationEvent::Kind kind, const char* input, const char* text,
                               const char* error = "") {
  hal::StationEvent e;
  e.kind = kind;
  e.input = input;
  e.text = text;
  e.error = error;
  return e;
}

}  // namespace workflow_fixtures
