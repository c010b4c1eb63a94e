// SPDX-License-Identifier: Apache-2.0
#include "hal/scan_assembler.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>

#include "evdev_streams.hpp"

using namespace std::chrono_literals;
using test_streams::assemble;
using test_streams::load;
using test_streams::with_keymap;

namespace {

// A synthetic key stream with explicit timestamps (microseconds).
struct Keys {
  std::vector<input_event> ev;
  long long t = 5'000'000;
  void add(std::uint16_t type, std::uint16_t code, int value) {
    input_event e{};
    e.input_event_sec = static_cast<decltype(e.input_event_sec)>(t / 1000000);
    e.input_event_usec = static_cast<decltype(e.input_event_usec)>(t % 1000000);
    e.type = type;
    e.code = code;
    e.value = value;
    ev.push_back(e);
  }
  Keys& tap(std::uint16_t code) {
    add(EV_KEY, code, 1);
    add(EV_SYN, SYN_REPORT, 0);
    add(EV_KEY, code, 0);
    add(EV_SYN, SYN_REPORT, 0);
    t += 3000;
    return *this;
  }
  Keys& pause(long long ms) {
    t += ms * 1000;
    return *this;
  }
};

}  // namespace

TEST_GROUP(ScanAssembler){};

TEST(ScanAssembler, ShiftGivesUpperCaseAndSymbolsOnUs) {
  auto scans = assemble(load("us_shift.evdev"));
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("SN-000123", scans[0].text.c_str());
  STRCMP_EQUAL("", scans[0].error.c_str());
  STRCMP_EQUAL("Part#A1b_(x)", scans[1].text.c_str());
}

