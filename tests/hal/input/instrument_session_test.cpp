// SPDX-License-Identifier: Apache-2.0
// InstrumentSession: line framing (CR, LF, CR LF), the one outstanding query with its timeout,
// half lines, late replies, over-long lines and a lost connection.
#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "hal/instrument.hpp"

namespace {

using namespace std::chrono_literals;
using hal::StationEvent;

hal::Clock::MonoTime at(int ms) {
  return hal::Clock::MonoTime{} + std::chrono::milliseconds(ms);
}

hal::InstrumentOptions query_options() {
  hal::InstrumentOptions o;
  o.name = "scale";
  o.mode = hal::InstrumentOptions::Mode::query;
  o.command = "SI";
  o.timeout = 500ms;
  o.max_length = 32;
  return o;
}

}  // namespace

TEST_GROUP(InstrumentSession){};

TEST(InstrumentSession, StreamLinesAtAnyLineEnd) {
  hal::InstrumentOptions o;
  o.name = "gauge";
  hal::InstrumentSession s(o);
  std::vector<StationEvent> out;
  s.feed("12.5 mm\r\n\n0.3 mm\r-1", at(0), out);
  s.feed("\n", at(1), out);
  CHECK_EQUAL(3u, out.size());
  STRCMP_EQUAL("12.5 mm", out[0].text.c_str());
  STRCMP_EQUAL("0.3 mm", out[1].text.c_str());
  STRCMP_EQUAL("-1", out[2].text.c_str());
  CHECK(out[0].kind == StationEvent::Kind::reading);
  STRCMP_EQUAL("gauge", out[0].input.c_str());
  std::vector<StationEvent> q;
  CHECK_FALSE(s.start_query(at(2), q).has_value());
  CHECK_EQUAL(1u, q.size());
  CHECK(!q[0].error.empty());
}

TEST(InstrumentSession, QueryReplyAndTimeout) {
  hal::InstrumentSession s(query_options());
  std::vector<StationEvent> out;
  auto cmd = s.start_query(at(0), out);
  CHECK(cmd.has_value());
  STRCMP_EQUAL("SI\r\n", cmd->c_str());
  CHECK(s.deadline() == at(500));
  std::vector<StationEvent> busy;
  CHECK_FALSE(s.start_query(at(10), busy).has_value());  // one at a time
  CHECK(busy[0].error.find("busy") != std::string::npos);
  s.feed("S S     12.345 g\r\n", at(20), out);
  CHECK_EQUAL(1u, out.size());
  STRCMP_EQUAL("S S     12.345 g", out[0].text.c_str());
  CHECK_FALSE(s.waiting());
  // No reply: an error event at the deadline, not before.
  CHECK(s.start_query(at(1000), out).has_value());
  s.on_deadline(at(1499), out);
  CHECK_EQUAL(1u, out.size());
  s.on_deadline(at(1500), out);
  CHECK_EQUAL(2u, out.size());
  STRCMP_EQUAL("no reply within 500 ms", out[1].error.c_str());
  // A late reply after the timeout is dropped, never taken as the answer.
  s.feed("S S     99.000 g\r\n", at(1600), out);
  CHECK_EQUAL(2u, out.size());
}

TEST(InstrumentSession, HalfLineTimesOutAndIsNeverAReply) {
  hal::InstrumentSession s(query_options());
  std::vector<StationEvent> out;
  (void)s.start_query(at(0), out);
  s.feed("S S    12.3", at(10), out);
  s.on_deadline(at(500), out);
  CHECK_EQUAL(1u, out.size());
  CHECK(out[0].error.find("half a line") != std::string::npos);
  CHECK(out[0].text.empty());
  // The tail of the half line comes late: dropped with it.
  (void)s.start_query(at(600), out);
  s.feed("45 g\r\n", at(610), out);
  CHECK_EQUAL(2u, out.size());
  STRCMP_EQUAL("45 g", out[1].text.c_str());  // the parser refuses it; framing cannot know
}

TEST(InstrumentSession, OverlongAndLost) {
  hal::InstrumentSession s(query_options());
  std::vector<StationEvent> out;
  (void)s.start_query(at(0), out);
  s.feed(std::string(100, '7') + "\r\n", at(1), out);
  CHECK_EQUAL(1u, out.size());
  CHECK(out[0].error.find("longer than 32") != std::string::npos);
  (void)s.start_query(at(2), out);
  s.lost("hangup", at(3), out);
  CHECK_EQUAL(2u, out.size());
  CHECK(out[1].error.find("disconnected while waiting") != std::string::npos);
  CHECK_FALSE(s.waiting());
}
