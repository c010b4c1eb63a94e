// SPDX-License-Identifier: Apache-2.0
#include "agent/outbox/outbox.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <unordered_set>

#include "agent/common/json.hpp"
#include "agent/crypto/crypto.hpp"
#include "agent/intent/kinds.hpp"
#include "agent/outbox/statement.hpp"
#include "files.hpp"
#include "hal/log.hpp"
#include "statement_cache.hpp"

namespace agent {
namespace {

constexpr std::size_t kMaxInputsBytes = 64 * 1024;
constexpr std::size_t kRowOverhead = 256;  // rough per-row bytes beyond the text columns

// Schema history. Entry i moves the database from user_version i to i+1. Never edit an entry
// once released: add a new one (tests/data/outbox_v1.db pins version 1).
const char* const kMigrations[] = {
    // v1: the queue itself.
    "CREATE TABLE intents ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"  // AUTOINCREMENT: never reuse a seq after prune
    " uuid TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " inputs TEXT NOT NULL,"
    " subject TEXT NOT NULL DEFAULT '',"
    " wall_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " accepted_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX intents_by_state ON intents(state, seq);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // v2: event time for clock correction (agent/README.md rule 8), operation checkpoints and
    // dependency tracking for dead letters.
    "ALTER TABLE intents ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE intents ADD COLUMN since_boot_ns INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE intents ADD COLUMN wall_synced INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE intents ADD COLUMN progress TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE intents ADD COLUMN failed_dep TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX intents_by_subject ON intents(subject, state, seq);",
    // v3: fewer pages written per accepted event (each modified page is one WAL frame, then
    // one more page write at checkpoint). AUTOINCREMENT rewrote sqlite_sequence on every
    // commit: seqs stay never-reused through meta.seq_floor instead, which is written only when
    // rows are deleted (see kNextSeq). The subject index no longer carries state (state
    // changes left it untouched) and skips subject-less intents. Rows, seqs and order are
    // copied as they are; the old high-water mark becomes the floor.
    "CREATE TABLE intents_v3 ("
    " seq INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " inputs TEXT NOT NULL,"
    " subject TEXT NOT NULL DEFAULT '',"
    " wall_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " accepted_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL DEFAULT 0,"
    " boot_id TEXT NOT NULL DEFAULT '',"
    " since_boot_ns INTEGER NOT NULL DEFAULT 0,"
    " wall_synced INTEGER NOT NULL DEFAULT 1,"
    " progress TEXT NOT NULL DEFAULT '',"
    " failed_dep TEXT NOT NULL DEFAULT '');"
    "INSERT INTO intents_v3 SELECT seq, uuid, kind, inputs, subject, wall_ms, state, attempts,"
    " next_attempt_ms, last_error, accepted_ms, finished_ms, boot_id, since_boot_ns, wall_synced,"
    " progress, failed_dep FROM intents ORDER BY seq;"
    "INSERT OR REPLACE INTO meta (key, value)"
    " SELECT 'seq_floor', seq FROM sqlite_sequence WHERE name = 'intents';"
    "DROP TABLE intents;"
    "ALTER TABLE intents_v3 RENAME TO intents;"
    "CREATE INDEX intents_by_state ON intents(state, seq);"
    "CREATE INDEX intents_by_subject ON intents(subject, seq) WHERE subject != '';",
    // v4: meta without a rowid. Its text primary key made it two b-trees (the rows and their
    // key index), so every commit that wrote meta (the station context saved with each
    // accepted event, the last error of each retry) appended two pages to the WAL; now one.
    "CREATE TABLE meta_v4 (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta_v4 (key, value) SELECT key, value FROM meta;"
    "DROP TABLE meta;"
    "ALTER TABLE meta_v4 RENAME TO meta;",
    // v5: accepting an event writes the table's last pages and nothing else (issue 17: bytes
    // written per accepted event). Three indexes took a page each per commit, and more on
    // their splits: 12.6 WAL frames per 3-intent event, of which 7.2 were index pages.
    // - The uuid index (UNIQUE) goes: the dispatcher names an intent by seq (Transition::seq),
    //   and a uuid is looked up by scanning only on the CLI's paths (`queue retry|drop ID`).
    //   Version 7 UUIDs are unique by their 74 random bits per millisecond.
    // - The subject index goes: the intents a head-of-line or dependency question is about
    //   are the undelivered ones, which lie above a floor the outbox keeps in memory
    //   (pending_floor_); a range scan of the table from there answers it.
    // - The state index holds only intents past pending (in flight, delivered, dead): those
    //   are the ones looked up by state (crash recovery, pruning, dead letters). Queries that
    //   use it say `state != 0` in so many words, which is how SQLite matches a partial index.
    // Rows, seqs, UUIDs and order are copied as they are.
    "CREATE TABLE intents_v5 ("
    " seq INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " inputs TEXT NOT NULL,"
    " subject TEXT NOT NULL DEFAULT '',"
    " wall_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT NOT NULL DEFAULT '',"
    " accepted_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL DEFAULT 0,"
    " boot_id TEXT NOT NULL DEFAULT '',"
    " since_boot_ns INTEGER NOT NULL DEFAULT 0,"
    " wall_synced INTEGER NOT NULL DEFAULT 1,"
    " progress TEXT NOT NULL DEFAULT '',"
    " failed_dep TEXT NOT NULL DEFAULT '');"
    "INSERT INTO intents_v5 SELECT seq, uuid, kind, inputs, subject, wall_ms, state, attempts,"
    " next_attempt_ms, last_error, accepted_ms, finished_ms, boot_id, since_boot_ns, wall_synced,"
    " progress, failed_dep FROM intents ORDER BY seq;"
    "DROP TABLE intents;"
    "ALTER TABLE intents_v5 RENAME TO intents;"
    "CREATE INDEX intents_past_pending ON intents(state, seq) WHERE state != 0;",
};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == Outbox::kSchemaVersion,
              "one migration per schema version");

// Every query here works on layouts from this version on (v3 changed only indexes and how
// seqs are kept, v4 only how meta is stored, v5 only indexes). v3's table copy needs free space about twice
// the queue's size: on a full state partition the file stays at v2 and drains as it is, and the next open
// tries again, rather than a full disk keeping the daemon from starting.
constexpr int kMinWorkingVersion = 2;

// The next seq: above every row present and above every seq ever handed out (meta.seq_floor
// is raised before rows are deleted), so a seq is never reused even after the queue empties,
// and acceptance order holds across restarts.
constexpr const char* kNextSeq =
    "(SELECT MAX(IFNULL((SELECT MAX(seq) FROM intents), 0),"
    " IFNULL((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0)) + 1)";

constexpr const char* kColumns =
    "seq, uuid, kind, inputs, subject, wall_ms, boot_id, since_boot_ns, wall_synced, state,"
    " attempts, next_attempt_ms, last_error, progress, failed_dep, accepted_ms, finished_ms";

IntentRecord read_record(const SqlStatement& s) {
  IntentRecord r;
  r.seq = s.int_at(0);
  r.uuid = s.text_at(1);
  r.kind = s.text_at(2);
  r.inputs_json = s.text_at(3);
  r.subject = s.text_at(4);
  r.at.wall_ms = s.int_at(5);
  r.at.boot_id = s.text_at(6);
  r.at.since_boot_ns = s.int_at(7);
  r.at.wall_synced = s.int_at(8) != 0;
  r.state = static_cast<IntentState>(s.int_at(9));
  r.attempts = static_cast<int>(s.int_at(10));
  r.next_attempt_ms = s.int_at(11);
  r.last_error = s.text_at(12);
  r.progress = s.text_at(13);
  r.failed_dep = s.text_at(14);
  r.accepted_ms = s.int_at(15);
  r.finished_ms = s.int_at(16);
  return r;
}

// A version 7 UUID (RFC 9562): 48 bits of wall-clock milliseconds, then 74 random bits. Time
// first keeps the unique uuid index append-only: one event's intents land in the index's last
// page instead of one random page each (each a WAL frame and a checkpoint write). A wrong
// or stepping clock only costs that locality; uniqueness comes from the random bits.
hal::Result<std::string> make_uuid(std::int64_t wall_ms) {
  // Straight from the kernel's CSPRNG: seeding a DRBG per id (crypto::random_bytes) cost more
  // than the rest of an append. UUIDs need uniqueness, not key-grade secrecy.
  unsigned char b[16];
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    return hal::errno_error(hal::Errc::internal, "getrandom", errno);
  }
  const auto ms = static_cast<std::uint64_t>(wall_ms < 0 ? 0 : wall_ms);
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);  // version 7
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(out);
}

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// A new database file is only durable once its directory entry is: fsync the directory.
void sync_parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Outbox::Outbox(std::string path, OutboxLimits limits, const hal::Clock& clock, SqliteDbHandle db)
    : path_(std::move(path)),
      files_dir_(outbox_files::files_dir(path_)),
      limits_(limits),
      clock_(clock),
      db_(std::move(db)),
      cached_(std::make_unique<Statements>()) {}

