// SPDX-License-Identifier: Apache-2.0
#include "hal/keymap.hpp"

#include <CppUTest/TestHarness.h>
#include <linux/input-event-codes.h>

namespace {
char32_t ch(const hal::Keymap& k, std::uint16_t code, bool shift = false, bool altgr = false,
            bool caps = false) {
  return k.lookup(code, shift, altgr, caps).ch;
}
hal::Keymap map(const char* name) {
  return hal::Keymap::by_name(name).value();
}
}  // namespace

TEST_GROUP(Keymap){};

TEST(Keymap, UsDefault) {
  auto us = hal::Keymap::us();
  STRCMP_EQUAL("us", std::string(us.name()).c_str());
  CHECK(ch(us, KEY_Y) == U'y');
  CHECK(ch(us, KEY_2, true) == U'@');
  CHECK(ch(us, KEY_BACKSLASH, true) == U'|');
  CHECK(ch(us, KEY_F1) == 0);
}

TEST(Keymap, GermanSwapsYAndZAndHasAltGr) {
  auto de = map("de");
  CHECK(ch(de, KEY_Y) == U'z');
  CHECK(ch(de, KEY_Z, true) == U'Y');
  CHECK(ch(de, KEY_Q, false, true) == U'@');
  CHECK(ch(de, KEY_7, true) == U'/');
  CHECK(ch(de, KEY_APOSTROPHE, false, false, true) == U'\u00C4');  // Caps Lock on an umlaut
  CHECK(ch(de, KEY_MINUS, false, false, true) == U'\u00DF');       // but not on sharp s
  CHECK(de.lookup(KEY_GRAVE, false, false, false).dead);
}

TEST(Keymap, FrenchNeedsShiftForDigitsEvenWithCapsLock) {
  auto fr = map("fr");
  CHECK(ch(fr, KEY_1) == U'&');
  CHECK(ch(fr, KEY_1, true) == U'1');
  CHECK(ch(fr, KEY_1, false, false, true) == U'&');
  CHECK(ch(fr, KEY_Q, false, false, true) == U'A');
  CHECK(ch(fr, KEY_0, false, true) == U'@');
}

TEST(Keymap, UkHasPoundAndHashKey) {
  auto uk = map("uk");
  CHECK(ch(uk, KEY_3, true) == U'\u00A3');
  CHECK(ch(uk, KEY_BACKSLASH) == U'#');
  CHECK(ch(uk, KEY_APOSTROPHE, true) == U'@');
  CHECK(map("gb").name() == uk.name());
}

TEST(Keymap, UnknownLayoutIsAConfigError) {
  auto r = hal::Keymap::by_name("dvorak");
  CHECK_FALSE(r.ok());
  STRCMP_CONTAINS("unknown layout 'dvorak'", r.error().what.c_str());
}

TEST(Keymap, DeadKeysCompose) {
  CHECK(hal::Keymap::compose(U'^', U'e') == U'\u00EA');
  CHECK(hal::Keymap::compose(U'\u00A8', U'U') == U'\u00DC');
  CHECK(hal::Keymap::compose(U'^', U' ') == U'^');
  CHECK(hal::Keymap::compose(U'^', U'x') == 0);
}
