// SPDX-License-Identifier: Apache-2.0
#include "hal/text.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

TEST_GROUP(Text){};

TEST(Text, ValidUtf8IsValid) {
  CHECK(hal::is_valid_utf8(""));
  CHECK(hal::is_valid_utf8("SN-000123"));
  CHECK(hal::is_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa7"));  // été € 🔧
  CHECK(hal::is_valid_utf8("\xf4\x8f\xbf\xbf"));                                 // U+10FFFF
}

TEST(Text, FindsTheFirstInvalidByte) {
  LONGS_EQUAL(3, hal::utf8_valid_prefix("abc\xff"));
  LONGS_EQUAL(1, hal::utf8_valid_prefix("a\xc3"));             // truncated sequence
  LONGS_EQUAL(0, hal::utf8_valid_prefix("\xc0\x80"));          // overlong NUL
  LONGS_EQUAL(0, hal::utf8_valid_prefix("\xe0\x80\xaf"));      // overlong '/'
  LONGS_EQUAL(0, hal::utf8_valid_prefix("\xed\xa0\x80"));      // UTF-16 surrogate
  LONGS_EQUAL(0, hal::utf8_valid_prefix("\xf4\x90\x80\x80"));  // above U+10FFFF
  LONGS_EQUAL(2, hal::utf8_valid_prefix("ok\x80"));            // lone continuation byte
}

TEST(Text, EscapesControlsAndInvalidBytesKeepsTheRest) {
  STRCMP_EQUAL("plain \xc3\xa9", hal::escape_control("plain \xc3\xa9").c_str());
  STRCMP_EQUAL("\\x1b[31mred\\x7f\\x09tab", hal::escape_control("\x1b[31mred\x7f\ttab").c_str());
  STRCMP_EQUAL("a\\x00b", hal::escape_control(std::string("a\0b", 3)).c_str());
  STRCMP_EQUAL("\\xc3( \\xff", hal::escape_control("\xc3( \xff").c_str());
  STRCMP_EQUAL("one two", hal::escape_control("one\ntwo").c_str());
}
