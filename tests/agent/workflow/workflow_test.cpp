// SPDX-License-Identifier: Apache-2.0
// Workflow: tables of (profile, events) -> (intents appended, signal shown, outputs played).
#include "agent/workflow/workflow.hpp"

#include <CppUTest/TestHarness.h>

#include <map>
#include <string>
#include <vector>

namespace {

using Kind = hal::StationEvent::Kind;

// Records appended intents; can be told to refuse the n-th append.
class RecordingSink : public agent::IntentSink {
 public:
  hal::Result<std::string> append(const agent::NewIntent& intent) override {
    if (fail_at_ == static_cast<int>(calls_++)) {
      return hal::Error(fail_code_, "outbox: append: refused by test");
    }
    log.push_back(intent.kind + " " + intent.subject + " " + intent.inputs_json);
    last = intent;
    return "id-" + std::to_string(log.size());
  }
  void fail_next(hal::Errc code, int after = 0) {
    fail_at_ = static_cast<int>(calls_) + after;
    fail_code_ = code;
  }
  std::vector<std::string> log;
  agent::NewIntent last;

 private:
  unsigned calls_ = 0;
  int fail_at_ = -1;
  hal::Errc fail_code_ = hal::Errc::busy;
};

// Test-only GS1 reader for "01<14 digits>21<serial>[GS 10<lot>]" element strings.
std::map<std::string, std::string> test_gs1(const hal::StationEvent& ev) {
  std::map<std::string, std::string> out;
  const std::string& t = ev.text;
  if (t.size() < 18 || t.compare(0, 2, "01") != 0) {
    return out;
  }
  out["01"] = t.substr(2, 14);
  std::size_t i = 16;
  while (i + 2 <= t.size()) {
    std::string ai = t.substr(i, 2);
    std::size_t end = t.find('\x1d', i + 2);
    out[ai] = t.substr(i + 2, end == std::string::npos ? std::string::npos : end - i - 2);
    i = end == std::string::npos ? t.size() : end + 1;
  }
  return out;
}

const char* kAssembly = R"({
  "station": "asm-1",
  "inputs": {"scanner": {"type": "sim"}, "pass": {"type": "sim"}, "fail": {"type": "sim"},
             "done": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}, "buzzer": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^SN-([0-9]{6})$", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "12", "title": "Assembly {match.1}"},
      {"intent": "step.status", "status": "IN_PROGRESS"}]},
    {"on": "scanner", "match": "^OP-[0-9]+$", "do": [{"set": "operator", "to": "{scan}"}]},
    {"on": "pass", "event": "press", "do": [{"intent": "step.status", "status": "COMPLETE"}]},
    {"on": "fail", "event": "press", "do": [
      {"output": "buzzer", "pattern": "pulse 100ms"},
      {"intent": "step.status", "status": "FAILED"},
      {"intent": "issue.create", "text": "Failed at {station} by {operator}"}]},
    {"on": "done", "event": "press", "do": [{"clear": "*"}]}
  ]
})";

const char* kReceiving = R"({
  "inputs": {"scanner": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "gs1": ["01", "21"], "do": [
      {"set": "unit.serial", "to": "{gs1.21}"},
      {"intent": "unit.ensure", "serial": "{gs1.21}", "partNumber": "{gs1.01}"}]},
    {"on": "scanner", "match": "^LOC-(.+)$", "do": [{"intent": "unit.move", "location": "{match.1}"}]}
  ]
})";

const char* kTestStand = R"({
  "inputs": {"scanner": {"type": "sim"}, "cycle": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]+$", "do": [
      {"set": "unit.serial", "to": "{scan}"}, {"intent": "run.ensure", "procedureId": "14"}]},
    {"on": "scanner", "match": "^V=([0-9.]+)$", "do": [
      {"intent": "step.fields", "fields": {"Voltage": "{match.1}"}}]},
    {"on": "cycle", "event": "long_press", "do": [{"intent": "step.status", "status": "COMPLETE"}]}
  ]
})";

struct Step {
  Kind kind;
  const char* input;
  const char* text;
  const char* signal;                // "" = no feedback
  std::vector<std::string> intents;  // "kind subject inputs_json", appended by this step
  const char* fail = nullptr;        // make the sink refuse: "busy" or "storage"
};

