// SPDX-License-Identifier: Apache-2.0
// Profile keys of instrument inputs, reading rules and the read action: what is accepted, and
// every refusal with its JSON path.
#include <CppUTest/TestHarness.h>

#include <string>

#include "agent/profile/profile.hpp"

namespace {

std::string with(const std::string& scale, const std::string& rules = "") {
  return R"({"inputs": {"scanner": {"type": "sim"}, "scale": )" + scale +
         R"(}, "outputs": {"red": {"type": "sim"}}, "rules": [)" +
         (rules.empty()
              ? R"({"on": "scale", "event": "reading", "do": [{"set": "last", "to": "{reading.value}"}]})"
              : rules) +
         "]}";
}

std::string errors(const std::string& text) {
  auto p = agent::parse_profile(text, "p.json");
  CHECK_TEXT(!p.ok(), ("unexpectedly valid: " + text).c_str());
  return p.error().what;
}

void expect_error(const std::string& text, const std::string& needle) {
  std::string e = errors(text);
  CHECK_TEXT(e.find(needle) != std::string::npos, ("expected '" + needle + "' in:\n" + e).c_str());
}

agent::Profile valid(const std::string& text) {
  auto p = agent::parse_profile(text, "p.json");
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
  return std::move(p).value();
}

}  // namespace

TEST_GROUP(InstrumentProfile){};

TEST(InstrumentProfile, SerialQueryScale) {
  auto p = valid(with(R"({"type": "instrument", "port": "/dev/ttyUSB0", "baud": 9600, "mode": "query",
                          "command": "SI", "timeout_ms": 1500, "dialect": "mt-sics", "unit": "g",
                          "min": 12, "max": 12.5, "stable_only": false})"));
  const agent::InputSpec* s = p.input("scale");
  CHECK(s != nullptr && s->is_instrument());
  STRCMP_EQUAL("/dev/ttyUSB0", s->device.c_str());
  STRCMP_EQUAL("query", s->mode.c_str());
  STRCMP_EQUAL("SI", s->command.c_str());
  CHECK_EQUAL(1500, s->timeout_ms);
  DOUBLES_EQUAL(12.5, s->max.value(), 0);
  CHECK_FALSE(s->stable_only);
  // Default feedback for the new signals, distinct from each other.
  CHECK(p.feedback.count(agent::Signal::out_of_limits) == 1);
  CHECK(p.feedback.count(agent::Signal::bad_reading) == 1);
  CHECK(p.feedback.at(agent::Signal::out_of_limits)[0].pattern !=
        p.feedback.at(agent::Signal::bad_reading)[0].pattern);
}

TEST(InstrumentProfile, TcpStreamWithCustomParse) {
  auto p = valid(with(R"J({"type": "instrument", "tcp": "127.0.0.1:5025", "parse": "T=([-+.0-9]+) ?(.*)",
                          "unit": "Nm"})J"));
  CHECK(p.input("scale")->parse.has_value());
  STRCMP_EQUAL("127.0.0.1:5025", p.input("scale")->tcp.c_str());
}

TEST(InstrumentProfile, Refusals) {
  expect_error(with(R"({"type": "instrument", "dialect": "line"})"),
               "$.inputs.scale: an instrument needs exactly one of 'port'");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "tcp": "h:1", "dialect": "line"})"),
               "exactly one of 'port'");
  expect_error(with(R"({"type": "instrument", "tcp": "nohost", "dialect": "line"})"),
               "$.inputs.scale.tcp: expected host:port");
  expect_error(with(R"({"type": "instrument", "tcp": "h:99999", "dialect": "line"})"), "$.inputs.scale.tcp");
  expect_error(with(R"({"type": "instrument", "tcp": "h:5025", "baud": 9600, "dialect": "line"})"),
               "$.inputs.scale.baud: a serial option");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x"})"), "exactly one of 'dialect'");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "sartorius"})"),
               "$.inputs.scale.dialect: unknown value 'sartorius' (expected mt-sics, scpi, line)");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "parse": "\\d+"})"),
               "$.inputs.scale.parse: bad regex");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "parse": "[0-9]+"})"), "needs a group");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "mode": "query"})"),
               "mode 'query' needs 'command'");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "command": "SI"})"),
               "$.inputs.scale.command: applies to mode 'query' only");
  expect_error(
      with(
          R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "mode": "query", "command": "S\nI"})"),
      "$.inputs.scale.command: expected 1 to 128 printable ASCII");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "interval_ms": 500})"),
               "$.inputs.scale.interval_ms: applies to mode 'query' only");
  expect_error(
      with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "mode": "query", "command": "?",
                        "timeout_ms": 1000, "interval_ms": 1000})"),
      "$.inputs.scale.interval_ms: must be longer than timeout_ms (1000)");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "min": "1"})"),
               "$.inputs.scale.min: expected a number");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "min": 2, "max": 1})"),
               "$.inputs.scale.min: greater than 'max'");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "stable_only": true})"),
               "$.inputs.scale.stable_only: applies to dialect 'mt-sics' only");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "unit": "1 g"})"),
               "$.inputs.scale.unit");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "grab": true})"),
               "$.inputs.scale.grab: not a key for type 'instrument'");
  expect_error(with(R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "terminator": "none"})"),
               "$.inputs.scale.terminator: unknown value 'none' (expected cr, lf, crlf)");
}

TEST(InstrumentProfile, ReadingRulesAndReadActions) {
  const std::string stream = R"({"type": "instrument", "port": "/dev/x", "dialect": "line"})";
  const std::string query =
      R"({"type": "instrument", "port": "/dev/x", "dialect": "line", "mode": "query", "command": "?"})";
  expect_error(with(stream, R"({"on": "scale", "do": [{"set": "a", "to": "x"}]})"),
               "$.rules[0].on: an instrument input sends 'reading'");
  expect_error(with(stream, R"({"on": "scanner", "do": [{"set": "a", "to": "{reading.value}"}]})"),
               "$.rules[0].do[0].to: bad template: {reading.value} needs a reading rule");
  expect_error(with(stream, R"({"on": "scanner", "do": [{"read": "scale"}]})"),
               "$.rules[0].do[0].read: instrument 'scale' is mode 'stream'");
  expect_error(with(query, R"({"on": "scanner", "do": [{"read": "nope"}]})"),
               "$.rules[0].do[0].read: unknown instrument 'nope'");
  expect_error(with(query, R"({"on": "scanner", "do": [{"read": "scale", "to": "x"}]})"),
               "$.rules[0].do[0].to: unknown key");
  auto p = valid(with(query, R"({"on": "scanner", "do": [{"read": "scale"}]})"));
  CHECK(p.rules[0].actions[0].kind == agent::Action::Kind::read);
  STRCMP_EQUAL("scale", p.rules[0].actions[0].key.c_str());
  expect_error(R"({"inputs": {"s": {"type": "sim"}}, "rules": [{"on": "s", "do": [{"clear": "*"}]}],
                   "feedback": {"out_of_limit": {}}})",
               "out_of_limits, bad_reading");
}