TEST(ScanAssembler, CapsLockInvertsShiftForLettersOnly) {
  auto scans = assemble(load("us_capslock.evdev"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("ABC-123de!", scans[0].text.c_str());
}

TEST(ScanAssembler, CtrlRightBracketSendsGs) {
  auto scans = assemble(load("us_gs1_ctrl_gs.evdev"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL(
      "]C1010950110153000310LOT42\x1d"
      "21SN-7",
      scans[0].text.c_str());
}

TEST(ScanAssembler, AltKeypadCodesGiveCharactersIncludingGs) {
  auto scans = assemble(load("us_altnumpad.evdev"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL(
      "A\x1d\xC3\xA4"
      "1",
      scans[0].text.c_str());
}

TEST(ScanAssembler, ConfiguredKeySendsGs) {
  auto o = with_keymap("us");
  o.gs_key = KEY_F8;
  auto scans = assemble(load("us_gs_key_f8.evdev"), o);
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL(
      "]d2\x1d"
      "010950110153000321ABC\x1d"
      "10L1",
      scans[0].text.c_str());
}

TEST(ScanAssembler, UnconfiguredFunctionKeyRejectsTheScan) {
  auto scans = assemble(load("us_gs_key_f8.evdev"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("]d2", scans[0].text.c_str());
  STRCMP_CONTAINS("key code 66 at byte 3 has no character in keymap 'us'", scans[0].error.c_str());
}

TEST(ScanAssembler, SynDroppedRejectsTheScanAndDiscardsItsTail) {
  auto scans = assemble(load("us_syn_dropped.evdev"));
  LONGS_EQUAL(3, scans.size());
  STRCMP_EQUAL("GOOD1", scans[0].text.c_str());
  STRCMP_EQUAL("BAD", scans[1].text.c_str());
  STRCMP_CONTAINS("SYN_DROPPED", scans[1].error.c_str());
  STRCMP_EQUAL("GOOD2", scans[2].text.c_str());  // TAIL never became a scan
  STRCMP_EQUAL("", scans[2].error.c_str());
}

TEST(ScanAssembler, ControlCharacterRejectsOnlyItsScan) {
  auto scans = assemble(load("us_control_char.evdev"));
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("AB", scans[0].text.c_str());
  STRCMP_CONTAINS("control character 0x09 at byte 2", scans[0].error.c_str());
  STRCMP_EQUAL("OK", scans[1].text.c_str());
  STRCMP_EQUAL("", scans[1].error.c_str());
}

TEST(ScanAssembler, GapEndsScansWithoutTerminator) {
  auto o = with_keymap("us");
  o.terminator = hal::ScanAssemblerOptions::Terminator::none;
  auto scans = assemble(load("us_gap_only.evdev"), o);
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("ABC", scans[0].text.c_str());
  STRCMP_EQUAL("", scans[0].error.c_str());
  STRCMP_EQUAL("DEF", scans[1].text.c_str());
}

TEST(ScanAssembler, GapWithoutTerminatorRejectsWhenEnterIsExpected) {
  auto scans = assemble(load("us_gap_only.evdev"));
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("ABC", scans[0].text.c_str());
  STRCMP_CONTAINS("without its terminator", scans[0].error.c_str());
}

TEST(ScanAssembler, GermanKeymapDecodesQwertzUmlautsAltGrAndDeadKeys) {
  auto scans = assemble(load("de_keymap.evdev"), with_keymap("de"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("Zeile-42/\xC3\x84@x^\xC3\xAA", scans[0].text.c_str());
  STRCMP_EQUAL("", scans[0].error.c_str());
}

TEST(ScanAssembler, GermanStreamReadWithUsKeymapGivesOtherText) {
  auto scans = assemble(load("de_keymap.evdev"), with_keymap("us"));
  LONGS_EQUAL(1, scans.size());
  CHECK(scans[0].text.rfind("Yeile", 0) == 0);  // the host layout is not guessed
}

TEST(ScanAssembler, FrenchKeymapDecodesAzerty) {
  auto scans = assemble(load("fr_keymap.evdev"), with_keymap("fr"));
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("A1z@mq!/", scans[0].text.c_str());
}

TEST(ScanAssembler, OverLengthScanIsRejectedWithItsFirstBytes) {
  auto o = with_keymap("us");
  o.max_length = 4;
  auto scans = assemble(load("us_shift.evdev"), o);
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("SN-0", scans[0].text.c_str());
  STRCMP_CONTAINS("longer than 4 bytes", scans[0].error.c_str());
}

TEST(ScanAssembler, LoneEnterIsNotAScan) {
  Keys k;
  k.tap(KEY_ENTER).tap(KEY_KPENTER);
  LONGS_EQUAL(0, assemble(k.ev).size());
}

TEST(ScanAssembler, AutorepeatIsIgnored) {
  Keys k;
  k.add(EV_KEY, KEY_A, 1);
  k.add(EV_KEY, KEY_A, 2);
  k.add(EV_KEY, KEY_A, 2);
  k.add(EV_KEY, KEY_A, 0);
  k.tap(KEY_ENTER);
  auto scans = assemble(k.ev);
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("a", scans[0].text.c_str());
}

TEST(ScanAssembler, KeypadDigitsAndTabTerminator) {
  Keys k;
  k.tap(KEY_KP4).tap(KEY_KP2).tap(KEY_KPMINUS).tap(KEY_TAB);
  auto o = with_keymap("us");
  o.terminator = hal::ScanAssemblerOptions::Terminator::tab;
  auto scans = assemble(k.ev, o);
  LONGS_EQUAL(1, scans.size());
  STRCMP_EQUAL("42-", scans[0].text.c_str());
}

TEST(ScanAssembler, EnterIsAControlCharacterWhenTabTerminates) {
  Keys k;
  k.tap(KEY_A).tap(KEY_ENTER).tap(KEY_B).tap(KEY_TAB);
  auto o = with_keymap("us");
  o.terminator = hal::ScanAssemblerOptions::Terminator::tab;
  auto scans = assemble(k.ev, o);
  LONGS_EQUAL(1, scans.size());
  STRCMP_CONTAINS("control character 0x0D at byte 1", scans[0].error.c_str());
}

TEST(ScanAssembler, FlushIdleEndsAPendingScan) {
  Keys k;
  k.tap(KEY_A).tap(KEY_B);
  hal::ScanAssembler a;
  std::vector<hal::ScanRead> out;
  for (const auto& e : k.ev) {
    a.feed(e, out);
  }
  CHECK(a.pending());
  LONGS_EQUAL(0, out.size());
  a.flush_idle(out);
  CHECK_FALSE(a.pending());
  LONGS_EQUAL(1, out.size());
  STRCMP_EQUAL("ab", out[0].text.c_str());
  STRCMP_CONTAINS("incomplete read", out[0].error.c_str());
}

TEST(ScanAssembler, SynDroppedDiscardUntilGapWhenNoTerminatorFollows) {
  Keys k;
  k.tap(KEY_X);
  k.add(EV_SYN, SYN_DROPPED, 0);
  k.add(EV_KEY, KEY_Y, 1);  // before the next SYN_REPORT: ignored
  k.add(EV_SYN, SYN_REPORT, 0);
  k.tap(KEY_Z).pause(1000).tap(KEY_O).tap(KEY_K).tap(KEY_ENTER);
  auto scans = assemble(k.ev);
  LONGS_EQUAL(2, scans.size());
  STRCMP_EQUAL("x", scans[0].text.c_str());
  STRCMP_CONTAINS("SYN_DROPPED", scans[0].error.c_str());
  STRCMP_EQUAL("ok", scans[1].text.c_str());
  STRCMP_EQUAL("", scans[1].error.c_str());
}

TEST(ScanAssembler, KeyStateFromResyncAppliesShift) {
  hal::ScanAssembler a;
  std::uint8_t bits[KEY_MAX / 8 + 1] = {};
  bits[KEY_LEFTSHIFT / 8] |= static_cast<std::uint8_t>(1U << (KEY_LEFTSHIFT % 8));
  a.set_key_state(bits, sizeof bits);
  Keys k;
  k.tap(KEY_Q).tap(KEY_ENTER);
  std::vector<hal::ScanRead> out;
  for (const auto& e : k.ev) {
    a.feed(e, out);
  }
  LONGS_EQUAL(1, out.size());
  STRCMP_EQUAL("Q", out[0].text.c_str());
}

TEST(ScanAssembler, AltCodeOutOfRangeIsRejected) {
  Keys k;
  k.add(EV_KEY, KEY_LEFTALT, 1);
  k.tap(KEY_KP0);
  k.add(EV_KEY, KEY_LEFTALT, 0);
  k.tap(KEY_ENTER);
  auto scans = assemble(k.ev);
  LONGS_EQUAL(1, scans.size());
  STRCMP_CONTAINS("Alt+keypad code 0", scans[0].error.c_str());
}

TEST(ScanAssembler, AimIdentifierIsRecognised) {
  STRCMP_EQUAL("]d2", hal::aim_identifier("]d2010950").value_or("").c_str());
  CHECK_FALSE(hal::aim_identifier("]d").has_value());
  CHECK_FALSE(hal::aim_identifier("SN-1").has_value());
}

TEST(ScanAssembler, TerminatorNamesParse) {
  CHECK(hal::parse_terminator("tab").value() == hal::ScanAssemblerOptions::Terminator::tab);
  CHECK_FALSE(hal::parse_terminator("cr").ok());
}
