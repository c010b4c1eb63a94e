// SPDX-License-Identifier: Apache-2.0
// FileWatch wakes the daemon when another process writes the outbox: the fd must stay quiet
// while nothing is written (an idle loop sleeps) and become readable on a write, including a
// commit another SQLite connection makes into the WAL (what `ion-agent queue retry` does).
#include "file_watch.hpp"

#include <CppUTest/TestHarness.h>
#include <poll.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

void exec(const std::string& db, const char* sql) {
  sqlite3* h = nullptr;
  CHECK_EQUAL(SQLITE_OK, sqlite3_open(db.c_str(), &h));
  CHECK_EQUAL(SQLITE_OK, sqlite3_exec(h, sql, nullptr, nullptr, nullptr));
  sqlite3_close(h);
}

}  // namespace

TEST_GROUP(FileWatch) {
  std::string dir;
  void setup() override {
    char tmpl[] = "/tmp/ion-filewatch-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  void teardown() override {
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK_EQUAL(0, std::system(cmd.c_str()));
  }
};

TEST(FileWatch, MissingFilesAreSkipped) {
  auto w = firmware::FileWatch::create({dir + "/nope", dir + "/nope-wal"});
  CHECK_TRUE(w.ok());
  CHECK_FALSE(w->watching());
}

TEST(FileWatch, QuietUntilAnotherConnectionCommitsToTheWal) {
  const std::string db = dir + "/outbox.db";
  sqlite3* mine = nullptr;  // the daemon's connection keeps the WAL in place
  CHECK_EQUAL(SQLITE_OK, sqlite3_open(db.c_str(), &mine));
  CHECK_EQUAL(SQLITE_OK,
              sqlite3_exec(mine, "PRAGMA journal_mode=WAL; CREATE TABLE t(x);", nullptr, nullptr, nullptr));
  auto w = firmware::FileWatch::create({db, db + "-wal"});
  CHECK_TRUE(w.ok());
  CHECK_TRUE(w->watching());
  CHECK_FALSE(readable(w->fd()));
  CHECK_EQUAL(SQLITE_OK, sqlite3_exec(mine, "SELECT count(*) FROM t;", nullptr, nullptr, nullptr));
  CHECK_FALSE(readable(w->fd()));  // reads do not wake

  exec(db, "INSERT INTO t VALUES (1);");  // another process: `ion-agent queue retry`
  CHECK_TRUE(readable(w->fd()));
  CHECK_TRUE(w->drain() > 0);
  CHECK_FALSE(readable(w->fd()));
  CHECK_EQUAL(0u, w->drain());
  sqlite3_close(mine);
}
