// SPDX-License-Identifier: Apache-2.0
#include <CppUTest/TestHarness.h>

#include "agent/outbox/sqlite.hpp"

TEST_GROUP(SqliteHandles){};

TEST(SqliteHandles, StatementIsFinalizedSoTheDatabaseCanClose) {
  sqlite3* raw = nullptr;
  LONGS_EQUAL(SQLITE_OK, sqlite3_open(":memory:", &raw));
  {
    sqlite3_stmt* s = nullptr;
    LONGS_EQUAL(SQLITE_OK, sqlite3_prepare_v2(raw, "SELECT 1", -1, &s, nullptr));
    agent::SqliteStmtHandle stmt(s);
    LONGS_EQUAL(SQLITE_ROW, sqlite3_step(stmt.get()));
  }
  // sqlite3_close (not _v2) refuses with SQLITE_BUSY while any statement is unfinalized.
  LONGS_EQUAL(SQLITE_OK, sqlite3_close(raw));
}
