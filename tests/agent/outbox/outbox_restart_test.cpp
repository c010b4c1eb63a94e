// SPDX-License-Identifier: Apache-2.0
// issue 19: an outbox another process is reading opens after a crash (busy timeout before
// the first statement, busy never reported as damage); open errors say which kind of trouble
// they are; the station context is committed with the intents; a shared writer (`queue retry`
// while the daemon runs) leaves the daemon's in-flight intents alone.
#include <CppUTest/TestHarness.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/outbox/outbox.hpp"
#include "hal/sim/fake_clock.hpp"
#include "scratch_dir.hpp"

using agent::NewIntent;
using agent::Outbox;

namespace {

NewIntent unit(const std::string& serial) {
  NewIntent n;
  n.kind = "unit.ensure";
  n.inputs_json = R"({"serial":")" + serial + R"(","partNumber":"ASM-100"})";
  n.subject = serial;
  n.at.wall_ms = 1'700'000'000'000;
  return n;
}

// Another process holding the whole file (locking_mode EXCLUSIVE: not even readers get in),
// as a reader recovering the WAL after a crash does for a moment.
sqlite3* hold_exclusively(const std::string& path) {
  sqlite3* db = nullptr;
  CHECK_EQUAL(SQLITE_OK, sqlite3_open(path.c_str(), &db));
  CHECK_EQUAL(SQLITE_OK, sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;", nullptr,
                                      nullptr, nullptr));
  return db;
}

}  // namespace

TEST_GROUP(OutboxRestart) {
  testing_support::ScratchDir dir{"outbox-restart-test"};
  hal::sim::FakeClock clock;
  std::string path = dir.file("outbox.db");

  void make() {
    auto box = Outbox::open(path, {}, clock);
    CHECK_TEXT(box.ok(), box.ok() ? "" : box.error().what.c_str());
    CHECK((*box)->append(unit("SN-1")).ok());
  }
};

TEST(OutboxRestart, OpensWhileAnotherProcessHoldsTheFileForAMoment) {
  make();
  sqlite3* other = hold_exclusively(path);
  std::thread release([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(other);
  });
  auto box = Outbox::open(path, {}, clock);
  release.join();
  CHECK_TEXT(box.ok(), box.ok() ? "" : box.error().what.c_str());
  LONGS_EQUAL(1, (*box)->stats()->pending);
}

TEST(OutboxRestart, ALockHeldPastTheTimeoutIsBusyNeverCorrupt) {
  make();
  sqlite3* other = hold_exclusively(path);
  agent::OutboxLimits limits;
  limits.busy_timeout = std::chrono::milliseconds(100);
  auto box = Outbox::open(path, limits, clock);
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(!box.ok());
  CHECK_TEXT(box.error().code == hal::Errc::busy, box.error().what.c_str());
  CHECK_TEXT(box.error().what.find("corrupt") == std::string::npos, box.error().what.c_str());
}

TEST(OutboxRestart, DamageIsParseAndANewerSchemaIsRejected) {
  make();
  {
    std::ofstream garbage(dir.file("garbage.db"), std::ios::binary);
    garbage << std::string(4096, 'x');
  }
  auto bad = Outbox::open(dir.file("garbage.db"), {}, clock);
  CHECK(!bad.ok());
  CHECK_TEXT(bad.error().code == hal::Errc::parse, bad.error().what.c_str());
  CHECK(bad.error().what.find("corrupt") != std::string::npos);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto newer = Outbox::open(path, {}, clock);
  CHECK(!newer.ok());
  CHECK_TEXT(newer.error().code == hal::Errc::rejected, newer.error().what.c_str());
}

TEST(OutboxRestart, ContextIsCommittedWithTheIntentsAndSurvivesReopen) {
  {
    auto box = Outbox::open(path, {}, clock);
    CHECK(box.ok());
    CHECK(!(*box)->saved_context()->has_value());
    auto ids = (*box)->append_with_context({unit("SN-7")}, R"({"unit.serial":"SN-7"})");
    CHECK(ids.ok());
    LONGS_EQUAL(1, ids->size());
    // A context-only change (an operator badge) commits no intent.
    CHECK((*box)->append_with_context({}, R"({"operator":"OP-1","unit.serial":"SN-7"})").ok());
  }
  auto box = Outbox::open(path, {}, clock);
  auto saved = (*box)->saved_context();
  CHECK(saved.ok() && saved->has_value());
  STRCMP_EQUAL(R"({"operator":"OP-1","unit.serial":"SN-7"})", (*saved)->json.c_str());
  LONGS_EQUAL(1, (*box)->stats()->pending);
}

TEST(OutboxRestart, ARefusedEventLeavesTheContextAsItWas) {
  auto box = Outbox::open(path, {}, clock);
  CHECK((*box)->append_with_context({unit("SN-7")}, R"({"unit.serial":"SN-7"})").ok());
  NewIntent broken = unit("SN-8");
  broken.inputs_json = R"({"serial":"SN-8"})";  // partNumber missing: the event is refused whole
  CHECK(!(*box)->append_with_context({unit("SN-8"), broken}, R"({"unit.serial":"SN-8"})").ok());
  STRCMP_EQUAL(R"({"unit.serial":"SN-7"})", (*(*box)->saved_context())->json.c_str());
}

TEST(OutboxRestart, ASharedWriterLeavesTheOwnersInFlightIntentsAlone) {
  auto owner = Outbox::open(path, {}, clock);
  CHECK(owner.ok());
  auto id = (*owner)->append(unit("SN-9"));
  CHECK((*owner)->commit({{*id, agent::Transition::To::in_flight, 0, ""}}).ok());
  auto shared = Outbox::open(path, {}, clock, Outbox::Mode::shared_write);
  CHECK_TEXT(shared.ok(), shared.ok() ? "" : shared.error().what.c_str());
  auto st = (*owner)->stats();
  LONGS_EQUAL(1, st->in_flight);  // an owner's open would have put it back to pending
  LONGS_EQUAL(0, st->pending);
}
