// SPDX-License-Identifier: Apache-2.0
// RAII handles for SQLite's raw C objects: a connection and a prepared statement. Only
// outbox/ links SQLite. SqlStatement (statement.hpp) builds bind/step helpers on top.
#pragma once

#include <sqlite3.h>

#include "hal/c_handle.hpp"

namespace agent {

namespace detail {
inline void sqlite_stmt_free(sqlite3_stmt* s) noexcept {
  sqlite3_finalize(s);
}
inline void sqlite_db_free(sqlite3* db) noexcept {
  sqlite3_close_v2(db);
}
}  // namespace detail

using SqliteDbHandle = hal::CHandle<sqlite3, detail::sqlite_db_free>;
using SqliteStmtHandle = hal::CHandle<sqlite3_stmt, detail::sqlite_stmt_free>;

}  // namespace agent
