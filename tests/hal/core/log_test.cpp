// SPDX-License-Identifier: Apache-2.0
#include "hal/log.hpp"

#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

namespace {
std::vector<std::string> g_lines;
void capture(hal::log::Level, std::string_view line) {
  g_lines.emplace_back(line);
}
}  // namespace

TEST_GROUP(Log) {
  hal::log::Level saved{};
  void setup() override {
    saved = hal::log::level();
    g_lines.clear();
    hal::log::set_sink(capture);
  }
  void teardown() override {
    hal::log::set_sink(nullptr);
    hal::log::set_level(saved);
  }
};

TEST(Log, PrefixesSyslogPriorityAndModule) {
  hal::log::set_level(hal::log::Level::debug);
  hal::log::warning("outbox", "queue 90% full");
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL("<4>outbox: queue 90% full\n", g_lines[0].c_str());
}

TEST(Log, DropsMessagesBelowTheLevel) {
  hal::log::set_level(hal::log::Level::notice);
  hal::log::info("x", "hidden");
  hal::log::debug("x", "hidden");
  hal::log::error("x", "shown");
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL("<3>x: shown\n", g_lines[0].c_str());
}

TEST(Log, NewlinesCannotForgeASecondLine) {
  hal::log::set_level(hal::log::Level::info);
  hal::log::info("scan", "SN-1\n<3>fake: injected");
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL("<6>scan: SN-1 <3>fake: injected\n", g_lines[0].c_str());
}

TEST(Log, WriteLinesSplitsAsGetlineDoes) {
  hal::log::set_level(hal::log::Level::info);
  hal::log::write_lines(hal::log::Level::error, "config", "a.json: bad\n\nlast\n");
  hal::log::write_lines(hal::log::Level::error, "config", "");
  hal::log::write_lines(hal::log::Level::error, "config", "no newline");
  LONGS_EQUAL(4, g_lines.size());
  STRCMP_EQUAL("<3>config: a.json: bad\n", g_lines[0].c_str());
  STRCMP_EQUAL("<3>config: \n", g_lines[1].c_str());
  STRCMP_EQUAL("<3>config: last\n", g_lines[2].c_str());
  STRCMP_EQUAL("<3>config: no newline\n", g_lines[3].c_str());
}

TEST(Log, ParsesLevelNames) {
  hal::log::Level l{};
  CHECK_TRUE(hal::log::parse_level("debug", l));
  CHECK(l == hal::log::Level::debug);
  CHECK_FALSE(hal::log::parse_level("verbose", l));
}

TEST(Log, EscapesControlCharactersAndInvalidUtf8FromOutside) {
  hal::log::set_level(hal::log::Level::info);
  hal::log::info("station", std::string("scan \"\x1b[2J\x1b]0;pwned\x07") + std::string(1, '\0') +
                                "\xff\xc3\x28 \xc3\xa9\"");
  LONGS_EQUAL(1, g_lines.size());
  STRCMP_EQUAL("<6>station: scan \"\\x1b[2J\\x1b]0;pwned\\x07\\x00\\xff\\xc3( \xc3\xa9\"\n",
               g_lines[0].c_str());
}
