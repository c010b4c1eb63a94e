// SPDX-License-Identifier: Apache-2.0
// agent/reading/number_text: the snprintf/strtod replacements must give what the <charconv>
// calls they replace give (the test may use <charconv>; production code does not, issue 17):
// shortest and fixed formatting of edge values, every power of two and its neighbours,
// powers of ten, random bit patterns and random readings; parsing of edge strings and of
// random strings over the characters a number is made of.
#include "agent/reading/number_text.hpp"

#include <CppUTest/TestHarness.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace {

std::string to_chars_general(double v) {
  char b[64];
  auto r = std::to_chars(b, b + sizeof b, v, std::chars_format::general);
  return r.ec == std::errc() ? std::string(b, r.ptr) : std::string();
}

std::string to_chars_fixed(double v, int places) {
  char b[64];
  auto r = std::to_chars(b, b + sizeof b, v, std::chars_format::fixed, places);
  return r.ec == std::errc() ? std::string(b, r.ptr) : std::string();
}

std::string hex(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%a", v);
  return b;
}

void check_format(double v) {
  STRCMP_EQUAL_TEXT(to_chars_general(v).c_str(), agent::format_shortest(v).c_str(), hex(v).c_str());
  for (int places = 0; places <= 12; ++places) {
    STRCMP_EQUAL_TEXT(to_chars_fixed(v, places).c_str(), agent::format_fixed(v, places).c_str(),
                      (hex(v) + " places " + std::to_string(places)).c_str());
  }
}

void check_parse(const std::string& s) {
  double want = -7.0;
  double got = -7.0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), want);
  const bool want_ok = r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(want);
  const bool got_ok = agent::parse_double(s, got);
  CHECK_EQUAL_TEXT(want_ok, got_ok, ("'" + s + "'").c_str());
  if (want_ok) {
    CHECK_TEXT(std::memcmp(&want, &got, sizeof want) == 0,
               ("'" + s + "': " + hex(want) + " vs " + hex(got)).c_str());
  }
}

