// SPDX-License-Identifier: Apache-2.0
#include <CppUTest/TestHarness.h>

#include "agent/net/curl.hpp"

TEST_GROUP(CurlHandles){};

TEST(CurlHandles, CurlHandlesAreReleased) {
  agent::CurlMulti multi(curl_multi_init());
  agent::CurlEasy easy(curl_easy_init());
  CHECK(multi != nullptr);
  CHECK(easy != nullptr);
  agent::CurlSlist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  CHECK(headers != nullptr);
}
