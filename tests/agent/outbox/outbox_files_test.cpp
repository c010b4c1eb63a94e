// SPDX-License-Identifier: Apache-2.0
// The outbox's file copies (file.attach): copied durably at accept time with the SHA-256 and
// size in the intent (the source may go at once), counted in the size bound (a file that does
// not fit is refused, queue full), refused with the reason when the source is gone, removed
// when the intent is delivered or dropped, and removed at open when no intent holds them.
#include <CppUTest/TestHarness.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/common/json.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/sim/fake_clock.hpp"
#include "scratch_dir.hpp"

using agent::NewIntent;
using agent::Outbox;
using agent::Transition;

namespace {

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

NewIntent attach(const std::string& source) {
  NewIntent n;
  n.kind = "file.attach";
  n.inputs_json =
      R"({"serial":"SN-000101","procedureId":"13","source":")" + source + R"(","filename":"r.csv"})";
  n.subject = "SN-000101";
  n.at.wall_ms = 1'700'000'000'000;
  return n;
}

}  // namespace

TEST_GROUP(OutboxFiles) {
  testing_support::ScratchDir dir{"outbox-files"};
  hal::sim::FakeClock clock;
  std::string path = dir.file("outbox.db");

  std::unique_ptr<Outbox> open(agent::OutboxLimits limits = {}) {
    auto box = Outbox::open(path, limits, clock);
    if (!box.ok()) {
      FAIL(box.error().what.c_str());
    }
    return std::move(*box);
  }
};

TEST(OutboxFiles, TheFileIsCopiedWithItsHashAndTheSourceMayGo) {
  auto box = open();
  write_file(dir.file("r.csv"), "abc");
  auto id = box->append(attach(dir.file("r.csv")));
  CHECK_TEXT(id.ok(), id.ok() ? "" : id.error().what.c_str());
  CHECK(::unlink(dir.file("r.csv").c_str()) == 0);
  auto rows = box->pending(10);
  LONGS_EQUAL(1, rows->size());
  agent::Json in = agent::json::parse((*rows)[0].inputs_json);
  const std::string copy = dir.path() + "/files/" + *id;
  STRCMP_EQUAL(copy.c_str(), agent::json::str(in.get(), "copy").value_or("").c_str());
  // SHA-256("abc"), FIPS 180-2's first example.
  STRCMP_EQUAL("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               agent::json::str(in.get(), "sha256").value_or("").c_str());
  STRCMP_EQUAL("3", agent::json::id(in.get(), "size").c_str());
  STRCMP_EQUAL(dir.file("r.csv").c_str(), agent::json::str(in.get(), "source").value_or("").c_str());
  STRCMP_EQUAL("abc", read_file(copy).c_str());
  struct stat st {};
  CHECK(::stat(copy.c_str(), &st) == 0);
  LONGS_EQUAL(0600, st.st_mode & 0777);
  // Counted in the bound.
  auto stats = box->stats();
  CHECK(stats->used_bytes >= 3);
}

TEST(OutboxFiles, TheCopyGoesOnceTheIntentIsDelivered) {
  auto box = open();
  write_file(dir.file("r.csv"), "abc");
  auto id = box->append(attach(dir.file("r.csv")));
  const std::string copy = dir.path() + "/files/" + *id;
  CHECK(exists(copy));
  CHECK(box->commit({{*id, Transition::To::in_flight, 0, ""}}).ok());
  CHECK(box->commit({{*id, Transition::To::retry, 0, "later"}}).ok());
  CHECK(exists(copy));
  CHECK(box->commit({{*id, Transition::To::done, 0, ""}}).ok());
  CHECK_FALSE(exists(copy));
}

TEST(OutboxFiles, ADroppedDeadLetterTakesItsCopy) {
  auto box = open();
  write_file(dir.file("r.csv"), "abc");
  auto id = box->append(attach(dir.file("r.csv")));
  CHECK(box->commit({{*id, Transition::To::dead, 0, "no such step"}}).ok());
  CHECK(exists(dir.path() + "/files/" + *id));
  CHECK(box->drop(*id).ok());
  CHECK_FALSE(exists(dir.path() + "/files/" + *id));
}

TEST(OutboxFiles, AFileThatDoesNotFitIsRefusedAsQueueFullAndLeavesNothing) {
  agent::OutboxLimits limits;
  limits.max_bytes = 256 * 1024;
  auto box = open(limits);
  write_file(dir.file("big.csv"), std::string(300 * 1024, 'x'));
  auto id = box->append(attach(dir.file("big.csv")));
  CHECK_FALSE(id.ok());
  CHECK(id.error().code == hal::Errc::busy);
  STRCMP_CONTAINS("queue full", id.error().what.c_str());
  LONGS_EQUAL(0, box->pending(10)->size());
  CHECK_FALSE(exists(dir.path() + "/files") && ::rmdir((dir.path() + "/files").c_str()) != 0);
}

TEST(OutboxFiles, AGoneSourceIsNotFoundWithItsPath) {
  auto box = open();
  auto id = box->append(attach(dir.file("gone.csv")));
  CHECK_FALSE(id.ok());
  CHECK(id.error().code == hal::Errc::not_found);
  STRCMP_CONTAINS(("file.attach: file " + dir.file("gone.csv") + ": No such file").c_str(),
                  id.error().what.c_str());
  LONGS_EQUAL(0, box->pending(10)->size());
}

TEST(OutboxFiles, ACopyNoIntentHoldsIsRemovedAtOpen) {
  std::string kept;
  {
    auto box = open();
    write_file(dir.file("r.csv"), "abc");
    kept = *box->append(attach(dir.file("r.csv")));
  }
  write_file(dir.path() + "/files/0190aaaa-0000-7000-8000-000000000000", "orphan of a crash");
  write_file(dir.path() + "/files/.tmp-0190aaaa-0000-7000-8000-000000000001", "half a copy");
  auto box = open();
  CHECK(exists(dir.path() + "/files/" + kept));
  CHECK_FALSE(exists(dir.path() + "/files/0190aaaa-0000-7000-8000-000000000000"));
  CHECK_FALSE(exists(dir.path() + "/files/.tmp-0190aaaa-0000-7000-8000-000000000001"));
}
