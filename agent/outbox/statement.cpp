// SPDX-License-Identifier: Apache-2.0
#include "agent/outbox/statement.hpp"

namespace agent {

hal::Error sql_error(sqlite3* db, int rc, std::string_view action) {
  std::string msg(action);
  msg += ": ";
  const int primary = rc & 0xff;
  if (primary == SQLITE_FULL) {
    // Said plainly: this is what an operator needs to act on.
    msg += "disk full (";
    msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    msg += ")";
    return hal::Error(hal::Errc::storage, std::move(msg));
  }
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return hal::Error(hal::Errc::busy, std::move(msg));
  }
  return hal::Error(hal::Errc::storage, std::move(msg));
}

hal::Status sql_exec(sqlite3* db, const char* sql, std::string_view action) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return sql_error(db, rc, action);
  }
  return {};
}

hal::Result<SqlStatement> SqlStatement::prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return sql_error(db, rc, "prepare");
  }
  return SqlStatement(db, SqliteStmtHandle(raw));
}

SqlStatement& SqlStatement::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_.get(), index, v);
  return *this;
}

SqlStatement& SqlStatement::bind(int index, std::string_view v) {
  sqlite3_bind_text(stmt_.get(), index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

SqlStatement& SqlStatement::bind_null(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

hal::Result<bool> SqlStatement::step(std::string_view action) {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  hal::Error e = sql_error(db_, rc, action);
  sqlite3_reset(stmt_.get());
  return e;
}

hal::Status SqlStatement::run(std::string_view action) {
  for (;;) {
    auto r = step(action);
    if (!r.ok()) {
      reset();  // a kept statement (statement_cache.hpp) must not stay mid-run
      return std::move(r).error();
    }
    if (!*r) {
      break;
    }
  }
  reset();
  return {};
}

hal::Result<std::int64_t> SqlStatement::first_int(std::string_view action, std::int64_t none) {
  auto row = step(action);
  if (!row.ok()) {
    reset();
    return std::move(row).error();
  }
  const std::int64_t v = *row ? int_at(0) : none;
  reset();
  return v;
}

void SqlStatement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t SqlStatement::int_at(int col) const {
  return sqlite3_column_int64(stmt_.get(), col);
}

std::string SqlStatement::text_at(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_.get(), col);
  int n = sqlite3_column_bytes(stmt_.get(), col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                      : std::string();
}

bool SqlStatement::null_at(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

hal::Result<SqlTransaction> SqlTransaction::begin(sqlite3* db) {
  auto st = sql_exec(db, "BEGIN IMMEDIATE", "begin transaction");
  if (!st.ok()) {
    return std::move(st).error();
  }
  return SqlTransaction(db);
}

SqlTransaction::~SqlTransaction() {
  if (db_ != nullptr) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

hal::Status SqlTransaction::commit() {
  sqlite3* db = db_;
  int rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    // A failed COMMIT (disk full while writing the WAL) leaves the transaction open: the
    // destructor rolls it back so the connection is usable for the next attempt.
    return sql_error(db, rc, "commit");
  }
  db_ = nullptr;
  return {};
}

}  // namespace agent
