// SPDX-License-Identifier: Apache-2.0
// The outbox's prepared statements for its hot paths (private to agent/outbox): the state
// transitions of a delivery, checkpoints and meta writes are prepared once, not once per
// intent (with the batch's one meta write, client CPU per delivered event in
// tests/bench/wire_bench.py went from 0.18-0.21 x to 0.15-0.16 x the Python client's).
// Keyed by the SQL text's address (string literals only); each get()
// hands back the statement reset, its old bindings to be overwritten. A std::list, so a
// statement stays where it is while others are added. Destroyed before the connection.
#pragma once

#include <list>
#include <utility>

#include "agent/outbox/outbox.hpp"
#include "agent/outbox/statement.hpp"

namespace agent {

struct Outbox::Statements {
  std::list<std::pair<const char*, SqlStatement>> list;

  hal::Result<SqlStatement*> get(sqlite3* db, const char* sql) {
    for (auto& [text, stmt] : list) {
      if (text == sql) {
        stmt.reset();
        return &stmt;
      }
    }
    auto s = SqlStatement::prepare(db, sql);
    if (!s.ok()) {
      return std::move(s).error();
    }
    list.emplace_back(sql, std::move(s).value());
    return &list.back().second;
  }
};

}  // namespace agent