double from_bits(std::uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace

TEST_GROUP(NumberText){};

TEST(NumberText, ShortestUsesPrintfGStyleWithPrecisionSix) {
  STRCMP_EQUAL("0", agent::format_shortest(0.0).c_str());
  STRCMP_EQUAL("-0", agent::format_shortest(-0.0).c_str());
  STRCMP_EQUAL("0.1", agent::format_shortest(0.1).c_str());
  STRCMP_EQUAL("100000", agent::format_shortest(100000.0).c_str());
  STRCMP_EQUAL("1e+06", agent::format_shortest(1e6).c_str());
  STRCMP_EQUAL("1.234567e+06", agent::format_shortest(1234567.0).c_str());
  STRCMP_EQUAL("0.0001", agent::format_shortest(1e-4).c_str());
  STRCMP_EQUAL("1e-05", agent::format_shortest(1e-5).c_str());
  STRCMP_EQUAL("1.5e-07", agent::format_shortest(1.5e-7).c_str());
  STRCMP_EQUAL("1e+21", agent::format_shortest(1e21).c_str());
  STRCMP_EQUAL("1.2345678901234568e+20", agent::format_shortest(123456789012345680000.0).c_str());
  STRCMP_EQUAL("5e-324", agent::format_shortest(5e-324).c_str());
  STRCMP_EQUAL("1.7976931348623157e+308", agent::format_shortest(1.7976931348623157e308).c_str());
  STRCMP_EQUAL("", agent::format_shortest(std::numeric_limits<double>::infinity()).c_str());
  STRCMP_EQUAL("", agent::format_shortest(std::numeric_limits<double>::quiet_NaN()).c_str());
}

TEST(NumberText, FixedRoundsCorrectlyAndRefusesWhatDoesNotFit64Bytes) {
  STRCMP_EQUAL("2.67", agent::format_fixed(2.675, 2).c_str());  // 2.67499999... in binary
  STRCMP_EQUAL("-0.00", agent::format_fixed(-0.0, 2).c_str());
  check_format(0.5);  // an exact tie
  check_format(2.5);
  STRCMP_EQUAL("", agent::format_fixed(1e300, 12).c_str());
  // 51 integer digits + '.' + 12 places = 64 characters: fits exactly, as in to_chars.
  check_format(1e50);
  check_format(9e50);
  check_format(-1e50);
  check_format(1e51);
}

TEST(NumberText, FormatsLikeToCharsOnEdgesPowersAndRandomDoubles) {
  const double edges[] = {0.0,
                          -0.0,
                          1e21,
                          1e-5,
                          123456789012345680000.0,
                          0.1,
                          5e-324,
                          1e-310,
                          1e15,
                          1e16,
                          1.7976931348623157e308,
                          9.9e37,
                          9.91e37,
                          1e22,
                          2e16,
                          0.0001234,
                          12.345,
                          -3.25e10};
  for (double v : edges) {
    check_format(v);
    check_format(-v);
  }
  for (int e = -1074; e <= 1023; ++e) {  // lopsided rounding intervals
    const double v = std::ldexp(1.0, e);
    check_format(v);
    check_format(std::nextafter(v, 0.0));
    check_format(std::nextafter(v, HUGE_VAL));
  }
  for (double p = 1; p < 1e300; p *= 10) {
    check_format(p);
    check_format(std::nextafter(p, 0.0));
    check_format(std::nextafter(p, HUGE_VAL));
  }
  std::mt19937_64 rng(17);
  for (int i = 0; i < 3000; ++i) {
    const double v = from_bits(rng());
    if (std::isfinite(v)) {
      check_format(v);
    }
  }
  std::uniform_real_distribution<double> reading(-1e6, 1e6);
  for (int i = 0; i < 3000; ++i) {
    check_format(reading(rng));
    check_format(std::round(reading(rng) * 1000) / 1000);
  }
}

TEST(NumberText, ParsesWhatFromCharsParses) {
  const char* cases[] = {"",
                         "-",
                         ".",
                         "-.",
                         "1",
                         "-1",
                         "+1",
                         " 1",
                         "1 ",
                         "\t1",
                         "0x1p3",
                         "0X10",
                         "1e5",
                         "1E5",
                         "1e",
                         "1e+",
                         "1e-",
                         "1.",
                         "-1.",
                         ".5",
                         "-.5",
                         "1.e5",
                         ".e5",
                         "e5",
                         "1e400",
                         "-1e400",
                         "1e-400",
                         "4e-320",
                         "1e-310",
                         "2.4703282292062327e-324",
                         "2.4703282292062328e-324",
                         "0e999999",
                         "0e-999999",
                         "1e-99999999999999999999",
                         "1e99999999999999999999",
                         "00012.5000",
                         "1..2",
                         "1e5e5",
                         "--1",
                         "-+1",
                         "1-",
                         "12.34.5",
                         "0.0",
                         "-0",
                         "-0.0",
                         "123456789012345678901234567890",
                         "1.7976931348623157e308",
                         "1.7976931348623159e308",
                         "9.9E37",
                         "1,5"};
  for (const char* s : cases) {
    check_parse(s);
  }
  std::mt19937_64 rng(17);
  const char alphabet[] = "0123456789.-+eE";
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    for (std::uint64_t n = 1 + rng() % 12; n > 0; --n) {
      s += alphabet[rng() % (sizeof alphabet - 1)];
    }
    check_parse(s);
  }
  for (int i = 0; i < 3000; ++i) {
    const double v = from_bits(rng());
    if (std::isfinite(v)) {
      char b[40];
      std::snprintf(b, sizeof b, "%.*g", static_cast<int>(1 + rng() % 17), v);
      check_parse(b);
    }
  }
}

TEST(NumberText, RefusesInfinityAndNanWhichFromCharsWouldRead) {
  double v = 1.0;
  CHECK_FALSE(agent::parse_double("inf", v));
  CHECK_FALSE(agent::parse_double("-infinity", v));
  CHECK_FALSE(agent::parse_double("nan", v));
  DOUBLES_EQUAL(1.0, v, 0.0);
}
