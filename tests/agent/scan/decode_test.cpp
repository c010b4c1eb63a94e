// SPDX-License-Identifier: Apache-2.0
#include "agent/scan/decode.hpp"

#include <CppUTest/TestHarness.h>

TEST_GROUP(ScanDecode){};

TEST(ScanDecode, Gs1DataMatrixWithAimIdentifier) {
  auto d = agent::decode_scan(
      "]d2\x1d"
      "0109501101530003"
      "21SN-000123");
  CHECK_TRUE(d.ok());
  STRCMP_EQUAL("]d2", d.symbology.c_str());
  STRCMP_EQUAL("GS1 DataMatrix", d.symbology_name.c_str());
  CHECK_TRUE(d.is_gs1);
  STRCMP_EQUAL("09501101530003", d.gs1.at("01").c_str());
  STRCMP_EQUAL("SN-000123", d.gs1.at("21").c_str());
  STRCMP_EQUAL(
      "\x1d"
      "0109501101530003"
      "21SN-000123",
      d.data.c_str());
}

TEST(ScanDecode, PlainCode128IsNotGs1) {
  auto d = agent::decode_scan("]C0SN-000123");
  CHECK_TRUE(d.ok());
  STRCMP_EQUAL("Code 128", d.symbology_name.c_str());
  STRCMP_EQUAL("SN-000123", d.data.c_str());
  CHECK_FALSE(d.is_gs1);
  CHECK(d.gs1.empty());
}

TEST(ScanDecode, NoIdentifierPlainText) {
  auto d = agent::decode_scan("0109501101530003");
  CHECK_TRUE(d.ok());
  CHECK_FALSE(d.is_gs1);  // digits alone are not assumed to be GS1...
  agent::DecodeOptions o;
  o.assume_gs1 = true;
  auto g = agent::decode_scan("0109501101530003", o);  // ...unless the profile says so
  CHECK_TRUE(g.is_gs1);
  STRCMP_EQUAL("09501101530003", g.gs1.at("01").c_str());
}

TEST(ScanDecode, BracketedTextIsGs1) {
  auto d = agent::decode_scan("(01)09501101530003(10)L1(21)S1");
  CHECK_TRUE(d.ok());
  CHECK_TRUE(d.is_gs1);
  STRCMP_EQUAL("L1", d.gs1.at("10").c_str());
}

TEST(ScanDecode, Gs1ErrorsCountBytesInTheRawScan) {
  auto d = agent::decode_scan("]C10109501101530004");
  CHECK_FALSE(d.ok());
  STRCMP_EQUAL("gs1: AI (01) at byte 3: check digit is 4, expected 3", d.error.c_str());
  auto q = agent::decode_scan("]Q310ABCDEFGHIJKLMNOPQRSTUV");
  STRCMP_EQUAL("GS1 QR Code", q.symbology_name.c_str());
  STRCMP_CONTAINS("AI (10) at byte 3: value is 22 characters", q.error.c_str());
}

TEST(ScanDecode, EanBecomesGtin14) {
  auto d = agent::decode_scan("]E04006381333931");
  CHECK_TRUE(d.ok());
  STRCMP_EQUAL("04006381333931", d.gs1.at("01").c_str());
  auto e8 = agent::decode_scan("]E496385074");
  CHECK_TRUE(e8.ok());
  STRCMP_EQUAL("00000096385074", e8.gs1.at("01").c_str());
  auto bad = agent::decode_scan("]E04006381333932");
  STRCMP_EQUAL("ean: check digit at byte 15 is 2, expected 1", bad.error.c_str());
}

TEST(ScanDecode, ControlCharactersAndLength) {
  auto d = agent::decode_scan("SN\n1");
  STRCMP_EQUAL("scan: control character 0x0A at byte 2 (only GS, 0x1D, is allowed)", d.error.c_str());
  CHECK(agent::decode_scan("A\x1d"
                           "B")
            .ok());  // GS is data
  agent::DecodeOptions o;
  o.max_length = 4;
  STRCMP_EQUAL("scan: longer than 4 bytes (5)", agent::decode_scan("ABCDE", o).error.c_str());
  STRCMP_EQUAL("scan: empty", agent::decode_scan("").error.c_str());
}

TEST(ScanDecode, UnknownIdentifierIsStrippedAndNamedUnknown) {
  auto d = agent::decode_scan("]Y9DATA");
  CHECK_TRUE(d.ok());
  STRCMP_EQUAL("]Y9", d.symbology.c_str());
  STRCMP_EQUAL("unknown symbology", d.symbology_name.c_str());
  STRCMP_EQUAL("DATA", d.data.c_str());
}

TEST(ScanDecode, JsonOutput) {
  auto d = agent::decode_scan(
      "]d2\x1d"
      "0109501101530003"
      "21SN-1");
  STRCMP_EQUAL(
      "{\"raw\":\"]d2\\u001d010950110153000321SN-1\",\"symbology\":\"]d2\",\"symbology_name\":\"GS1 "
      "DataMatrix\",\"gs1\":{\"01\":\"09501101530003\",\"21\":\"SN-1\"}}",
      agent::to_json(d).c_str());
  auto e = agent::decode_scan("A\x01");
  STRCMP_CONTAINS("\"error\":\"scan: control character 0x01", agent::to_json(e).c_str());
}
