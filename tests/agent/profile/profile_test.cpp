// SPDX-License-Identifier: Apache-2.0
// Station profile validation: every error kind is reported with the file, the exact JSON path
// and the reason, and all errors are reported together.
#include "agent/profile/profile.hpp"

#include <CppUTest/TestHarness.h>

#include <string>

namespace {

// A valid assembly-station profile; tests replace one piece of it.
const char* kValid = R"({
  "station": "assembly-1",
  "ion": {"ca_file": "/etc/ssl/ca.pem", "timeout_ms": 20000},
  "inputs": {
    "scanner": {"type": "evdev", "device": "/dev/input/event3", "grab": true},
    "pass": {"type": "gpio", "chip": "gpiochip0", "line": 17, "active_low": true},
    "fail": {"type": "gpio", "chip": "gpiochip0", "line": 27}
  },
  "outputs": {"green": {"chip": "gpiochip0", "line": 22}, "red": {"chip": "gpiochip0", "line": 23}},
  "rules": [
    {"on": "scanner", "match": "^SN-([0-9]{6})$", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "12", "title": "Assembly {match.1}"},
      {"intent": "step.status", "status": "IN_PROGRESS"}]},
    {"on": "pass", "event": "press", "do": [{"intent": "step.status", "status": "COMPLETE"}]},
    {"on": "fail", "event": "press", "do": [
      {"intent": "step.status", "status": "FAILED"},
      {"intent": "issue.create", "text": "Failed at {station}: {unit.serial}"}]}
  ],
  "feedback": {"accepted": {"green": "pulse 250ms"}},
  "logging": {"level": "debug"},
  "metrics": {"textfile": "/tmp/ion.prom", "interval_s": 5}
})";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  CHECK_TEXT(pos != std::string::npos, ("test bug: no '" + from + "' in profile").c_str());
  return text.replace(pos, from.size(), to);
}

std::string errors_of(const std::string& text) {
  auto p = agent::parse_profile(text, "st.json");
  CHECK_TEXT(!p.ok(), "profile unexpectedly valid");
  CHECK(p.error().code == hal::Errc::config);
  return p.error().what;
}

void expect_error(const std::string& text, const std::string& expected) {
  std::string all = errors_of(text);
  CHECK_TEXT(all.find(expected) != std::string::npos, ("expected '" + expected + "' in:\n" + all).c_str());
}