struct Case {
  const char* name;
  const char* profile;
  std::vector<Step> steps;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"assembly shift",
       kAssembly,
       {{Kind::scan, "scanner", "OP-7", "accepted", {}},
        {Kind::scan,
         "scanner",
         "SN-000123",
         "accepted",
         {R"(run.ensure SN-000123 {"procedureId":"12","title":"Assembly 000123","serial":"SN-000123"})",
          R"(step.status SN-000123 {"status":"IN_PROGRESS","serial":"SN-000123","procedureId":"12"})"}},
        {Kind::press,
         "pass",
         "",
         "accepted",
         {R"(step.status SN-000123 {"status":"COMPLETE","serial":"SN-000123","procedureId":"12"})"}},
        {Kind::release, "pass", "", "", {}},
        {Kind::press,
         "fail",
         "",
         "accepted",
         {R"(step.status SN-000123 {"status":"FAILED","serial":"SN-000123","procedureId":"12"})",
          R"(issue.create SN-000123 {"text":"Failed at asm-1 by OP-7","serial":"SN-000123","procedureId":"12"})"}}}},
      {"pedal before any unit is scanned", kAssembly, {{Kind::press, "pass", "", "no_unit", {}}}},
      {"labels that fit no rule and unreadable labels",
       kAssembly,
       {{Kind::scan, "scanner", "SN-12", "not_matched", {}},
        {Kind::scan, "scanner", "", "bad_scan", {}},  // error set below for empty text
        {Kind::press, "pass", "", "no_unit", {}}}},
      {"a template value the operator never gave",
       kAssembly,
       {{Kind::scan, "scanner", "SN-000001", "accepted", {"run.ensure", "step.status"}},
        {Kind::press, "fail", "", "bad_scan", {}}}},
      {"queue full keeps the context as it was",
       kAssembly,
       {{Kind::scan, "scanner", "SN-000200", "queue_full", {}, "busy"},
        {Kind::press, "pass", "", "no_unit", {}}}},
      {"storage error is its own signal",
       kAssembly,
       {{Kind::scan, "scanner", "SN-000300", "accepted", {"run.ensure", "step.status"}},
        {Kind::press, "pass", "", "storage_error", {}, "storage"}}},
      {"clear forgets the unit",
       kAssembly,
       {{Kind::scan, "scanner", "SN-000400", "accepted", {"run.ensure", "step.status"}},
        {Kind::press, "done", "", "accepted", {}},
        {Kind::press, "pass", "", "no_unit", {}}}},
      {"receiving bench",
       kReceiving,
       {{Kind::scan, "scanner", "LOC-A1", "no_unit", {}},
        {Kind::scan,
         "scanner",
         "0109506000134352"
         "21"
         "SER42\x1d"
         "10LOT7",
         "accepted",
         {R"(unit.ensure SER42 {"serial":"SER42","partNumber":"09506000134352"})"}},
        {Kind::scan,
         "scanner",
         "LOC-A1",
         "accepted",
         {R"(unit.move SER42 {"location":"A1","serial":"SER42"})"}},
        {Kind::scan,
         "scanner",
         "0109506000134352"
         "21"
         "SER43",
         "accepted",
         {"unit.ensure"}},
        {Kind::scan, "scanner", "0109506000134352", "not_matched", {}}}},
      {"test stand",
       kTestStand,
       {{Kind::scan, "scanner", "V=12.5", "no_unit", {}},
        {Kind::scan,
         "scanner",
         "SN-9",
         "accepted",
         {R"(run.ensure SN-9 {"procedureId":"14","serial":"SN-9"})"}},
        {Kind::scan,
         "scanner",
         "V=12.5",
         "accepted",
         {R"(step.fields SN-9 {"fields":{"Voltage":"12.5"},"serial":"SN-9","procedureId":"14"})"}},
        {Kind::press, "cycle", "", "", {}},
        {Kind::long_press,
         "cycle",
         "",
         "accepted",
         {R"(step.status SN-9 {"status":"COMPLETE","serial":"SN-9","procedureId":"14"})"}}}},
  };
  return kCases;
}

void run_case(const Case& c) {
  auto profile = agent::parse_profile(c.profile, c.name);
  CHECK_TEXT(profile.ok(), profile.ok() ? "" : profile.error().what.c_str());
  agent::Workflow wf(std::make_shared<agent::Profile>(std::move(profile).value()), test_gs1);
  RecordingSink sink;
  int n = 0;
  for (const Step& s : c.steps) {
    std::string where = std::string(c.name) + ", step " + std::to_string(n++);
    hal::StationEvent ev;
    ev.kind = s.kind;
    ev.input = s.input;
    ev.text = s.text;
    if (s.kind == Kind::scan && ev.text.empty()) {
      ev.error = "control character 0x07";
    }
    if (s.fail != nullptr) {
      sink.fail_next(std::string(s.fail) == "busy" ? hal::Errc::busy : hal::Errc::storage);
    }
    agent::EventTime at{1700000000000, "boot-1", 42, true};
    std::size_t before = sink.log.size();
    agent::Reaction r = wf.on_event(ev, at, sink);
    std::string got = r.signal ? agent::to_string(*r.signal) : "";
    STRCMP_EQUAL_TEXT(s.signal, got.c_str(), (where + ": " + r.message).c_str());
    std::vector<std::string> appended(sink.log.begin() + static_cast<long>(before), sink.log.end());
    LONGS_EQUAL_TEXT(s.intents.size(), appended.size(), where.c_str());
    for (std::size_t i = 0; i < appended.size() && i < s.intents.size(); ++i) {
      // Short expectations name only the kind.
      std::string got_i = s.intents[i].find(' ') == std::string::npos
                              ? appended[i].substr(0, appended[i].find(' '))
                              : appended[i];
      STRCMP_EQUAL_TEXT(s.intents[i].c_str(), got_i.c_str(), where.c_str());
    }
    LONGS_EQUAL_TEXT(appended.size(), r.intent_ids.size(), where.c_str());
    if (!appended.empty()) {
      LONGS_EQUAL(1700000000000, sink.last.at.wall_ms);
      STRCMP_EQUAL("boot-1", sink.last.at.boot_id.c_str());
    }
  }
}

}  // namespace