Outbox::~Outbox() = default;  // (Statements is complete here)

hal::Result<std::unique_ptr<Outbox>> Outbox::open(const std::string& path, OutboxLimits limits,
                                                  const hal::Clock& clock, Mode mode) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  int flags = SQLITE_OPEN_NOMUTEX |
              (mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDbHandle db(raw);
  if (rc != SQLITE_OK) {
    return sql_error(raw, rc, "outbox: open " + path);
  }
  // Before the first statement: a reader that holds the file for a moment (`ion-agent status`
  // or a cron job right after a crash, while the WAL is recovered) is waited for.
  sqlite3_busy_timeout(raw, static_cast<int>(limits.busy_timeout.count()));
  std::unique_ptr<Outbox> box(new Outbox(path, limits, clock, std::move(db)));
  if (existed && mode == Mode::read_write) {
    ION_TRY(box->check_integrity(), "outbox: open " + path);
  }
  ION_TRY(box->configure(mode), "outbox: open " + path);
  if (mode == Mode::shared_write) {
    ION_TRY(box->check_shared_version(), "outbox: open " + path);
    return box;
  }
  if (mode == Mode::read_write) {
    ION_TRY(box->migrate(), "outbox: open " + path);
    // Intents left in flight by a crash were maybe sent, maybe not: send them again (the
    // operations are idempotent at ION).
    ION_TRY(sql_exec(box->db_.get(), "UPDATE intents SET state = 0 WHERE state != 0 AND state = 1",
                     "recover in-flight intents"),
            "outbox: open " + path);
    // Readers in other processes (`ion-agent status`) report the configured bound. Best
    // effort: a full disk must not stop the daemon from opening (and draining) its queue.
    (void)box->set_meta("max_bytes", std::to_string(limits.max_bytes));
    ION_TRY(box->remove_orphan_files(), "outbox: open " + path);
    if (!existed) {
      sync_parent_dir(path);
    }
  } else {
    auto have = box->schema_version();
    if (!have.ok()) {
      return std::move(have).error().context("outbox: open " + path);
    }
    if (*have < kMinWorkingVersion || *have > kSchemaVersion) {
      return hal::Error(hal::Errc::storage, "outbox: open " + path + ": schema is not at version " +
                                                std::to_string(kSchemaVersion) +
                                                " (start the daemon once to migrate it)");
    }
  }
  return box;
}

