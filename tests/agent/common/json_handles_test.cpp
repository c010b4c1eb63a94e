// SPDX-License-Identifier: Apache-2.0
#include <CppUTest/TestHarness.h>

#include "agent/common/json.hpp"

TEST_GROUP(JsonHandles){};

TEST(JsonHandles, JsonTreeAndPrintedTextAreReleased) {
  // Leak-checked by LeakSanitizer in the sanitizer build.
  agent::Json doc(cJSON_Parse(R"({"serial":"SN-000123","n":[1,2,3]})"));
  CHECK(doc != nullptr);
  agent::JsonText text(cJSON_PrintUnformatted(doc.get()));
  STRCMP_EQUAL(R"({"serial":"SN-000123","n":[1,2,3]})", text.get());
}