TEST_GROUP(Workflow){};

TEST(Workflow, TableOfStationScenarios) {
  for (const Case& c : cases()) {
    run_case(c);
  }
}

TEST(Workflow, FeedbackPatternsFollowTheSignal) {
  auto profile = agent::parse_profile(kAssembly, "asm");
  CHECK(profile.ok());
  agent::Workflow wf(std::make_shared<agent::Profile>(std::move(profile).value()));
  RecordingSink sink;
  hal::StationEvent ev{Kind::scan, "scanner", "SN-000123", "", std::nullopt, {}};
  agent::Reaction ok = wf.on_event(ev, {}, sink);
  LONGS_EQUAL(1, ok.outputs.size());
  STRCMP_EQUAL("green", ok.outputs[0].output.c_str());
  // FAIL pedal: the rule's buzzer first, then the signal's pattern.
  hal::StationEvent fail{Kind::press, "fail", "", "", std::nullopt, {}};
  wf.restore_context({{"unit.serial", "SN-1"}, {"run.procedureId", "12"}, {"operator", "OP-1"}});
  agent::Reaction f = wf.on_event(fail, {}, sink);
  LONGS_EQUAL(2, f.outputs.size());
  STRCMP_EQUAL("buzzer", f.outputs[0].output.c_str());
  STRCMP_EQUAL("pulse 100ms", f.outputs[0].pattern.c_str());
  STRCMP_EQUAL("green", f.outputs[1].output.c_str());
  // Red signals are told apart by pattern.
  wf.restore_context({});
  agent::Reaction no_unit =
      wf.on_event(hal::StationEvent{Kind::press, "pass", "", "", std::nullopt, {}}, {}, sink);
  agent::Reaction bad =
      wf.on_event(hal::StationEvent{Kind::scan, "scanner", "junk", "", std::nullopt, {}}, {}, sink);
  STRCMP_EQUAL("red", no_unit.outputs[0].output.c_str());
  STRCMP_EQUAL("red", bad.outputs[0].output.c_str());
  CHECK(no_unit.outputs[0].pattern != bad.outputs[0].pattern);
}

TEST(Workflow, ScannedTextStaysAValueEvenWithJsonAndBraces) {
  auto profile = agent::parse_profile(kAssembly, "asm");
  CHECK(profile.ok());
  agent::Workflow wf(std::make_shared<agent::Profile>(std::move(profile).value()));
  RecordingSink sink;
  wf.restore_context({{"unit.serial", "SN-1\"},\"x\":{\"y\":\"{scan}"}, {"run.procedureId", "12"}});
  wf.on_event(hal::StationEvent{Kind::press, "pass", "", "", std::nullopt, {}}, {}, sink);
  LONGS_EQUAL(1, sink.log.size());
  STRCMP_EQUAL(R"({"status":"COMPLETE","serial":"SN-1\"},\"x\":{\"y\":\"{scan}","procedureId":"12"})",
               sink.last.inputs_json.c_str());
  STRCMP_EQUAL("SN-1\"},\"x\":{\"y\":\"{scan}", sink.last.subject.c_str());
}

namespace {

// Records what commit() is given: the intents and the context they leave behind.
class ContextSink : public agent::IntentSink {
 public:
  hal::Result<std::string> append(const agent::NewIntent& intent) override { return "id-" + intent.kind; }
  hal::Result<std::vector<std::string>> commit(const std::vector<agent::NewIntent>& intents,
                                               const std::map<std::string, std::string>* context) override {
    if (refuse) {
      return hal::Error(hal::Errc::storage, "outbox: refused by test");
    }
    ++commits;
    last_intents = intents.size();
    last_context = context != nullptr ? agent::context_to_json(*context) : "(unchanged)";
    return std::vector<std::string>(intents.size(), "id");
  }
  bool refuse = false;
  int commits = 0;
  std::size_t last_intents = 0;
  std::string last_context;
};

const char* kNotes = R"({
  "inputs": {"scanner": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^NOTE:(.*)$", "do": [{"intent": "issue.create", "text": "{match.1}"}]}
  ]
})";

}  // namespace

