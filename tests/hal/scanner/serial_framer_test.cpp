// SPDX-License-Identifier: Apache-2.0
#include "hal/serial_framer.hpp"

#include <CppUTest/TestHarness.h>

#include <chrono>

#include "hal/backoff.hpp"

using namespace std::chrono_literals;
using T = hal::SerialFramerOptions::Terminator;

namespace {
hal::SerialFramerOptions opts(T t, std::size_t max = 1024) {
  hal::SerialFramerOptions o;
  o.terminator = t;
  o.max_length = max;
  return o;
}
const hal::Clock::MonoTime kT0{std::chrono::seconds(100)};
}  // namespace

TEST_GROUP(SerialFramer) {
  std::vector<hal::ScanRead> out;
};

TEST(SerialFramer, CrEndsScansAndToleratesCrLf) {
  hal::SerialFramer f(opts(T::cr));
  f.feed("SN-1\rSN-2\r\nSN-", kT0, out);
  f.feed("3\r", kT0 + 1ms, out);
  LONGS_EQUAL(3, out.size());
  STRCMP_EQUAL("SN-1", out[0].text.c_str());
  STRCMP_EQUAL("SN-2", out[1].text.c_str());
  STRCMP_EQUAL("SN-3", out[2].text.c_str());
  STRCMP_EQUAL("", out[2].error.c_str());
}

TEST(SerialFramer, LfModeRejectsCr) {
  hal::SerialFramer f(opts(T::lf));
  f.feed("AB\n", kT0, out);
  f.feed("C\rD\n", kT0, out);
  LONGS_EQUAL(2, out.size());
  STRCMP_EQUAL("AB", out[0].text.c_str());
  STRCMP_EQUAL("C", out[1].text.c_str());
  STRCMP_CONTAINS("control character 0x0D at byte 1", out[1].error.c_str());
}

TEST(SerialFramer, CrLfSplitAcrossReads) {
  hal::SerialFramer f(opts(T::crlf));
  f.feed(
      "0109501101530003\x1d"
      "21X\r",
      kT0, out);
  LONGS_EQUAL(0, out.size());
  f.feed("\nLONE\rCR\r\n", kT0 + 1ms, out);
  LONGS_EQUAL(2, out.size());
  STRCMP_EQUAL(
      "0109501101530003\x1d"
      "21X",
      out[0].text.c_str());
  STRCMP_EQUAL("", out[0].error.c_str());
  STRCMP_CONTAINS("control character 0x0D at byte 4", out[1].error.c_str());
}

TEST(SerialFramer, NoneEndsOnGap) {
  hal::SerialFramer f(opts(T::none));
  f.feed("ABC", kT0, out);
  f.feed("DEF", kT0 + 10ms, out);
  LONGS_EQUAL(0, out.size());
  f.feed("GHI", kT0 + 400ms, out);
  LONGS_EQUAL(1, out.size());
  STRCMP_EQUAL("ABCDEF", out[0].text.c_str());
  CHECK(f.pending());
  f.flush_idle(out);
  STRCMP_EQUAL("GHI", out[1].text.c_str());
  STRCMP_EQUAL("", out[1].error.c_str());
}

TEST(SerialFramer, StalledScanIsIncomplete) {
  hal::SerialFramer f(opts(T::cr));
  f.feed("SN-00", kT0, out);
  f.feed("SN-2\r", kT0 + 1s, out);
  LONGS_EQUAL(2, out.size());
  STRCMP_EQUAL("SN-00", out[0].text.c_str());
  STRCMP_CONTAINS("incomplete read", out[0].error.c_str());
  STRCMP_EQUAL("SN-2", out[1].text.c_str());
}

TEST(SerialFramer, TooLongAndEmptyLines) {
  hal::SerialFramer f(opts(T::lf, 3));
  f.feed("\n\nABCDE\nXY\n", kT0, out);
  LONGS_EQUAL(2, out.size());
  STRCMP_EQUAL("ABC", out[0].text.c_str());
  STRCMP_CONTAINS("longer than 3 bytes", out[0].error.c_str());
  STRCMP_EQUAL("XY", out[1].text.c_str());
}

TEST(SerialFramer, TerminatorNames) {
  CHECK(hal::parse_serial_terminator("crlf").value() == T::crlf);
  CHECK_FALSE(hal::parse_serial_terminator("enter").ok());
}

TEST_GROUP(Backoff){};

TEST(Backoff, DoublesUpToMaxAndResets) {
  hal::Backoff b(100ms, 350ms);
  CHECK(b.next() == 100ms);
  CHECK(b.next() == 200ms);
  CHECK(b.next() == 350ms);
  CHECK(b.next() == 350ms);
  b.reset();
  CHECK(b.next() == 100ms);
}
