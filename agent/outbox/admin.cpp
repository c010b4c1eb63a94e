// SPDX-License-Identifier: Apache-2.0
// Outbox administration: statistics, pruning, clock correction and the operator commands
// (queue list/show/retry/drop). The dispatcher's commit path is in transitions.cpp.
#include <cctype>
#include <cstdint>

#include "agent/outbox/outbox.hpp"
#include "agent/outbox/statement.hpp"
#include "files.hpp"
#include "statement_cache.hpp"

namespace agent {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

hal::Result<int> run_changes(sqlite3* db, const char* sql, const std::string& text, std::int64_t number,
                             std::string_view action) {
  auto s = SqlStatement::prepare(db, sql);
  if (!s.ok()) {
    return std::move(s).error();
  }
  s->bind(1, text).bind(2, number);
  auto st = s->run(action);
  if (!st.ok()) {
    return std::move(st).error();
  }
  return sqlite3_changes(db);
}

}  // namespace

hal::Status Outbox::set_meta(const char* key, const std::string& value) {
  auto s = cached_->get(db_.get(), "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
  if (!s.ok()) {
    return std::move(s).error();
  }
  (*s)->bind(1, std::string_view(key)).bind(2, value);
  return (*s)->run("write meta");
}

// Called before rows are deleted: when the newest intent is among them (`doomed`, an SQL
// condition on it with ?1 = `arg`), its seq becomes the floor for the next one (kNextSeq in
// outbox.cpp), so deleting the newest intents never lets a seq be reused. Never written on
// the accept path, and only when the newest row really goes.
hal::Status Outbox::keep_seq_floor(const char* doomed, std::int64_t arg) {
  std::string sql = std::string(
                        "INSERT OR REPLACE INTO meta (key, value) SELECT 'seq_floor', seq FROM intents"
                        " WHERE seq = (SELECT MAX(seq) FROM intents) AND"
                        " seq > IFNULL((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0)"
                        " AND (") +
                    doomed + ")";
  auto s = SqlStatement::prepare(db_.get(), sql.c_str());
  if (!s.ok()) {
    return std::move(s).error();
  }
  if (sql.find("?1") != std::string::npos) {
    s->bind(1, arg);
  }
  return s->run("keep seq floor");
}

hal::Result<IntentRecord> Outbox::find(const std::string& id) {
  // An all-digit id is a seq number first; a UUID prefix can be all digits too (about one in
  // sixteen 6-character prefixes is), so when no seq matches, a 4+ character id falls back to
  // the UUID prefix. A digit string too long for int64 is never a seq (no std::stoll: it throws).
  std::int64_t seq = 0;
  bool as_seq = all_digits(id) && id.size() <= 18;
  for (char c : as_seq ? id : std::string()) {
    seq = seq * 10 + (c - '0');
  }
  if (as_seq) {
    auto rows = query("WHERE seq = ?2", {}, seq);
    if (!rows.ok()) {
      return std::move(rows).error().context("outbox: find");
    }
    if (!rows->empty()) {
      return std::move(rows->front());
    }
  }
  if (id.size() < 4) {
    if (as_seq) {
      return hal::Error(hal::Errc::not_found, "outbox: no intent '" + id + "'");
    }
    return hal::Error(hal::Errc::parse,
                      "outbox: find: '" + id + "' is too short (a seq number or 4+ UUID characters)");
  }
  auto rows =
      query("WHERE substr(uuid, 1, length(?1)) = ?1 OR substr(uuid, -length(?1)) = ?1 LIMIT 2", id, 0);
  if (!rows.ok()) {
    return std::move(rows).error().context("outbox: find");
  }
  if (rows->empty()) {
    return hal::Error(hal::Errc::not_found, "outbox: no intent '" + id + "'");
  }
  if (rows->size() > 1) {
    return hal::Error(hal::Errc::parse,
                      "outbox: '" + id + "' matches several intents; give more of the UUID");
  }
  return std::move(rows->front());
}

hal::Result<std::vector<IntentRecord>> Outbox::list(const ListFilter& filter) {
  std::string where;
  for (IntentState s : filter.states) {
    where += where.empty() ? "WHERE state IN (" : ", ";
    where += std::to_string(static_cast<int>(s));
  }
  if (!where.empty()) {
    where += ")";
  }
  where += " ORDER BY seq LIMIT ?2";
  auto r = query(where.c_str(), {}, static_cast<std::int64_t>(filter.limit));
  if (!r.ok()) {
    return std::move(r).error().context("outbox: list");
  }
  return r;
}

hal::Result<int> Outbox::retry(const std::string& id) {
  auto rec = find(id);
  if (!rec.ok()) {
    return std::move(rec).error();
  }
  if (rec->state != IntentState::dead) {
    return hal::Error(hal::Errc::rejected, "outbox: retry: intent #" + std::to_string(rec->seq) + " is " +
                                               to_string(rec->state) + ", not dead");
  }
  auto n = run_changes(db_.get(),
                       "UPDATE intents SET state = 0, attempts = 0, next_attempt_ms = 0,"
                       " last_error = '', finished_ms = 0, failed_dep = ''"
                       " WHERE seq = ?2 OR (state != 0 AND state = 3 AND failed_dep = ?1)",
                       rec->uuid, rec->seq, "revive");
  if (!n.ok()) {
    return std::move(n).error().context("outbox: retry");
  }
  ++generation_;
  pending_floor_ = 0;  // revived intents lie below it
  return n;
}

hal::Status Outbox::drop(const std::string& id) {
  auto rec = find(id);
  if (!rec.ok()) {
    return std::move(rec).error();
  }
  if (rec->state != IntentState::dead) {
    return hal::Error(hal::Errc::rejected, "outbox: drop: intent #" + std::to_string(rec->seq) + " is " +
                                               to_string(rec->state) + "; only dead letters can be dropped");
  }
  ION_TRY(keep_seq_floor("state = 3", 0), "outbox: drop");
  auto n = run_changes(db_.get(), "DELETE FROM intents WHERE seq = ?2 AND state = 3", {}, rec->seq, "delete");
  if (!n.ok()) {
    return std::move(n).error().context("outbox: drop");
  }
  outbox_files::remove(files_dir_, rec->uuid);  // a dropped file.attach's copy goes with it
  return {};
}

hal::Result<QueueStats> Outbox::stats() {
  QueueStats st;
  st.max_bytes = limits_.max_bytes;
  auto s = SqlStatement::prepare(db_.get(),
                                 "SELECT state, COUNT(*), MIN(accepted_ms) FROM intents GROUP BY state"
                                 " UNION ALL SELECT -1, 0, value FROM meta WHERE key = 'last_delivery_ms'"
                                 " UNION ALL SELECT -2, 0, value FROM meta WHERE key = 'last_error_ms'"
                                 " UNION ALL SELECT -3, 0, value FROM meta WHERE key = 'last_error'"
                                 " UNION ALL SELECT -4, 0, value FROM meta WHERE key = 'max_bytes'");
  if (!s.ok()) {
    return std::move(s).error().context("outbox: stats");
  }
  for (;;) {
    auto row = s->step("read stats");
    if (!row.ok()) {
      return std::move(row).error().context("outbox: stats");
    }
    if (!*row) {
      break;
    }
    const auto key = s->int_at(0);
    const auto count = static_cast<std::uint64_t>(s->int_at(1));
    switch (key) {
      case 0:
      case 1:
        (key == 0 ? st.pending : st.in_flight) = count;
        if (!st.oldest_pending_ms || s->int_at(2) < *st.oldest_pending_ms) {
          st.oldest_pending_ms = s->int_at(2);
        }
        break;
      case 2:
        st.done = count;
        break;
      case 3:
        st.dead = count;
        break;
      case -1:
        st.last_delivery_ms = s->int_at(2);
        break;
      case -2:
        st.last_error_ms = s->int_at(2);
        break;
      case -3:
        st.last_error = s->text_at(2);
        break;
      case -4:
        st.max_bytes = static_cast<std::uint64_t>(s->int_at(2));
        break;
      default:
        break;
    }
  }
  auto used = used_bytes();
  if (used.ok()) {
    st.used_bytes = *used;
  }
  return st;
}

hal::Result<int> Outbox::correct_unsynced_times(const std::string& boot_id, std::int64_t boot_wall_ms) {
  auto n = run_changes(db_.get(),
                       "UPDATE intents SET wall_ms = ?2 + since_boot_ns / 1000000, wall_synced = 1"
                       " WHERE boot_id = ?1 AND wall_synced = 0",
                       boot_id, boot_wall_ms, "correct times");
  if (!n.ok()) {
    return std::move(n).error().context("outbox");
  }
  return n;
}

hal::Result<int> Outbox::prune_before(std::int64_t finished_before_ms) {
  auto tx = SqlTransaction::begin(db_.get());
  if (!tx.ok()) {
    return std::move(tx).error().context("outbox: prune");
  }
  ION_TRY(keep_seq_floor("state = 2 AND finished_ms < ?1", finished_before_ms), "outbox: prune");
  auto n = run_changes(db_.get(), "DELETE FROM intents WHERE state != 0 AND state = 2 AND finished_ms < ?2",
                       {}, finished_before_ms, "prune");
  if (!n.ok()) {
    return std::move(n).error().context("outbox");
  }
  ION_TRY(tx->commit(), "outbox: prune");
  return n;
}

hal::Result<int> Outbox::prune() {
  return prune_before(now_ms() -
                      std::chrono::duration_cast<std::chrono::milliseconds>(limits_.done_retention).count());
}

bool Outbox::changed_externally() {
  const std::int64_t v = data_version();
  if (v < 0) {
    return true;
  }
  bool changed = v != data_version_;
  data_version_ = v;
  return changed;
}

}  // namespace agent