// A damaged outbox holds accepted events that are not delivered yet: never start over it (the
// damage spreads with every write) and never replace it with an empty one (that silently loses
// them). Refuse, name the file, leave it untouched, and say how to go on. quick_check reads the
// whole file once (about a second for the 64 MiB bound on an SD card), only at start.
hal::Status Outbox::check_integrity() {
  std::string damage;
  // Only what SQLite calls damage is damage: a lock held past the busy timeout or an I/O
  // error is reported as what it is, and a restart may fix it.
  auto not_damage = [this](const hal::Error& e) -> std::optional<hal::Error> {
    const int primary = sqlite3_errcode(db_.get()) & 0xff;
    if (e.code == hal::Errc::busy) {
      return hal::Error(hal::Errc::busy, "integrity check: " + e.what + " (another process holds the file)");
    }
    if (primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB) {
      return hal::Error(e.code, "integrity check: " + e.what);
    }
    return std::nullopt;
  };
  auto q = SqlStatement::prepare(db_.get(), "PRAGMA quick_check(3)");
  if (!q.ok()) {
    if (auto other = not_damage(q.error())) {
      return std::move(*other);
    }
    damage = q.error().what;
  } else {
    for (;;) {
      auto row = q->step("quick_check");
      if (!row.ok()) {
        if (auto other = not_damage(row.error())) {
          return std::move(*other);
        }
        damage = row.error().what;
        break;
      }
      if (!*row) {
        break;
      }
      std::string line = q->text_at(0);
      if (line != "ok") {
        damage += (damage.empty() ? "" : "; ") + line;
      }
    }
  }
  if (damage.empty()) {
    return {};
  }
  return hal::Error(hal::Errc::parse,
                    "the database is corrupt (" + damage +
                        "); it was left untouched for inspection. Salvage it with `sqlite3 " + path_ +
                        " .recover`, or move it away to start with an empty outbox (its undelivered "
                        "events are then not sent)");
}

