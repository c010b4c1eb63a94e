// SPDX-License-Identifier: Apache-2.0
// Outbox: the durable queue of intents between the station workflow and ION (agent/README.md
// rules 1 and 4). One SQLite file in the state directory, WAL mode, synchronous=FULL.
//
// Contract:
//  - append() returns a UUID only after the intent's transaction has committed (fsynced): that
//    is the moment the station may show green. Nothing is held only in memory.
//  - File copies: a file.attach intent's `source` file is copied into <dir>/files/<uuid> in
//    the append, durably (file and directory fsync'd) before the transaction commits; its
//    inputs gain `copy` (that path), `sha256` and `size`. The copy goes once the intent is
//    delivered or dropped. A source that is gone gives Errc::not_found, one that cannot be
//    read Errc::rejected; nothing of the event is kept then.
//  - Size bound: the database's pages plus the file copies may use at most
//    OutboxLimits::max_bytes. When an append
//    would pass it, delivered (done) intents are pruned first; if that is not enough the new
//    intent is refused with Errc::busy ("queue full ..."). Accepted intents are never evicted.
//  - Disk errors (disk full, I/O) come back as Errc::storage; nothing half-written remains and
//    the next append works again once space returns.
//  - Order: `seq` (acceptance order) is strictly increasing and never reused.
//  - States: pending -> in_flight -> done | pending (retry later) | dead (dead letter). in_flight
//    rows found at open() were interrupted by a crash and go back to pending (delivery is
//    at-least-once on the wire; the ION operations make it exactly-once in effect).
//  - When an intent dies, every intent with the same non-empty subject that was accepted after
//    it and is still pending dies with it ("dependency failed: <uuid>: <reason>"); retry() of
//    the dead intent revives those dependants too.
//
// Several processes may open the same file (the daemon and `ion-agent queue/status`): SQLite
// locking serialises writers and a busy timeout absorbs short waits. One Outbox object is used
// by one thread. Times are wall-clock milliseconds since the epoch unless a name says otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/intent/intent.hpp"
#include "agent/outbox/sqlite.hpp"
#include "hal/clock.hpp"
#include "hal/result.hpp"

namespace agent {

// The outbox lives in the state directory as this file (plus SQLite's -wal and -shm).
inline constexpr const char* kOutboxFileName = "outbox.db";
inline std::string outbox_path(const std::string& state_dir) {
  return state_dir + "/" + kOutboxFileName;
}

struct OutboxLimits {
  std::uint64_t max_bytes = 64ull << 20;         // pages in use by the database file
  std::chrono::hours done_retention{72};         // delivered intents kept for `queue list`
  std::chrono::milliseconds busy_timeout{5000};  // wait for another process's lock
};

// A state change decided by the dispatcher, applied with others in one transaction.
struct Transition {
  enum class To { in_flight, done, retry, dead };
  std::string uuid;
  To to = To::done;
  std::int64_t next_attempt_ms = 0;  // retry only
  std::string error;                 // retry and dead
  std::int64_t seq = 0;              // the intent's seq; 0 = find it by uuid (a table scan)
};

struct QueueStats {
  std::uint64_t pending = 0;  // waiting, including ones backing off
  std::uint64_t in_flight = 0;
  std::uint64_t dead = 0;
  std::uint64_t done = 0;                         // still retained
  std::optional<std::int64_t> oldest_pending_ms;  // accepted_ms of the oldest undelivered
  std::int64_t last_delivery_ms = 0;              // 0 = never
  std::string last_error;                         // most recent failure of any intent
  std::int64_t last_error_ms = 0;
  std::uint64_t used_bytes = 0;
  std::uint64_t max_bytes = 0;
};

struct ListFilter {
  std::vector<IntentState> states;  // empty = every state
  std::size_t limit = 100;
};

class Outbox {
 public:
  // read_write: the owner (the daemon, holding the state directory's lock, or a command
  //   while no daemon runs): integrity check, migration, crash recovery of in-flight intents.
  // shared_write: a command that changes a few rows while the owner runs (`queue retry|drop`
  //   with the daemon up): none of the owner's start-up steps, the schema must be current.
  // read_only: readers (`status`, `queue list`).
  enum class Mode { read_write, read_only, shared_write };

