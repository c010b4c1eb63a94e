// SPDX-License-Identifier: Apache-2.0
#include "version.hpp"

#include <CppUTest/TestHarness.h>

#include <cstring>

TEST_GROUP(Version){};

TEST(Version, ComesFromTheBuild) {
  CHECK(std::strlen(ION_AGENT_VERSION) > 0);
  CHECK(std::strcmp(ION_AGENT_GPIOD_API, "v1") == 0 || std::strcmp(ION_AGENT_GPIOD_API, "v2") == 0);
}
