// SPDX-License-Identifier: Apache-2.0
// Instrument replies (agent/reading): the presets (MT-SICS stable/dynamic/errors, SCPI
// numeric and its overflow/NaN codes, plain `number [unit]`), a custom ERE, unit checks and
// conversions, and garbage that must never become a value.
#include "agent/reading/reading.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

namespace {

agent::ReadingParser parser(const std::string& dialect, const std::string& unit = "",
                            bool stable_only = true) {
  agent::DialectOptions o;
  o.dialect = dialect;
  o.unit = unit;
  o.stable_only = stable_only;
  auto p = agent::ReadingParser::create(o);
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
  return std::move(p).value();
}

agent::Reading accepted(const agent::ReadingParser& p, const std::string& line) {
  auto r = p.parse(line);
  CHECK_TEXT(r.ok(), ("'" + line + "': " + (r.ok() ? "" : r.error().what)).c_str());
  return std::move(r).value();
}

std::string refused(const agent::ReadingParser& p, const std::string& line) {
  auto r = p.parse(line);
  CHECK_TEXT(!r.ok(), ("'" + line + "' unexpectedly accepted as " + (r.ok() ? r->text : "")).c_str());
  CHECK(r.error().code == hal::Errc::parse);
  return r.error().what;
}

void expect_refused(const agent::ReadingParser& p, const std::string& line, const std::string& why) {
  std::string got = refused(p, line);
  CHECK_TEXT(got.find(why) != std::string::npos, ("expected '" + why + "' in: " + got).c_str());
}

}  // namespace

TEST_GROUP(Reading){};

TEST(Reading, MtSicsStableWeight) {
  auto p = parser("mt-sics", "g");
  auto r = accepted(p, "S S     12.345 g");
  STRCMP_EQUAL("12.345", r.text.c_str());
  STRCMP_EQUAL("g", r.unit.c_str());
  DOUBLES_EQUAL(12.345, r.value, 1e-12);
  CHECK(r.stable);
  STRCMP_EQUAL("-0.120", accepted(p, "S S     -0.120 g").text.c_str());
}

TEST(Reading, MtSicsDynamicRefusedUnlessAllowed) {
  expect_refused(parser("mt-sics", "g"), "S D     12.345 g", "unstable");
  auto r = accepted(parser("mt-sics", "g", false), "S D     12.345 g");
  CHECK_FALSE(r.stable);
  STRCMP_EQUAL("12.345", r.text.c_str());
}

TEST(Reading, MtSicsErrorsRefusedWithTheirReason) {
  auto p = parser("mt-sics", "g");
  expect_refused(p, "S +", "overload");
  expect_refused(p, "S -", "underload");
  expect_refused(p, "S I", "busy");
  expect_refused(p, "ES", "syntax error");
  expect_refused(p, "ET", "transmission error");
  expect_refused(p, "EL", "logical error");
}

TEST(Reading, MtSicsConvertsKilogramsToGrams) {
  auto r = accepted(parser("mt-sics", "g"), "S S      0.012345 kg");
  STRCMP_EQUAL("12.345", r.text.c_str());
  DOUBLES_EQUAL(12.345, r.value, 1e-9);
  STRCMP_EQUAL("g", r.unit.c_str());
  STRCMP_EQUAL("1.200", accepted(parser("mt-sics", "kg"), "S S   1200 g").text.c_str());
}

TEST(Reading, MtSicsWrongUnitRefused) {
  expect_refused(parser("mt-sics", "g"), "S S     12.345 N", "unit 'N', expected 'g'");
  expect_refused(parser("mt-sics", "g"), "S S     12.345 pcs", "unit 'pcs'");
}

TEST(Reading, ScpiNumbers) {
  auto p = parser("scpi", "V");
  auto r = accepted(p, "+1.21000E+01");
  DOUBLES_EQUAL(12.1, r.value, 1e-12);
  STRCMP_EQUAL("12.1", r.text.c_str());
  STRCMP_EQUAL("V", r.unit.c_str());
  STRCMP_EQUAL("-0.5", accepted(p, "-0.5").text.c_str());
  STRCMP_EQUAL("0.5", accepted(p, " .5 ").text.c_str());
  expect_refused(p, "+9.90000E+37", "overflow");
  expect_refused(p, "+9.91000E+37", "not a number");
  expect_refused(p, "-113,\"Undefined header\"", "not understood");
}

