// SPDX-License-Identifier: Apache-2.0
#include "agent/scan/gs1.hpp"

#include <CppUTest/TestHarness.h>

namespace {
std::string error_of(std::string_view data, std::size_t offset = 0) {
  auto r = agent::gs1::parse(data, offset);
  return r.ok() ? std::string("(no error)") : r.error().what;
}
}  // namespace

TEST_GROUP(Gs1){};

TEST(Gs1, UnbracketedWithFixedAndVariableFields) {
  auto r = agent::gs1::parse(
      "0109501101530003"
      "17240229"
      "10LOT-7\x1d"
      "21SN/0001");
  CHECK_TRUE(r.ok());
  LONGS_EQUAL(4, r->size());
  STRCMP_EQUAL("09501101530003", r->at("01").c_str());
  STRCMP_EQUAL("240229", r->at("17").c_str());
  STRCMP_EQUAL("LOT-7", r->at("10").c_str());
  STRCMP_EQUAL("SN/0001", r->at("21").c_str());
}

TEST(Gs1, BracketedForm) {
  auto r = agent::gs1::parse("(00)106141411234567897(400)PO-42(8004)GIAI1(241)CP-1(250)S2(37)12(30)7");
  CHECK_TRUE(r.ok());
  STRCMP_EQUAL("106141411234567897", r->at("00").c_str());
  STRCMP_EQUAL("PO-42", r->at("400").c_str());
  STRCMP_EQUAL("GIAI1", r->at("8004").c_str());
  STRCMP_EQUAL("CP-1", r->at("241").c_str());
  STRCMP_EQUAL("S2", r->at("250").c_str());
  STRCMP_EQUAL("12", r->at("37").c_str());
  STRCMP_EQUAL("7", r->at("30").c_str());
}

TEST(Gs1, LeadingFnc1AndMoreAis) {
  auto good = agent::gs1::parse(
      "\x1d"
      "0209501101530003"
      "11240101"
      "13991231"
      "15240600"
      "3103000250"
      "240ADD\x1d"
      "91X");
  CHECK_TRUE(good.ok());
  STRCMP_EQUAL("240600", good->at("15").c_str());  // DD 00: a month, allowed
  STRCMP_EQUAL("000250", good->at("3103").c_str());
  STRCMP_EQUAL("ADD", good->at("240").c_str());
  STRCMP_EQUAL("X", good->at("91").c_str());
}

TEST(Gs1, BadCheckDigit) {
  STRCMP_EQUAL("gs1: AI (01) at byte 3: check digit is 4, expected 3",
               error_of("0109501101530004", 3).c_str());
  STRCMP_EQUAL("gs1: AI (00) at byte 0: check digit is 8, expected 7",
               error_of("(00)106141411234567898").c_str());
}

TEST(Gs1, UnknownAi) {
  STRCMP_EQUAL("gs1: unknown AI at byte 16 ('2312')", error_of("010950110153000323123").c_str());
  STRCMP_EQUAL("gs1: unknown AI (23) at byte 18", error_of("(01)09501101530003(23)X").c_str());
}

TEST(Gs1, OverLengthVariableField) {
  STRCMP_EQUAL("gs1: AI (21) at byte 0: value is 21 characters, longest allowed is 20",
               error_of("21ABCDEFGHIJKLMNOPQRSTU").c_str());
  STRCMP_EQUAL("gs1: AI (10) at byte 0: value is 21 characters, longest allowed is 20",
               error_of("(10)ABCDEFGHIJKLMNOPQRSTU").c_str());
}

TEST(Gs1, MissingGsBetweenVariableFields) {
  // 10 (lot, up to 20) then 21 (serial) with no GS: the lot runs into the serial.
  STRCMP_EQUAL(
      "gs1: AI (10) at byte 3: missing GS separator: the variable-length value runs into AI (21) at byte "
      "23",
      error_of("10LOTLOTLOTLOTLOTLOT21SERIAL1", 3).c_str());
  // 30 (count, digits only) straight into 10 (lot).
  STRCMP_CONTAINS("missing GS separator: the variable-length value runs into AI (10) at byte 4",
                  error_of("301210LOT").c_str());
}

TEST(Gs1, FixedFieldTooShortOrNotNumeric) {
  STRCMP_EQUAL("gs1: AI (01) at byte 0: value is 10 characters, needs 14", error_of("010950110153").c_str());
  STRCMP_EQUAL("gs1: AI (20) at byte 0: non-digit 'A' at byte 3", error_of("201A").c_str());
}

TEST(Gs1, DatesAreValidated) {
  STRCMP_EQUAL("gs1: AI (17) at byte 0: '241301' is not a date (YYMMDD)", error_of("17241301").c_str());
  STRCMP_CONTAINS("'230229' is not a date", error_of("(11)230229").c_str());  // 2023 is no leap year
  CHECK(agent::gs1::parse("(11)240229").ok());
  STRCMP_CONTAINS("'240431' is not a date", error_of("(13)240431").c_str());
}

TEST(Gs1, CharacterSetAndEmptyValues) {
  STRCMP_EQUAL("gs1: AI (21) at byte 0: invalid character ' ' at byte 4", error_of("21AB CD").c_str());
  STRCMP_EQUAL("gs1: AI (10) at byte 0: empty value", error_of("10\x1d"
                                                               "21X")
                                                          .c_str());
  auto r = agent::gs1::parse_bracketed("X(01)09501101530003", 5);
  CHECK_FALSE(r.ok());
  STRCMP_EQUAL("gs1: expected '(' at byte 5, found 'X'", r.error().what.c_str());
}

TEST(Gs1, RepeatedAiMustAgree) {
  CHECK(agent::gs1::parse("(21)A(21)A").ok());
  STRCMP_CONTAINS("repeats with a different value", error_of("(21)A(21)B").c_str());
}

TEST(Gs1, CheckDigitArithmetic) {
  CHECK_EQUAL('3', agent::gs1::check_digit("0950110153000"));
  CHECK_EQUAL('1', agent::gs1::check_digit("400638133393"));
  CHECK(agent::gs1::check_digit_ok("4006381333931"));
  CHECK_FALSE(agent::gs1::check_digit_ok("4006381333932"));
  STRCMP_EQUAL("SERIAL", std::string(agent::gs1::title("21")).c_str());
}