int lines(const std::string& s) {
  int n = 1;
  for (char c : s)
    n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace

TEST_GROUP(Profile){};

TEST(Profile, ValidProfileLoadsEveryPart) {
  auto p = agent::parse_profile(kValid, "st.json");
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
  STRCMP_EQUAL("assembly-1", p->station.c_str());
  LONGS_EQUAL(3, p->inputs.size());
  CHECK(p->input("pass")->type == agent::InputSpec::Type::gpio);
  LONGS_EQUAL(17, p->input("pass")->line);
  CHECK(p->input("pass")->active_low);
  LONGS_EQUAL(3, p->rules.size());
  LONGS_EQUAL(3, p->rules[0].actions.size());
  STRCMP_EQUAL("run.ensure", p->rules[0].actions[1].intent_kind.c_str());
  STRCMP_EQUAL("{\"procedureId\":\"12\",\"title\":\"Assembly {match.1}\"}",
               p->rules[0].actions[1].inputs_json.c_str());
  LONGS_EQUAL(20000, p->ion.timeout_ms);
  CHECK(p->log_level == hal::log::Level::debug);
  LONGS_EQUAL(5, p->metrics.interval_s);
  // Given feedback wins; the rest comes from the green/red defaults, all distinct.
  STRCMP_EQUAL("pulse 250ms", p->feedback.at(agent::Signal::accepted)[0].pattern.c_str());
  CHECK(p->feedback.at(agent::Signal::no_unit)[0].pattern !=
        p->feedback.at(agent::Signal::bad_scan)[0].pattern);
  CHECK(p->feedback.at(agent::Signal::queue_full)[0].pattern !=
        p->feedback.at(agent::Signal::no_unit)[0].pattern);
}

TEST(Profile, UnknownKeyNamesPathAndTheExpectedKeys) {
  expect_error(replace(kValid, "\"grab\": true", "\"grabb\": true"),
               "st.json: $.inputs.scanner.grabb: unknown key (expected one of: type,");
  expect_error(replace(kValid, "\"station\"", "\"stationn\""), "st.json: $.stationn: unknown key");
}

TEST(Profile, WrongTypeNamesBothTypes) {
  expect_error(replace(kValid, "\"timeout_ms\": 20000", "\"timeout_ms\": \"20000\""),
               "st.json: $.ion.timeout_ms: expected an integer, got a string");
  expect_error(replace(kValid, "\"grab\": true", "\"grab\": 1"),
               "st.json: $.inputs.scanner.grab: expected true or false, got a number");
  expect_error(replace(kValid, "\"interval_s\": 5", "\"interval_s\": 1.5"),
               "st.json: $.metrics.interval_s: expected an integer, got a number");
}

TEST(Profile, OutOfRangeIntegerIsRefused) {
  expect_error(replace(kValid, "\"interval_s\": 5", "\"interval_s\": 0"),
               "st.json: $.metrics.interval_s: out of range (1 to 3600): 0");
}

TEST(Profile, BadRegexIsReportedAtItsRule) {
  expect_error(replace(kValid, "^SN-([0-9]{6})$", "^SN-([0-9]{6}$"),
               "st.json: $.rules[0].match: bad regex: ");
  // libc's own text follows (glibc: "Unmatched ( or \\(", musl: "Missing ')'").
  std::string all = errors_of(replace(kValid, "^SN-([0-9]{6})$", "^SN-([0-9]{6}$"));
  CHECK_TEXT(all.size() > all.find("bad regex: ") + 12, all.c_str());
}

TEST(Profile, EcmaScriptOnlyRegexIsRefusedWithTheEreSpelling) {
  expect_error(replace(kValid, "^SN-([0-9]{6})$", "^SN-(\\\\d{6})$"),
               "st.json: $.rules[0].match: bad regex: at offset 5: \\d is not POSIX ERE; use [0-9]");
  expect_error(replace(kValid, "^SN-([0-9]{6})$", "^SN-(?:[0-9]{6})$"),
               "st.json: $.rules[0].match: bad regex: at offset 4: (?...) groups");
}

TEST(Profile, MatchGroupsAreCountedForTemplates) {
  // Two groups: {match.2} is fine, {match.3} names no group.
  std::string two = replace(kValid, "^SN-([0-9]{6})$", "^SN-([0-9]{3})([0-9]{3})$");
  auto p = agent::parse_profile(replace(two, "Assembly {match.1}", "Assembly {match.2}"), "st.json");
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
  LONGS_EQUAL(2, p->rules[0].match->groups());
  CHECK(p->rules[0].match->full_match("SN-123456"));
  expect_error(replace(two, "Assembly {match.1}", "Assembly {match.3}"),
               "st.json: $.rules[0].do[1].title: bad template: {match.3} names no group");
}

TEST(Profile, NamesKeysAndAisAreCheckedByShape) {
  expect_error(replace(kValid, "\"fail\": {\"type\"", "\"9fail\": {\"type\""),
               "st.json: $.inputs.9fail: bad input name");
  expect_error(replace(kValid, "\"fail\": {\"type\"", "\"f.ail\": {\"type\""),
               "st.json: $.inputs.f.ail: bad input name");
  expect_error(replace(kValid, "\"fail\": {\"type\"", "\"" + std::string(33, 'f') + "\": {\"type\""),
               "bad input name");
  expect_error(replace(kValid, "\"red\": {\"chip\"", "\"-red\": {\"chip\""),
               "st.json: $.outputs.-red: bad output name");
  for (const char* key : {"Unit.serial", "unit..serial", "unit.serial.", ".unit", "unit-serial", "9unit"}) {
    expect_error(replace(kValid, "\"set\": \"unit.serial\"", std::string("\"set\": \"") + key + "\""),
                 "st.json: $.rules[0].do[0].set: bad context key");
  }
  const char* gs1_rule =
      "{\"on\": \"scanner\", \"match\": \"^SN-([0-9]{6})$\", \"gs1\": [\"01\", \"x1\", \"12345\"],";
  std::string all =
      errors_of(replace(kValid, "{\"on\": \"scanner\", \"match\": \"^SN-([0-9]{6})$\",", gs1_rule));
  CHECK_TEXT(all.find("$.rules[0].gs1[0]") == std::string::npos, all.c_str());
  CHECK_TEXT(all.find("$.rules[0].gs1[1]: expected a GS1 application identifier") != std::string::npos,
             all.c_str());
  CHECK_TEXT(all.find("$.rules[0].gs1[2]: expected a GS1 application identifier") != std::string::npos,
             all.c_str());
}

TEST(Profile, ValidShapesAreAccepted) {
  std::string text = replace(kValid, "\"fail\": {\"type\"",
                             "\"" + std::string("F_a-9") + std::string(27, 'x') + "\": {\"type\"");
  text = replace(text, "\"on\": \"fail\"", "\"on\": \"F_a-9" + std::string(27, 'x') + "\"");
  text = replace(text, "{\"set\": \"unit.serial\", \"to\": \"{scan}\"},",
                 "{\"set\": \"unit.serial\", \"to\": \"{scan}\"}, {\"set\": \"unit.serial_2.x9\", \"to\": "
                 "\"{match.1}\"},");
  text = replace(text, "Assembly {match.1}", "Assembly {match.1} {gs1.0123} {unit.serial_2.x9}");
  auto p = agent::parse_profile(text, "st.json");
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
}

TEST(Profile, RuleOnUnknownInput) {
  expect_error(replace(kValid, "\"on\": \"pass\"", "\"on\": \"pedal\""),
               "st.json: $.rules[1].on: unknown input 'pedal'");
}

TEST(Profile, MissingRequiredValues) {
  expect_error(replace(kValid, "\"device\": \"/dev/input/event3\", ", ""),
               "st.json: $.inputs.scanner: missing required key 'device' for type 'evdev'");
  expect_error(replace(kValid, "{\"on\": \"pass\", ", "{"), "st.json: $.rules[1]: missing required key 'on'");
  expect_error(replace(kValid, "\"procedureId\": \"12\", ", ""),
               "st.json: $.rules[0].do[1]: missing required input 'procedureId' for run.ensure");
}

TEST(Profile, UnknownIntentKindListsTheKnownOnes) {
  expect_error(
      replace(kValid, "\"intent\": \"run.ensure\"", "\"intent\": \"run.start\""),
      "st.json: $.rules[0].do[1].intent: unknown intent kind 'run.start' (expected one of: unit.ensure,");
}

TEST(Profile, UnknownIntentInput) {
  expect_error(replace(kValid, "\"status\": \"COMPLETE\"", "\"status\": \"COMPLETE\", \"colour\": \"x\""),
               "st.json: $.rules[1].do[0].colour: unknown input for step.status");
}

TEST(Profile, BadTemplates) {
  expect_error(replace(kValid, "\"to\": \"{scan}\"", "\"to\": \"{scan\""),
               "st.json: $.rules[0].do[0].to: bad template: unterminated '{' at offset 0");
  expect_error(replace(kValid, "Assembly {match.1}", "Assembly {lot}"),
               "st.json: $.rules[0].do[1].title: bad template: unknown variable {lot} (no rule sets it)");
  expect_error(replace(kValid, "Assembly {match.1}", "Assembly {match.2}"),
               "st.json: $.rules[0].do[1].title: bad template: {match.2} names no group");
  expect_error(replace(kValid, "\"status\": \"COMPLETE\"", "\"status\": \"{scan}\""),
               "st.json: $.rules[1].do[0].status: bad template: {scan} needs a scan rule");
}

TEST(Profile, GpioRuleNeedsAnEvent) {
  expect_error(replace(kValid, "\"on\": \"pass\", \"event\": \"press\"", "\"on\": \"pass\""),
               "st.json: $.rules[1].on: a gpio input sends press/release/long_press");
}

TEST(Profile, DuplicateKey) {
  expect_error(replace(kValid, "\"grab\": true", "\"grab\": true, \"grab\": false"),
               "st.json: $.inputs.scanner.grab: duplicate key");
}

TEST(Profile, FeedbackNamesKnownSignalsAndOutputs) {
  expect_error(replace(kValid, "{\"accepted\": {\"green\"", "{\"acepted\": {\"green\""),
               "st.json: $.feedback.acepted: unknown signal");
  expect_error(replace(kValid, "{\"accepted\": {\"green\"", "{\"accepted\": {\"blue\""),
               "st.json: $.feedback.accepted.blue: unknown output 'blue'");
}

TEST(Profile, BadPatternAndBadWords) {
  expect_error(replace(kValid, "\"pulse 250ms\"", "\"pulse 250\""),
               "st.json: $.feedback.accepted.green: bad pattern: ");
  expect_error(replace(kValid, "\"grab\": true", "\"keymap\": \"dvorak\""),
               "st.json: $.inputs.scanner.keymap: unknown value 'dvorak' (expected us, de, fr, uk)");
  expect_error(
      replace(kValid, "\"line\": 17", "\"line\": -3"),
      "st.json: $.inputs.pass.line: expected a line offset (0 to 1023) or a line name, got a number");
  expect_error(replace(kValid, "\"line\": 17", "\"line\": 17, \"baud\": 9600"),
               "st.json: $.inputs.pass.baud: not a key for type 'gpio'");
}

TEST(Profile, UnknownLogLevel) {
  expect_error(replace(kValid, "\"level\": \"debug\"", "\"level\": \"loud\""),
               "st.json: $.logging.level: unknown level");
}

TEST(Profile, EveryErrorIsReportedNotJustTheFirst) {
  std::string text = replace(kValid, "\"grab\": true", "\"grabb\": true");
  text = replace(text, "^SN-([0-9]{6})$", "([");
  text = replace(text, "\"on\": \"pass\"", "\"on\": \"pedal\"");
  text = replace(text, "\"intent\": \"issue.create\"", "\"intent\": \"ncr\"");
  std::string all = errors_of(text);
  LONGS_EQUAL_TEXT(4, lines(all), all.c_str());
  CHECK(all.find("$.inputs.scanner.grabb") != std::string::npos);
  CHECK(all.find("$.rules[0].match") != std::string::npos);
  CHECK(all.find("$.rules[1].on") != std::string::npos);
  CHECK(all.find("$.rules[2].do[1].intent") != std::string::npos);
}

TEST(Profile, JsonSyntaxErrorGivesLineColumnAndByte) {
  std::string text = "{\n  \"station\": \"x\",\n  \"inputs\": {,}\n}";
  std::string all = errors_of(text);
  // The ',' is at 3:14 (byte 33); cJSON stops on it or just after it.
  CHECK_TEXT(all == "st.json:3:14: JSON syntax error (byte 33)" ||
                 all == "st.json:3:15: JSON syntax error (byte 34)",
             all.c_str());
}

TEST(Profile, TrailingGarbageIsASyntaxError) {
  std::string all = errors_of(std::string(kValid) + " x");
  CHECK(all.find("JSON syntax error") != std::string::npos);
}

TEST(Profile, TopLevelMustBeAnObject) {
  STRCMP_EQUAL("st.json: $: expected an object, got an array", errors_of("[]").c_str());
}

TEST(Profile, MissingFileIsAConfigError) {
  auto p = agent::load_profile("/nonexistent/st.json");
  CHECK(!p.ok());
  STRCMP_EQUAL("/nonexistent/st.json: cannot open", p.error().what.c_str());
}

// issue 19: strings ION can never take are refused by `check`, with their JSON path.
TEST(Profile, RefusesNulInAStringValueWithItsPath) {
  expect_error(replace(kValid, "\"Failed at {station}", "\"Failed\\u0000 at {station}"),
               "st.json: $.rules[2].do[1].text: contains a NUL character (byte 6)");
  std::string raw = replace(kValid, "\"assembly-1\"", std::string("\"assembly\0-1\"", 13));
  expect_error(raw, "st.json: $.station: contains a NUL character (byte 8)");
}

TEST(Profile, RefusesInvalidUtf8InValuesAndKeysWithItsPath) {
  expect_error(replace(kValid, "\"Assembly {match.1}\"", "\"Assembly \xff {match.1}\""),
               "st.json: $.rules[0].do[1].title: not valid UTF-8 (byte 9)");
  expect_error(replace(kValid, "\"grab\": true", "\"gr\xc3\x28\": true"),
               "st.json: $.inputs.scanner.gr\\xc3(: key not valid UTF-8 (byte 2)");
}

TEST(Profile, AcceptsUtf8AndEscapedBackslashBeforeU0000) {
  // "\\u0000" is a backslash followed by the text u0000, not a NUL.
  auto p = agent::parse_profile(
      replace(kValid, "\"Failed at {station}", "\"\xc3\xa9\xc3\xa9 \\\\u0000 failed at {station}"),
      "st.json");
  CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
}

TEST(Profile, WatchNetworkIsOnUnlessTurnedOff) {
  auto p = agent::parse_profile(kValid, "st.json");
  CHECK_TRUE(p.ok());
  CHECK_TRUE(p->ion.watch_network);
  auto off = agent::parse_profile(
      replace(kValid, "\"timeout_ms\": 20000", "\"timeout_ms\": 20000, \"watch_network\": false"), "st.json");
  CHECK_TRUE_TEXT(off.ok(), off.ok() ? "" : off.error().what.c_str());
  CHECK_FALSE(off->ion.watch_network);
  expect_error(replace(kValid, "\"timeout_ms\": 20000", "\"timeout_ms\": 20000, \"watch_network\": \"no\""),
               "$.ion.watch_network: expected true or false, got a string");
}
