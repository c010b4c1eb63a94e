// SPDX-License-Identifier: Apache-2.0
// Outbox: the dispatcher's commit path. State transitions decided for a batch of deliveries
// are applied in one transaction (one fsync), and an operation's checkpoint is made durable
// before it mutates ION.
#include "agent/outbox/outbox.hpp"
#include "agent/outbox/statement.hpp"
#include "files.hpp"
#include "statement_cache.hpp"

namespace agent {

// The seq of the intent named `uuid`: `known` when the caller has it (the dispatcher always
// does), else a scan of the table (v5 has no uuid index; only tests name intents by uuid alone).
hal::Result<std::int64_t> Outbox::seq_of(const std::string& uuid, std::int64_t known) {
  if (known != 0) {
    return known;
  }
  auto s = cached_->get(db_.get(), "SELECT seq FROM intents WHERE uuid = ?1");
  if (!s.ok()) {
    return std::move(s).error();
  }
  (*s)->bind(1, uuid);
  return (*s)->first_int("find intent by uuid", 0);  // 0: no such intent, nothing changes
}

hal::Status Outbox::apply(const Transition& t, std::int64_t now) {
  auto seq = seq_of(t.uuid, t.seq);
  if (!seq.ok()) {
    return std::move(seq).error().context("commit");
  }
  // By seq (the table's own key), with the uuid as a check that it is the same intent.
  const char* sql = nullptr;
  switch (t.to) {
    case Transition::To::in_flight:
      sql = "UPDATE intents SET state = 1 WHERE seq = ?5 AND uuid = ?1 AND state = 0";
      break;
    case Transition::To::done:
      sql = "UPDATE intents SET state = 2, finished_ms = ?2, last_error = '' WHERE seq = ?5 AND uuid = ?1";
      break;
    case Transition::To::retry:
      sql =
          "UPDATE intents SET state = 0, attempts = attempts + 1, next_attempt_ms = ?3,"
          " last_error = ?4 WHERE seq = ?5 AND uuid = ?1";
      break;
    case Transition::To::dead:
      sql =
          "UPDATE intents SET state = 3, attempts = attempts + 1, finished_ms = ?2,"
          " last_error = ?4 WHERE seq = ?5 AND uuid = ?1";
      break;
  }
  auto s = cached_->get(db_.get(), sql);
  if (!s.ok()) {
    return std::move(s).error();
  }
  // Unused parameter numbers are ignored by SQLite (SQLITE_RANGE), so bind them all.
  (*s)->bind(1, t.uuid).bind(2, now).bind(3, t.next_attempt_ms).bind(4, t.error).bind(5, *seq);
  ION_TRY((*s)->run("update intent"), "commit");
  if (t.to == Transition::To::done || t.to == Transition::To::in_flight) {
    return {};  // (commit() records the batch's delivery time once)
  }
  ION_TRY(set_meta("last_error", t.error), "commit");
  ION_TRY(set_meta("last_error_ms", std::to_string(now)), "commit");
  if (t.to != Transition::To::dead) {
    return {};
  }
  // Later intents about the same subject assumed this one happened: they die with it. They
  // are pending, so above this one's seq: a range scan from there.
  auto dep = SqlStatement::prepare(db_.get(),
                                   "UPDATE intents SET state = 3, finished_ms = ?2, failed_dep = ?1,"
                                   " last_error = 'dependency failed: ' || ?1 || ': ' || ?4"
                                   " WHERE seq > ?5 AND state = 0 AND subject != '' AND"
                                   " subject = (SELECT subject FROM intents WHERE seq = ?5)");
  if (!dep.ok()) {
    return std::move(dep).error();
  }
  dep->bind(1, t.uuid).bind(2, now).bind(4, t.error).bind(5, *seq);
  return dep->run("fail dependants");
}

hal::Status Outbox::commit(const std::vector<Transition>& batch) {
  if (batch.empty()) {
    return {};
  }
  auto tx = SqlTransaction::begin(db_.get());
  if (!tx.ok()) {
    return std::move(tx).error().context("outbox: commit");
  }
  const std::int64_t now = now_ms();
  bool delivered = false;
  for (const auto& t : batch) {
    ION_TRY(apply(t, now), "outbox");
    delivered = delivered || t.to == Transition::To::done;
  }
  if (delivered) {
    ION_TRY(set_meta("last_delivery_ms", std::to_string(now)), "outbox: commit");
  }
  ION_TRY(tx->commit(), "outbox: commit");
  // ION holds what a delivered intent carried: its file copy (file.attach) goes.
  for (const auto& t : batch) {
    if (t.to == Transition::To::done) {
      outbox_files::remove(files_dir_, t.uuid);
    }
  }
  return {};
}

hal::Status Outbox::save_progress(const std::string& uuid, std::int64_t known_seq,
                                  const std::string& progress_json) {
  auto seq = seq_of(uuid, known_seq);
  if (!seq.ok()) {
    return std::move(seq).error().context("outbox: save progress");
  }
  auto s = cached_->get(db_.get(), "UPDATE intents SET progress = ?2 WHERE seq = ?3 AND uuid = ?1");
  if (!s.ok()) {
    return std::move(s).error().context("outbox: save progress");
  }
  (*s)->bind(1, uuid).bind(2, progress_json).bind(3, *seq);
  ION_TRY((*s)->run("save progress"), "outbox");
  return {};
}

}  // namespace agent
