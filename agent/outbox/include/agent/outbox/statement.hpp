// SPDX-License-Identifier: Apache-2.0
// SqlStatement: a prepared SQLite statement with bind/step/column helpers, and the mapping of
// SQLite result codes onto hal::Errc (for agent/outbox only). Owns the sqlite3_stmt; borrows
// the connection. Errors read "<action>: <sqlite message>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/outbox/sqlite.hpp"
#include "hal/result.hpp"

namespace agent {

// SQLITE_FULL -> storage "disk full"; BUSY/LOCKED -> busy; everything else -> storage.
hal::Error sql_error(sqlite3* db, int rc, std::string_view action);
hal::Status sql_exec(sqlite3* db, const char* sql, std::string_view action);

class SqlStatement {
 public:
  static hal::Result<SqlStatement> prepare(sqlite3* db, const char* sql);

  SqlStatement& bind(int index, std::int64_t v);
  SqlStatement& bind(int index, std::string_view v);
  SqlStatement& bind_null(int index);
  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error.
  hal::Result<bool> step(std::string_view action);
  hal::Status run(std::string_view action);  // step until done, then reset
  // The first row's first column, or `none` when there is no row; then reset.
  hal::Result<std::int64_t> first_int(std::string_view action, std::int64_t none);
  void reset();

  std::int64_t int_at(int col) const;
  std::string text_at(int col) const;
  bool null_at(int col) const;

 private:
  SqlStatement(sqlite3* db, SqliteStmtHandle stmt) : db_(db), stmt_(std::move(stmt)) {}
  sqlite3* db_;
  SqliteStmtHandle stmt_;
};

// RAII transaction: BEGIN IMMEDIATE (takes the write lock up front so a busy database fails
// here, not at COMMIT); rolls back unless commit() succeeded.
class SqlTransaction {
 public:
  static hal::Result<SqlTransaction> begin(sqlite3* db);
  SqlTransaction(SqlTransaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqlTransaction& operator=(SqlTransaction&&) = delete;
  SqlTransaction(const SqlTransaction&) = delete;
  ~SqlTransaction();
  hal::Status commit();

 private:
  explicit SqlTransaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace agent