TEST(Reading, LineNumberAndUnit) {
  auto p = parser("line", "mm");
  STRCMP_EQUAL("12.50", accepted(p, "12.50 mm").text.c_str());
  STRCMP_EQUAL("12.50", accepted(p, "+12.50mm").text.c_str());
  STRCMP_EQUAL("7", accepted(p, "7").text.c_str());  // no unit: the expected one
  STRCMP_EQUAL("mm", accepted(p, "7").unit.c_str());
  auto cm = accepted(p, "1.25 cm");
  STRCMP_EQUAL("12.5", cm.text.c_str());
  expect_refused(p, "12.5 kg", "unit 'kg'");
}

TEST(Reading, UnitFactors) {
  DOUBLES_EQUAL(1000.0, agent::unit_factor("kg", "g").value(), 1e-9);
  DOUBLES_EQUAL(0.01, agent::unit_factor("cN\xC2\xB7m", "N\xC2\xB7m").value(), 1e-12);
  DOUBLES_EQUAL(0.01, agent::unit_factor("cNm", "Nm").value(), 1e-12);
  DOUBLES_EQUAL(0.001, agent::unit_factor("mV", "V").value(), 1e-12);
  DOUBLES_EQUAL(1.0, agent::unit_factor("pcs", "pcs").value(), 0);
  CHECK_FALSE(agent::unit_factor("g", "V").has_value());
  CHECK_FALSE(agent::unit_factor("g", "pcs").has_value());
}

TEST(Reading, TorqueAndVoltageConversions) {
  STRCMP_EQUAL("1.25", accepted(parser("line", "N\xC2\xB7m"), "125 cN\xC2\xB7m").text.c_str());
  STRCMP_EQUAL("0.0121", accepted(parser("line", "V"), "12.1 mV").text.c_str());
  STRCMP_EQUAL("12100", accepted(parser("line", "mV"), "12.1 V").text.c_str());
}

TEST(Reading, CustomParse) {
  agent::DialectOptions o;
  o.parse = agent::Regex::compile("T=([-+.0-9]+) ?([A-Za-z]*)").value();
  o.unit = "Nm";
  auto p = agent::ReadingParser::create(o).value();
  STRCMP_EQUAL("1.5", accepted(p, "T=1.5 Nm").text.c_str());
  STRCMP_EQUAL("1.50", accepted(p, "T=150 cNm").text.c_str());  // 1 cNm resolution
  STRCMP_EQUAL("1.5", accepted(p, "T=1.5").text.c_str());
  expect_refused(p, "T=1.2.3 Nm", "no number");
  expect_refused(p, "T=. Nm", "no number");
  expect_refused(p, "X=1", "not understood");
}

TEST(Reading, CustomParseNeedsAValueGroup) {
  agent::DialectOptions o;
  o.parse = agent::Regex::compile("[0-9]+").value();
  CHECK_FALSE(agent::ReadingParser::create(o).ok());
  agent::DialectOptions none;
  CHECK_FALSE(agent::ReadingParser::create(none).ok());
  agent::DialectOptions bad;
  bad.dialect = "sartorius";
  auto r = agent::ReadingParser::create(bad);
  CHECK_FALSE(r.ok());
  CHECK(r.error().what.find("mt-sics, scpi, line") != std::string::npos);
}

TEST(Reading, GarbageNeverBecomesAValue) {
  for (const char* d : {"mt-sics", "scpi", "line"}) {
    auto p = parser(d, "g");
    refused(p, "");
    refused(p, "S S");
    refused(p, "S S     12.3");          // half a line
    refused(p, "S S     12.345 g\x01");  // control character
    refused(p, std::string("12\0"
                           "5 g",
                           6));
    refused(p, "1e999999 g");
    refused(p, std::string(300, '1'));
    refused(p, "nan");
    refused(p, "inf g");
    refused(p, "--1 g");
  }
}
