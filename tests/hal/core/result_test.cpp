// SPDX-License-Identifier: Apache-2.0
#include "hal/result.hpp"

#include <CppUTest/TestHarness.h>

#include <cerrno>
#include <string>

using hal::Errc;
using hal::Error;
using hal::Result;
using hal::Status;

namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') {
    return Error(Errc::parse, std::string("not a digit: '") + c + "'");
  }
  return c - '0';
}

Status load(char c) {
  ION_TRY(parse_digit(c), "config: read digit");
  return {};
}

}  // namespace

TEST_GROUP(Result){};

TEST(Result, HoldsValueWhenOk) {
  auto r = parse_digit('7');
  CHECK_TRUE(r.ok());
  LONGS_EQUAL(7, r.value());
  LONGS_EQUAL(7, r.value_or(-1));
}

TEST(Result, HoldsErrorWithCategoryAndMessage) {
  auto r = parse_digit('x');
  CHECK_FALSE(r.ok());
  CHECK(r.error().code == Errc::parse);
  STRCMP_EQUAL("not a digit: 'x'", r.error().what.c_str());
  LONGS_EQUAL(-1, r.value_or(-1));
}

TEST(Result, TryPrependsContextModuleActionCause) {
  Status s = load('q');
  CHECK_FALSE(s.ok());
  CHECK(s.error().code == Errc::parse);
  STRCMP_EQUAL("config: read digit: not a digit: 'q'", s.error().what.c_str());
  CHECK_TRUE(load('3').ok());
}

TEST(Result, ContextStacksOutermostFirst) {
  Error e = Error(Errc::io, "disk full").context("insert").context("outbox");
  STRCMP_EQUAL("outbox: insert: disk full", e.what.c_str());
}

TEST(Result, ErrnoErrorNamesTheCause) {
  Error e = hal::errno_error(Errc::io, "open /dev/x", ENOENT);
  STRCMP_EQUAL("open /dev/x: No such file or directory", e.what.c_str());
  STRCMP_EQUAL("io", std::string(hal::to_string(e.code)).c_str());
}
