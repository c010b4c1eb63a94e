// SPDX-License-Identifier: Apache-2.0
// Schema v5's migration copies the intents table, so it needs free space about the queue's
// size. On a full state partition (a 2 MiB tmpfs in a private mount namespace, as in
// outbox_diskfull_itest.cpp; needs root, as CI is) a v4 file stays at v4: the daemon opens
// it, every accepted intent is there and pending, and it migrates at the next open once there
// is room.
#include <CppUTest/TestHarness.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "forked.hpp"
#include "outbox_harness.hpp"
#include "scratch_dir.hpp"

namespace {

std::int64_t user_version(const std::string& path) {
  sqlite3* db = nullptr;
  std::int64_t v = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

// Fills the file system under `dir` to the last byte with `name`, then frees `keep` bytes.
void fill(const std::string& name, long keep) {
  FILE* f = std::fopen(name.c_str(), "wb");
  if (f == nullptr) {
    return;
  }
  std::vector<char> kb(1024, 'x');
  while (std::fwrite(kb.data(), 1, kb.size(), f) == kb.size() && std::fflush(f) == 0) {
  }
  std::fclose(f);
  FILE* g = std::fopen(name.c_str(), "r+b");
  if (g != nullptr) {
    std::fseek(g, 0, SEEK_END);
    const long size = std::ftell(g);
    std::fclose(g);
    (void)truncate(name.c_str(), size > keep ? size - keep : 0);
  }
}

// Runs inside the child, in its own mount namespace. Returns "" on success.
std::string scenario(const std::string& dir) {
  if (auto err = testing_support::private_tmpfs(dir, "size=2m,mode=0700"); !err.empty()) {
    return err;
  }
  const std::string path = dir + "/outbox.db";
  hal::SystemClock clock;
  std::vector<std::string> accepted;
  {
    auto box = agent::Outbox::open(path, {}, clock);
    if (!box.ok()) {
      return "open: " + box.error().what;
    }
    for (int i = 0; i < 600; ++i) {
      auto id = (*box)->append(outbox_test::recipe_intent("MIG", i, clock));
      if (!id.ok()) {
        return "append " + std::to_string(i) + ": " + id.error().what;
      }
      accepted.push_back(*id);
    }
  }
  // The same rows with v4's indexes (v4's table differs from v5's only in its uuid index).
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* err = nullptr;
  const int rc = sqlite3_exec(db,
                              "DROP INDEX intents_past_pending;"
                              "CREATE UNIQUE INDEX intents_uuid ON intents(uuid);"
                              "CREATE INDEX intents_by_state ON intents(state, seq);"
                              "CREATE INDEX intents_by_subject ON intents(subject, seq) WHERE subject != '';"
                              "PRAGMA user_version = 4; PRAGMA wal_checkpoint(TRUNCATE);",
                              nullptr, nullptr, &err);
  std::string made = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) {
    return "making the v4 file: " + made;
  }
  const std::string filler = dir + "/filler";
  fill(filler, 48 * 1024);  // room for a few pages, not for a copy of the table
  {
    auto box = agent::Outbox::open(path, {}, clock);
    if (!box.ok()) {
      return "open on a full disk: " + box.error().what;
    }
    if (user_version(path) != 4) {
      return "the file is at v" + std::to_string(user_version(path)) + " on a full disk, not left at v4";
    }
    auto pend = (*box)->pending(1000);
    if (!pend.ok() || pend->size() != accepted.size()) {
      return "at v4 on a full disk: " + std::to_string(pend.ok() ? pend->size() : 0) + " pending of " +
             std::to_string(accepted.size());
    }
    for (std::size_t i = 0; i < accepted.size(); ++i) {
      if ((*pend)[i].uuid != accepted[i]) {
        return "at v4: intent " + std::to_string(i) + " out of order";
      }
    }
    // It drains as it is: a delivery by seq works on the v4 layout.
    if (!(*box)->commit({{accepted[0], agent::Transition::To::done, 0, {}, (*pend)[0].seq}}).ok()) {
      return "delivering at v4 failed";
    }
  }
  std::remove(filler.c_str());  // space returns
  auto box = agent::Outbox::open(path, {}, clock);
  if (!box.ok()) {
    return "open with room: " + box.error().what;
  }
  if (user_version(path) != agent::Outbox::kSchemaVersion) {
    return "with room, the file is at v" + std::to_string(user_version(path));
  }
  auto pend = (*box)->pending(1000);
  if (!pend.ok() || pend->size() != accepted.size() - 1 || pend->front().uuid != accepted[1]) {
    return "after the migration: the pending intents are not the ones accepted";
  }
  return {};
}

}  // namespace

TEST_GROUP(OutboxMigrateFull){};

TEST(OutboxMigrateFull, AV4FileStaysAtV4OnAFullDiskDrainsAndMigratesOnceThereIsRoom) {
  if (geteuid() != 0) {
    FAIL("needs root (CAP_SYS_ADMIN) to mount a private tmpfs; CI runs as root");
  }
  testing_support::ScratchDir dir{"outbox-migrate-full"};
  auto child = testing_support::run_forked([&] { return scenario(dir.path()); });
  CHECK_TRUE_TEXT(child.ok, child.message.c_str());
}
