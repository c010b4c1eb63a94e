// SPDX-License-Identifier: Apache-2.0
#include "state_lock.hpp"

#include <CppUTest/TestHarness.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "scratch_dir.hpp"

using firmware::StateLock;

TEST_GROUP(StateLock) {
  testing_support::ScratchDir dir{"state-lock-test"};
};

TEST(StateLock, ASecondHolderIsRefusedWithTheFirstOnesPidEvenThroughASymlink) {
  auto first = StateLock::acquire(dir.path(), "run");
  CHECK_TEXT(first.ok(), first.ok() ? "" : first.error().what.c_str());
  const std::string link = dir.file("alias");
  CHECK_EQUAL(0, ::symlink(dir.path().c_str(), link.c_str()));
  StateLock::Holder holder;
  auto second = StateLock::acquire(link, "run", &holder);
  CHECK(!second.ok());
  CHECK(second.error().code == hal::Errc::busy);
  LONGS_EQUAL(::getpid(), holder.pid);
  STRCMP_EQUAL("run", holder.command.c_str());
  const std::string expected = "another ion-agent run (PID " + std::to_string(::getpid()) + ") holds ";
  CHECK_TEXT(second.error().what.rfind(expected, 0) == 0, second.error().what.c_str());
  CHECK_TEXT(second.error().what.find("/ion-agent.lock") != std::string::npos, second.error().what.c_str());
}

TEST(StateLock, IsFreeAgainOnceTheHolderIsGone) {
  {
    auto first = StateLock::acquire(dir.path(), "provision");
    CHECK(first.ok());
  }
  auto again = StateLock::acquire(dir.path(), "run");
  CHECK_TEXT(again.ok(), again.ok() ? "" : again.error().what.c_str());
}

TEST(StateLock, AMissingStateDirectoryIsAnIoError) {
  auto l = StateLock::acquire(dir.file("missing"), "run");
  CHECK(!l.ok());
  CHECK(l.error().code == hal::Errc::io);
}

// `sudo ion-agent provision` takes the lock too: the file it creates must stay usable by the
// daemon, which runs as the state directory's owner (the unit's User=ion-agent).
TEST(StateLock, TakenAsRootTheLockFileBelongsToTheStateDirectorysOwner) {
  if (::geteuid() != 0) {
    TEST_EXIT;  // needs root to hand the file over
  }
  CHECK_EQUAL(0, ::chown(dir.path().c_str(), 4242, 4243));
  {
    auto l = StateLock::acquire(dir.path(), "provision");
    CHECK_TEXT(l.ok(), l.ok() ? "" : l.error().what.c_str());
  }
  struct stat st {};
  CHECK_EQUAL(0, ::stat((dir.path() + "/ion-agent.lock").c_str(), &st));
  LONGS_EQUAL(4242, st.st_uid);
  LONGS_EQUAL(4243, st.st_gid);
  CHECK_EQUAL(0, ::chown(dir.path().c_str(), 0, 0));
}