  // Opens (creating it if needed, read_write only) and migrates the store. The parent
  // directory must exist. The busy timeout is set before the first statement, so another
  // process reading the file for a moment is waited for, never mistaken for damage.
  // Errors say what kind of trouble it is, so a caller can tell what a restart can fix:
  //   Errc::parse    the file is damaged (quick_check failed, not a database): it is left
  //                  untouched, never replaced; a restart cannot help.
  //   Errc::rejected its schema is newer than this program (a downgrade): untouched.
  //   Errc::busy     another process held it past the busy timeout: try again.
  //   Errc::storage  I/O, disk full, permissions: try again once fixed.
  static hal::Result<std::unique_ptr<Outbox>> open(const std::string& path, OutboxLimits limits,
                                                   const hal::Clock& clock, Mode mode = Mode::read_write);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Validates the intent (known kind, inputs a JSON object with the kind's keys), commits it
  // and returns its UUID. Errc::parse = bad intent, Errc::busy = queue full, Errc::storage =
  // disk problem.
  hal::Result<std::string> append(const NewIntent& intent);
  // Several intents (one station event's) in one transaction: all are accepted or none.
  hal::Result<std::vector<std::string>> append_all(const std::vector<NewIntent>& intents);

  // The station context (a JSON object of string values) that one event's intents leave
  // behind, committed in the same transaction as them (none is fine): after a power cut the
  // green the operator saw and the restored context agree. outbox/context.cpp.
  hal::Result<std::vector<std::string>> append_with_context(const std::vector<NewIntent>& intents,
                                                            const std::string& context_json);
  struct SavedContext {
    std::string json;           // as given to append_with_context
    std::int64_t saved_ms = 0;  // wall time of that commit
  };
  // The last context committed; nullopt when none ever was.
  hal::Result<std::optional<SavedContext>> saved_context();

  // Pending intents in acceptance order (due or not), at most `limit`.
  hal::Result<std::vector<IntentRecord>> pending(std::size_t limit);
  // The first pending intent of each subject (and every pending subject-less one), by seq.
  hal::Result<std::vector<IntentRecord>> pending_heads(std::size_t limit);
  // Applies the dispatcher's decisions atomically (one fsync for the whole batch).
  hal::Status commit(const std::vector<Transition>& batch);
  // Durably stores an operation's checkpoint before it mutates ION. `seq` as in Transition.
  hal::Status save_progress(const std::string& uuid, std::int64_t seq, const std::string& progress_json);

  // For the CLI. `id` is a seq number, or at least 4 characters from the start or the end of
  // one UUID. (UUIDs are version 7: their start is the acceptance time, shared by the
  // intents of one event; their end is random, so a short suffix is what tells them apart.)
  hal::Result<IntentRecord> find(const std::string& id);
  hal::Result<std::vector<IntentRecord>> list(const ListFilter& filter);
  // Dead -> pending (attempts reset), with the dependants that died because of it. Returns how
  // many intents were revived.
  hal::Result<int> retry(const std::string& id);
  // Deletes a dead intent for good (only dead ones: pending intents are never dropped).
  hal::Status drop(const std::string& id);

  hal::Result<QueueStats> stats();

  // agent/README.md rule 8: once the clock is synchronised, the wall time of every unsynchronised
  // event recorded during boot `boot_id` becomes boot_wall_ms + since_boot, where boot_wall_ms
  // is the true wall time at which that boot started. Returns how many were corrected.
  hal::Result<int> correct_unsynced_times(const std::string& boot_id, std::int64_t boot_wall_ms);

  // Deletes done intents finished before now - retention. Returns how many.
  hal::Result<int> prune();

  // True when another connection committed since the last call (cheap; for rescans).
  bool changed_externally();
  // Bumped by every append() through this object (the dispatcher rescans when it moves).
  std::uint64_t generation() const { return generation_; }

  const std::string& path() const { return path_; }
  static constexpr int kSchemaVersion = 5;

 private:
  Outbox(std::string path, OutboxLimits limits, const hal::Clock& clock, SqliteDbHandle db);
  hal::Status configure(Mode mode);
  hal::Status check_integrity();
  hal::Result<int> schema_version();  // PRAGMA user_version
  hal::Status check_shared_version();
  hal::Status migrate();
  hal::Status migrate_to(int target);
  hal::Result<std::uint64_t> used_bytes();
  // Prunes delivered intents until `need` more bytes fit; `uncounted` intents already written
  // in the open transaction are left out of the "undelivered" count of the queue-full error.
  hal::Status make_room(std::size_t need, std::size_t uncounted = 0);
  hal::Status keep_seq_floor(const char* doomed, std::int64_t arg);
  hal::Result<int> prune_before(std::int64_t finished_before_ms);
  hal::Status apply(const Transition& t, std::int64_t now);
  hal::Status set_meta(const char* key, const std::string& value);
  hal::Result<std::vector<std::string>> append_impl(const std::vector<NewIntent>& intents,
                                                    const std::string* context_json);
  hal::Status write_context(const std::string& context_json);
  hal::Result<std::vector<IntentRecord>> query(const char* sql, const std::string& text_arg,
                                               std::int64_t int_arg, std::int64_t int_arg2 = 0);
  std::int64_t data_version();
  hal::Status raise_pending_floor();
  hal::Result<std::int64_t> seq_of(const std::string& uuid, std::int64_t known);
  std::int64_t now_ms() const;

  hal::Status copy_files(std::vector<NewIntent>& intents, const std::vector<std::string>& uuids,
                         std::vector<std::string>& copied, std::size_t need);
  hal::Status remove_orphan_files();

  std::string path_;
  std::string files_dir_;  // file.attach copies (agent/outbox/files.hpp)
  OutboxLimits limits_;
  const hal::Clock& clock_;
  SqliteDbHandle db_;
  struct Statements;                    // statement_cache.hpp
  std::unique_ptr<Statements> cached_;  // after db_: finalized before it closes
  std::int64_t data_version_ = -1;
  std::int64_t pending_floor_ = 0;   // no undelivered intent below it (raise_pending_floor)
  std::int64_t floor_version_ = -1;  // data_version when pending_floor_ was found
  std::uint64_t generation_ = 0;
};

}  // namespace agent