hal::Status Outbox::configure(Mode mode) {
  if (mode == Mode::read_only) {
    return sql_exec(db_.get(), "PRAGMA query_only = ON", "configure");
  }
  if (mode == Mode::shared_write) {
    return sql_exec(db_.get(), "PRAGMA synchronous = FULL", "configure");  // the owner set WAL
  }
  // WAL + synchronous=FULL: a commit returns only after the WAL is fsynced, which is the
  // promise append() makes. Bytes written per accepted event (the board's flash wear) are
  // what the page size and the checkpoint interval decide; outbox_bench measures them.
  // - Small pages: every commit appends each page it touched to the WAL as one frame (page
  //   plus 24 bytes): the table's last leaf and its parent, the last leaf of each index, page 1
  //   when the file grew. 512 bytes (SQLite's smallest) rather than 1024: -2.9 KiB per
  //   3-intent event without checkpoints (13.7 -> 10.8 KiB, tests/bench/footprint.sh notes).
  //   Only takes effect when the file is new; an existing file keeps its page size.
  // - Checkpoints copy each page once however often it changed since the last one, so a
  //   longer interval writes the hot pages (last leaves, and the subject index's pages) to
  //   the main file less often. The interval is a WAL of at most journal_size_limit (2 MiB):
  //   3900 frames of 512-byte pages (-1.8 KiB per event against 2000), 2000 of an older
  //   file's 1 KiB pages. The WAL never holds more than that on a small state partition.
  ION_TRY(sql_exec(db_.get(), "PRAGMA page_size = 512", "set page size"), "configure");
  auto jm = SqlStatement::prepare(db_.get(), "PRAGMA journal_mode = WAL");
  if (!jm.ok()) {
    return std::move(jm).error();
  }
  auto row = jm->step("set WAL mode");
  if (!row.ok()) {
    return std::move(row).error();
  }
  if (!*row || jm->text_at(0) != "wal") {
    return hal::Error(hal::Errc::storage, "configure: the file system does not support WAL mode");
  }
  auto ps = SqlStatement::prepare(db_.get(), "PRAGMA page_size");
  if (!ps.ok()) {
    return std::move(ps).error();
  }
  auto ps_row = ps->step("read page size");
  if (!ps_row.ok()) {
    return std::move(ps_row).error();
  }
  constexpr std::int64_t kWalLimit = 2 * 1024 * 1024;
  const std::int64_t page = *ps_row && ps->int_at(0) > 0 ? ps->int_at(0) : 1024;
  const std::int64_t frames = std::max<std::int64_t>(100, (kWalLimit - 32) / (page + 24));
  const std::string pragmas =
      "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = " + std::to_string(kWalLimit) +
      "; PRAGMA wal_autocheckpoint = " + std::to_string(frames) + "; PRAGMA foreign_keys = OFF;";
  return sql_exec(db_.get(), pragmas.c_str(), "configure");
}

hal::Result<int> Outbox::schema_version() {
  auto v = SqlStatement::prepare(db_.get(), "PRAGMA user_version");
  if (!v.ok()) {
    return std::move(v).error();
  }
  auto have = v->first_int("read schema version", 0);
  if (!have.ok()) {
    return std::move(have).error();
  }
  return static_cast<int>(*have);
}

