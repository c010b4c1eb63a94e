// SPDX-License-Identifier: Apache-2.0
#include "agent/c_handles.hpp"

#include <CppUTest/TestHarness.h>

TEST_GROUP(CHandles){};

TEST(CHandles, SqlStmtIsFinalizedSoTheDatabaseCanClose) {
  sqlite3* raw = nullptr;
  LONGS_EQUAL(SQLITE_OK, sqlite3_open(":memory:", &raw));
  {
    sqlite3_stmt* s = nullptr;
    LONGS_EQUAL(SQLITE_OK, sqlite3_prepare_v2(raw, "SELECT 1", -1, &s, nullptr));
    agent::SqlStmt stmt(s);
    LONGS_EQUAL(SQLITE_ROW, sqlite3_step(stmt.get()));
  }
  // sqlite3_close (not _v2) refuses with SQLITE_BUSY while any statement is unfinalized.
  LONGS_EQUAL(SQLITE_OK, sqlite3_close(raw));
}

TEST(CHandles, JsonTreeAndPrintedTextAreReleased) {
  // Leak-checked by LeakSanitizer in the sanitizer build.
  agent::Json doc(cJSON_Parse(R"({"serial":"SN-000123","n":[1,2,3]})"));
  CHECK(doc != nullptr);
  agent::JsonText text(cJSON_PrintUnformatted(doc.get()));
  STRCMP_EQUAL(R"({"serial":"SN-000123","n":[1,2,3]})", text.get());
}

TEST(CHandles, CurlHandlesAreReleased) {
  agent::CurlMulti multi(curl_multi_init());
  agent::CurlEasy easy(curl_easy_init());
  CHECK(multi != nullptr);
  CHECK(easy != nullptr);
  agent::CurlSlist headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  CHECK(headers != nullptr);
}
