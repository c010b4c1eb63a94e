// SPDX-License-Identifier: Apache-2.0
// Target ABI checks that matter on 32-bit boards: Debian 13 (and Yocto 5.0+) build their
// armhf libraries with 64-bit time_t and off_t, so every binary linked against them must be
// compiled the same way (toolchains/arm-linux-gnueabihf.cmake adds the flags). A mismatch
// links fine and silently corrupts structs passed to Mbed TLS, libgpiod and curl, so the
// cross legs (run under qemu) check it here.
#include <CppUTest/TestHarness.h>
#include <sys/types.h>

#include <ctime>

TEST_GROUP(Abi){};

TEST(Abi, TimeIsSixtyFourBit) {
  LONGS_EQUAL(8, sizeof(time_t));
  LONGS_EQUAL(8, sizeof(timespec{}.tv_sec));
  // 2040-01-01T00:00:00Z, past the 32-bit rollover, survives gmtime/timegm.
  const time_t after_2038 = static_cast<time_t>(2'208'988'800LL);
  std::tm tm{};
  CHECK(gmtime_r(&after_2038, &tm) != nullptr);
  LONGS_EQUAL(140, tm.tm_year);
  CHECK(timegm(&tm) == after_2038);
}

TEST(Abi, FileOffsetsAreSixtyFourBit) {
  LONGS_EQUAL(8, sizeof(off_t));
}