hal::Status Outbox::check_shared_version() {
  auto have = schema_version();
  if (!have.ok()) {
    return std::move(have).error();
  }
  if (*have < kMinWorkingVersion || *have > kSchemaVersion) {
    return hal::Error(hal::Errc::rejected, "schema v" + std::to_string(*have) +
                                               " is not one this program can change while the daemon runs");
  }
  return {};
}

hal::Status Outbox::migrate() {
  ION_TRY(migrate_to(kMinWorkingVersion), "migrate");
  auto st = migrate_to(kSchemaVersion);
  if (!st.ok() && st.error().what.find("disk full") != std::string::npos) {
    // The steps ran in one transaction: the file is at the version it had before them.
    auto have = schema_version();
    hal::log::warning("outbox", st.error().what + "; staying at schema v" +
                                    std::to_string(have.ok() ? *have : kMinWorkingVersion) +
                                    " until the next start");
    return {};
  }
  return st;
}

// Migrates to `target` (at most kSchemaVersion) in one transaction: all steps or none.
hal::Status Outbox::migrate_to(int target) {
  auto tx = SqlTransaction::begin(db_.get());
  if (!tx.ok()) {
    return std::move(tx).error().context("migrate");
  }
  auto version = schema_version();  // (its statement is finalized: an open one would block DROP TABLE)
  if (!version.ok()) {
    return std::move(version).error();
  }
  const int have = *version;
  if (have > kSchemaVersion) {
    return hal::Error(hal::Errc::rejected, "migrate: database schema v" + std::to_string(have) +
                                               " is newer than this program understands (v" +
                                               std::to_string(kSchemaVersion) + "); refusing to touch it");
  }
  if (have >= target) {
    return {};  // the transaction rolls back: nothing was written
  }
  for (int i = have; i < target; ++i) {
    ION_TRY(sql_exec(db_.get(), kMigrations[i], "migrate to v" + std::to_string(i + 1)), "outbox");
  }
  std::string set = "PRAGMA user_version = " + std::to_string(target);
  ION_TRY(sql_exec(db_.get(), set.c_str(), "set schema version"), "migrate");
  return tx->commit();
}

std::int64_t Outbox::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall().time_since_epoch()).count();
}

hal::Result<std::uint64_t> Outbox::used_bytes() {
  auto s = SqlStatement::prepare(db_.get(),
                                 "SELECT (SELECT page_count FROM pragma_page_count()) -"
                                 " (SELECT freelist_count FROM pragma_freelist_count()),"
                                 " (SELECT page_size FROM pragma_page_size())");
  if (!s.ok()) {
    return std::move(s).error();
  }
  auto row = s->step("measure size");
  if (!row.ok()) {
    return std::move(row).error();
  }
  // The file copies of undelivered file.attach intents count toward the same bound.
  return static_cast<std::uint64_t>(s->int_at(0)) * static_cast<std::uint64_t>(s->int_at(1)) +
         outbox_files::bytes_in(files_dir_);
}

hal::Status Outbox::make_room(std::size_t need, std::size_t uncounted) {
  // Only delivered intents may go early; the oldest first, a chunk at a time. The statement is
  // prepared (and the seq floor kept) only once pruning is needed, not on every append.
  std::optional<SqlStatement> del;
  for (;;) {
    auto used = used_bytes();
    if (!used.ok()) {
      return std::move(used).error();
    }
    if (*used + need <= limits_.max_bytes) {
      return {};
    }
    if (!del) {
      ION_TRY(keep_seq_floor("state = 2", 0), "make room");
      auto s = SqlStatement::prepare(
          db_.get(),
          "DELETE FROM intents WHERE seq IN (SELECT seq FROM intents WHERE state != 0 AND state = 2"
          " ORDER BY finished_ms, seq LIMIT 256)");
      if (!s.ok()) {
        return std::move(s).error();
      }
      del.emplace(std::move(s).value());
    }
    ION_TRY(del->run("prune delivered intents"), "make room");
    if (sqlite3_changes(db_.get()) == 0) {
      auto st = stats();
      std::uint64_t undelivered = st.ok() ? st->pending + st->in_flight + st->dead : 0;
      undelivered -= std::min<std::uint64_t>(undelivered, uncounted);
      return hal::Error(hal::Errc::busy, "queue full: " + mib(*used) + " of " + mib(limits_.max_bytes) +
                                             " used by " + std::to_string(undelivered) +
                                             " undelivered intents (nothing was evicted)");
    }
  }
}