TEST(Workflow, TheContextIsCommittedWithTheIntentsThatSetIt) {
  auto profile = agent::parse_profile(kAssembly, "asm");
  CHECK(profile.ok());
  agent::Workflow wf(std::make_shared<agent::Profile>(std::move(profile).value()));
  ContextSink sink;
  auto r = wf.on_event(hal::StationEvent{Kind::scan, "scanner", "SN-000123", "", std::nullopt, {}}, {}, sink);
  CHECK(r.signal == agent::Signal::accepted);
  LONGS_EQUAL(1, sink.commits);
  LONGS_EQUAL(2, sink.last_intents);
  STRCMP_EQUAL(R"({"run.procedureId":"12","unit.serial":"SN-000123"})", sink.last_context.c_str());
  // A rule that only sets context commits it too (no intents).
  wf.on_event(hal::StationEvent{Kind::scan, "scanner", "OP-7", "", std::nullopt, {}}, {}, sink);
  LONGS_EQUAL(2, sink.commits);
  LONGS_EQUAL(0, sink.last_intents);
  STRCMP_EQUAL(R"({"operator":"OP-7","run.procedureId":"12","unit.serial":"SN-000123"})",
               sink.last_context.c_str());
  // PASS leaves the context as it is: committed as unchanged.
  wf.on_event(hal::StationEvent{Kind::press, "pass", "", "", std::nullopt, {}}, {}, sink);
  STRCMP_EQUAL("(unchanged)", sink.last_context.c_str());
  // A refused commit is red and the context stays where it was.
  sink.refuse = true;
  auto red =
      wf.on_event(hal::StationEvent{Kind::scan, "scanner", "SN-000999", "", std::nullopt, {}}, {}, sink);
  CHECK(red.signal == agent::Signal::storage_error);
  STRCMP_EQUAL("SN-000123", wf.context().at("unit.serial").c_str());
}

TEST(Workflow, ContextJsonRoundTripsAndRefusesAnythingElse) {
  agent::Workflow::Context c{{"unit.serial", "SN-\"1\""}, {"operator", "\xc3\xa9"}};
  auto back = agent::context_from_json(agent::context_to_json(c));
  CHECK(back.ok());
  CHECK(*back == c);
  CHECK(!agent::context_from_json("[1]").ok());
  CHECK(!agent::context_from_json(R"({"a":1})").ok());
  CHECK(!agent::context_from_json("").ok());
}

TEST(Workflow, NothingGreenThatIonCouldNeverTake) {
  auto profile = agent::parse_profile(kNotes, "notes");
  CHECK_TEXT(profile.ok(), profile.ok() ? "" : profile.error().what.c_str());
  agent::Workflow wf(std::make_shared<agent::Profile>(std::move(profile).value()));
  wf.restore_context({{"unit.serial", "SN-1"}});
  RecordingSink sink;
  auto ok = wf.on_event(hal::StationEvent{Kind::scan, "scanner", "NOTE:cable \xc3\xa9", "", std::nullopt, {}},
                        {}, sink);
  CHECK(ok.signal == agent::Signal::accepted);
  auto bad =
      wf.on_event(hal::StationEvent{Kind::scan, "scanner", "NOTE:\xff\xfe", "", std::nullopt, {}}, {}, sink);
  CHECK(bad.signal == agent::Signal::bad_scan);
  CHECK_TEXT(bad.message.find("not valid UTF-8 (byte 5)") != std::string::npos, bad.message.c_str());
  auto nul = wf.on_event(
      hal::StationEvent{Kind::scan, "scanner", std::string("NOTE:a\0b", 8), "", std::nullopt, {}}, {}, sink);
  CHECK(nul.signal == agent::Signal::bad_scan);
  CHECK_TEXT(nul.message.find("NUL") != std::string::npos, nul.message.c_str());
  auto big = wf.on_event(
      hal::StationEvent{Kind::scan, "scanner", "NOTE:" + std::string(70 * 1024, 'x'), "", std::nullopt, {}},
      {}, sink);
  CHECK(big.signal == agent::Signal::bad_scan);
  CHECK_TEXT(big.message.find("more than ION takes") != std::string::npos, big.message.c_str());
  LONGS_EQUAL(1, sink.log.size());  // only the valid note reached the outbox
}
