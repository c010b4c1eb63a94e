// SPDX-License-Identifier: Apache-2.0
#include "hal/c_handle.hpp"

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace {

int g_freed = 0;
struct Thing {
  int id;
};
void free_thing(Thing* t) {
  ++g_freed;
  delete t;
}
using ThingPtr = hal::CHandle<Thing, free_thing>;

bool fd_open(int fd) {
  return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

}  // namespace

TEST_GROUP(CHandle){void setup() override{g_freed = 0;
}
}
;

TEST(CHandle, CallsTheLibraryFreeFunctionOnce) {
  {
    ThingPtr a(new Thing{1});
    ThingPtr b = std::move(a);
    LONGS_EQUAL(0, g_freed);
  }
  LONGS_EQUAL(1, g_freed);
}

TEST(CHandle, NullIsNotFreed) {
  { ThingPtr empty; }
  LONGS_EQUAL(0, g_freed);
}

TEST(CHandle, ResetFreesThePreviousObject) {
  ThingPtr a(new Thing{1});
  a.reset(new Thing{2});
  LONGS_EQUAL(1, g_freed);
  LONGS_EQUAL(2, a->id);
}

TEST_GROUP(UniqueFd){};

TEST(UniqueFd, ClosesOnDestruction) {
  int raw = -1;
  {
    hal::UniqueFd fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
    CHECK_TRUE(fd.valid());
    raw = fd.get();
    CHECK_TRUE(fd_open(raw));
  }
  CHECK_FALSE(fd_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnershipAndReleaseGivesItUp) {
  hal::UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = a.get();
  hal::UniqueFd b(std::move(a));
  CHECK_FALSE(a.valid());
  LONGS_EQUAL(raw, b.get());
  int released = b.release();
  CHECK_FALSE(b.valid());
  CHECK_TRUE(fd_open(released));
  close(released);
}