hal::Result<std::string> Outbox::append(const NewIntent& intent) {
  auto ids = append_all({intent});
  if (!ids.ok()) {
    return std::move(ids).error();
  }
  return std::move(ids->front());
}

// All of one event's intents in one transaction: the event is accepted whole or not at all
// (a crash or a full disk never leaves half of a scan's intents behind), and it costs one
// fsync instead of one per intent, which is what keeps a scan's accept time near one fsync.
hal::Result<std::vector<std::string>> Outbox::append_all(const std::vector<NewIntent>& intents) {
  return append_impl(intents, nullptr);
}

hal::Result<std::vector<std::string>> Outbox::append_impl(const std::vector<NewIntent>& given,
                                                          const std::string* context_json) {
  std::vector<NewIntent> intents = given;  // file.attach inputs gain their copy's facts
  std::size_t need = 0;
  for (const auto& intent : intents) {
    if (intent.inputs_json.size() > kMaxInputsBytes) {
      return hal::Error(hal::Errc::parse, "outbox: append: inputs are " +
                                              std::to_string(intent.inputs_json.size()) + " bytes (limit " +
                                              std::to_string(kMaxInputsBytes) + ")");
    }
    ION_TRY(validate_intent(intent.kind, intent.inputs_json), "outbox: append");
    need += kRowOverhead + intent.inputs_json.size() + intent.kind.size() + intent.subject.size() +
            intent.at.boot_id.size();
  }
  auto tx = SqlTransaction::begin(db_.get());
  if (!tx.ok()) {
    return std::move(tx).error().context("outbox: append");
  }
  std::vector<std::string> uuids;
  for (std::size_t i = 0; i < intents.size(); ++i) {
    auto uuid = make_uuid(now_ms());
    if (!uuid.ok()) {
      return std::move(uuid).error().context("outbox: append: make uuid");
    }
    uuids.push_back(std::move(uuid).value());
  }
  // Copies written for this append are removed unless it commits.
  std::vector<std::string> copied;
  struct RemoveUnlessCommitted {
    const std::string& dir;
    std::vector<std::string>& names;
    bool committed = false;
    ~RemoveUnlessCommitted() {
      for (const auto& n : names) {
        if (!committed) {
          outbox_files::remove(dir, n);
        }
      }
    }
  } guard{files_dir_, copied};
  ION_TRY(copy_files(intents, uuids, copied, need), "outbox: append");
  auto ins = SqlStatement::prepare(
      db_.get(), (std::string("INSERT INTO intents (seq, uuid, kind, inputs, subject, wall_ms, boot_id,"
                              " since_boot_ns, wall_synced, accepted_ms) VALUES (") +
                  kNextSeq + ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                     .c_str());
  if (!ins.ok()) {
    return std::move(ins).error().context("outbox: append");
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < intents.size(); ++i) {
    const NewIntent& intent = intents[i];
    const std::int64_t now = now_ms();
    const std::string& uuid = uuids[i];
    ins->reset();
    ins->bind(1, uuid)
        .bind(2, intent.kind)
        .bind(3, intent.inputs_json)
        .bind(4, intent.subject)
        .bind(5, intent.at.wall_ms)
        .bind(6, intent.at.boot_id)
        .bind(7, intent.at.since_boot_ns)
        .bind(8, std::int64_t{intent.at.wall_synced ? 1 : 0})
        .bind(9, now);
    ION_TRY(ins->run("insert"), "outbox: append");
    ids.push_back(uuid);
  }
  // The estimate above is only an estimate: an insert that splits pages of the table and its
  // indexes can take more pages than the rows' bytes, and how many depends on SQLite's
  // version. So measure again before committing; if the event went over the limit after all,
  // prune more delivered intents or refuse the event (the transaction rolls back whole).
  if (context_json != nullptr) {
    ION_TRY(write_context(*context_json), "outbox: append");
  }
  ION_TRY(make_room(0, intents.size()), "outbox: append");
  ION_TRY(tx->commit(), "outbox: append");
  guard.committed = true;
  if (!intents.empty()) {
    ++generation_;
  }
  return ids;
}

hal::Result<std::vector<IntentRecord>> Outbox::query(const char* where_sql, const std::string& text_arg,
                                                     std::int64_t int_arg, std::int64_t int_arg2) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM intents " + where_sql;
  auto s = SqlStatement::prepare(db_.get(), sql.c_str());
  if (!s.ok()) {
    return std::move(s).error();
  }
  if (sql.find("?1") != std::string::npos) {
    s->bind(1, text_arg);
  }
  if (sql.find("?2") != std::string::npos) {
    s->bind(2, int_arg);
  }
  if (sql.find("?3") != std::string::npos) {
    s->bind(3, int_arg2);
  }
  std::vector<IntentRecord> out;
  for (;;) {
    auto row = s->step("read intents");
    if (!row.ok()) {
      return std::move(row).error();
    }
    if (!*row) {
      break;
    }
    out.push_back(read_record(*s));
  }
  return out;
}

