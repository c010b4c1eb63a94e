// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/secret.hpp"

#include <CppUTest/TestHarness.h>

#include <new>
#include <string>
#include <utility>

using agent::SecretBuffer;

namespace {

bool all_zero(const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) {
      return false;
    }
  }
  return true;
}

bool contains(const unsigned char* p, std::size_t n, const std::string& needle) {
  return std::string(reinterpret_cast<const char*>(p), n).find(needle) != std::string::npos;
}

}  // namespace

TEST_GROUP(Secret){};

TEST(Secret, DestructorWipesTheStorage) {
  using S = SecretBuffer<64>;
  alignas(S) unsigned char storage[sizeof(S)];
  auto* s = new (storage) S();
  CHECK_TRUE(s->assign("client-secret-XYZ"));
  CHECK_TRUE(contains(storage, sizeof storage, "client-secret-XYZ"));
  s->~S();
  // The object is gone; its bytes must not hold the secret any more.
  CHECK_FALSE(contains(storage, sizeof storage, "client-secret-XYZ"));
  CHECK_TRUE(all_zero(storage, S::kCapacity));
}

TEST(Secret, ClearWipesAndEmpties) {
  SecretBuffer<32> s;
  CHECK_TRUE(s.assign("hunter2"));
  s.clear();
  CHECK_TRUE(s.empty());
  CHECK_TRUE(all_zero(s.bytes(), 8));
}

TEST(Secret, MoveWipesTheSource) {
  SecretBuffer<32> a;
  CHECK_TRUE(a.assign("token-abc"));
  SecretBuffer<32> b(std::move(a));
  STRCMP_EQUAL("token-abc", b.c_str());
  CHECK_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the wipe is the point
  CHECK_TRUE(all_zero(a.bytes(), 10));
}

TEST(Secret, RefusesToGrowPastCapacityWithoutChange) {
  SecretBuffer<8> s;
  CHECK_TRUE(s.assign("12345678"));
  CHECK_FALSE(s.append("9"));
  STRCMP_EQUAL("12345678", s.c_str());
  LONGS_EQUAL(8, s.size());
}

TEST(Secret, TruncateWipesTheDroppedTail) {
  SecretBuffer<16> s;
  CHECK_TRUE(s.assign("secret\n"));
  s.truncate(6);
  STRCMP_EQUAL("secret", s.c_str());
  LONGS_EQUAL(0, s.bytes()[6]);
}