std::int64_t Outbox::data_version() {
  auto s = cached_->get(db_.get(), "PRAGMA data_version");
  if (!s.ok()) {
    return -1;
  }
  auto v = (*s)->first_int("data version", -1);
  return v.ok() ? *v : -1;
}

// pending_floor_: no intent below it is pending or in flight, so the questions about
// undelivered intents are range scans of the table from there (v5 has no index of pending
// intents). It starts at 0, moves up to the first undelivered intent each time the dispatcher
// asks, and starts over at 0 when another connection has committed (`queue retry` from the
// CLI revives intents below it) or this one revived some.
hal::Status Outbox::raise_pending_floor() {
  const std::int64_t version = data_version();
  if (version < 0 || version != floor_version_) {
    pending_floor_ = 0;
    floor_version_ = version;
  }
  auto s = cached_->get(db_.get(),
                        "SELECT IFNULL((SELECT seq FROM intents WHERE seq >= ?1 AND state IN (0, 1)"
                        " ORDER BY seq LIMIT 1), (SELECT IFNULL(MAX(seq), 0) + 1 FROM intents))");
  if (!s.ok()) {
    return std::move(s).error();
  }
  (*s)->bind(1, pending_floor_);
  auto first = (*s)->first_int("find the first undelivered intent", pending_floor_);
  if (!first.ok()) {
    return std::move(first).error();
  }
  pending_floor_ = std::max(pending_floor_, *first);
  return {};
}

hal::Result<std::vector<IntentRecord>> Outbox::pending(std::size_t limit) {
  ION_TRY(raise_pending_floor(), "outbox: pending");
  auto r = query("WHERE seq >= ?2 AND state = 0 ORDER BY seq LIMIT ?3", {}, pending_floor_,
                 static_cast<std::int64_t>(limit));
  if (!r.ok()) {
    return std::move(r).error().context("outbox: pending");
  }
  return r;
}

// A pending intent is a head when no earlier intent about its subject is still undelivered
// (pending or in flight): one pass over the undelivered intents in seq order, remembering
// the subjects seen, until `limit` heads are found.
hal::Result<std::vector<IntentRecord>> Outbox::pending_heads(std::size_t limit) {
  ION_TRY(raise_pending_floor(), "outbox: pending heads");
  auto s = SqlStatement::prepare(db_.get(), (std::string("SELECT ") + kColumns +
                                             " FROM intents WHERE seq >= ?1 AND state IN (0, 1) ORDER BY seq")
                                                .c_str());
  if (!s.ok()) {
    return std::move(s).error().context("outbox: pending heads");
  }
  s->bind(1, pending_floor_);
  std::vector<IntentRecord> out;
  std::unordered_set<std::string> subjects;
  while (out.size() < limit) {
    auto row = s->step("read intents");
    if (!row.ok()) {
      return std::move(row).error().context("outbox: pending heads");
    }
    if (!*row) {
      break;
    }
    IntentRecord r = read_record(*s);
    const bool first = r.subject.empty() || subjects.insert(r.subject).second;
    if (first && r.state == IntentState::pending) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace agent
