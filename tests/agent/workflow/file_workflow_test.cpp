// SPDX-License-Identifier: Apache-2.0
// Workflow on folder inputs: a file event runs the "file" rule, {file.name}/{file.path} and
// the current unit fill a file.attach intent (source = the event's file); a refused file
// (pattern, unreadable, too large) is red bad_file with its reason and writes nothing; a file
// with no unit yet is red no_unit; the profile refuses file intents on other rules.
#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "agent/workflow/workflow.hpp"
#include "workflow_fixtures.hpp"

namespace {

using Kind = hal::StationEvent::Kind;

class Sink : public agent::IntentSink {
 public:
  hal::Result<std::string> append(const agent::NewIntent& intent) override {
    if (fail) {
      return hal::Error(hal::Errc::not_found, "file.attach: file /out/a.csv: No such file or directory");
    }
    log.push_back(intent.kind + " " + intent.inputs_json);
    return "id-" + std::to_string(log.size());
  }
  std::vector<std::string> log;
  bool fail = false;
};

const char* kStand = R"({
  "station": "stand-1",
  "inputs": {
    "scanner": {"type": "sim"},
    "results": {"type": "folder", "path": "/srv/tester/out", "pattern": "*.csv", "max_mb": 8}
  },
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "SN-[0-9]+", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "13"}]},
    {"on": "results", "event": "file", "do": [
      {"set": "last.file", "to": "{file.name}"},
      {"intent": "file.attach"},
      {"intent": "file.attach", "step": "Final test", "filename": "{unit.serial}-{file.name}"}]}
  ]
})";

std::shared_ptr<const agent::Profile> load(const char* text) {
  return workflow_fixtures::load(text, "stand.json");
}

using workflow_fixtures::event;

std::string profile_errors(const std::string& text) {
  auto p = agent::parse_profile(text, "p.json");
  return p.ok() ? "" : p.error().what;
}

}  // namespace

TEST_GROUP(FileWorkflow) {
  std::shared_ptr<const agent::Profile> profile = load(kStand);
  agent::Workflow wf{profile};
  Sink sink;
  agent::EventTime at;
};

TEST(FileWorkflow, TheFolderInputIsReadFromTheProfile) {
  const agent::InputSpec* in = profile->input("results");
  CHECK(in != nullptr && in->is_folder());
  STRCMP_EQUAL("/srv/tester/out", in->path.c_str());
  STRCMP_EQUAL("*.csv", in->pattern.c_str());
  LONGS_EQUAL(8, in->max_file_mb);
  CHECK(profile->feedback.count(agent::Signal::bad_file) == 1);
}

TEST(FileWorkflow, AFileIsAttachedToTheCurrentUnitsRunStep) {
  wf.on_event(event(Kind::scan, "scanner", "SN-000101"), at, sink);
  auto r = wf.on_event(event(Kind::file, "results", "/srv/tester/out/SN-000101.csv"), at, sink);
  CHECK(r.signal == agent::Signal::accepted);
  LONGS_EQUAL(3, sink.log.size());
  STRCMP_EQUAL(
      "file.attach "
      "{\"serial\":\"SN-000101\",\"procedureId\":\"13\",\"source\":\"/srv/tester/out/SN-000101.csv\","
      "\"filename\":\"SN-000101.csv\"}",
      sink.log[1].c_str());
  STRCMP_EQUAL(
      "file.attach {\"step\":\"Final "
      "test\",\"filename\":\"SN-000101-SN-000101.csv\",\"serial\":\"SN-000101\","
      "\"procedureId\":\"13\",\"source\":\"/srv/tester/out/SN-000101.csv\"}",
      sink.log[2].c_str());
  STRCMP_EQUAL("SN-000101.csv", wf.context().at("last.file").c_str());
}

TEST(FileWorkflow, ARefusedFileIsRedWithItsReasonAndWritesNothing) {
  wf.on_event(event(Kind::scan, "scanner", "SN-000101"), at, sink);
  auto r = wf.on_event(
      event(Kind::file, "results", "/srv/tester/out/big.csv", "too large: 9000000 bytes (max_bytes 8388608)"),
      at, sink);
  CHECK(r.signal == agent::Signal::bad_file);
  STRCMP_CONTAINS("results: refused file /srv/tester/out/big.csv: too large", r.message.c_str());
  LONGS_EQUAL(1, r.outputs.size());
  STRCMP_EQUAL("red", r.outputs[0].output.c_str());
  LONGS_EQUAL(1, sink.log.size());
}

TEST(FileWorkflow, AFileNameThatIsNotUtf8IsBadFile) {
  wf.on_event(event(Kind::scan, "scanner", "SN-000101"), at, sink);
  auto r = wf.on_event(event(Kind::file, "results", "/srv/tester/out/r\xff.csv"), at, sink);
  CHECK(r.signal == agent::Signal::bad_file);
  STRCMP_CONTAINS("not valid UTF-8", r.message.c_str());
  LONGS_EQUAL(1, sink.log.size());
}

TEST(FileWorkflow, AFileBeforeAnyUnitIsNoUnit) {
  auto r = wf.on_event(event(Kind::file, "results", "/srv/tester/out/x.csv"), at, sink);
  CHECK(r.signal == agent::Signal::no_unit);
  LONGS_EQUAL(0, sink.log.size());
}

TEST(FileWorkflow, AFileTheOutboxCannotTakeIsBadFile) {
  wf.on_event(event(Kind::scan, "scanner", "SN-000101"), at, sink);
  sink.fail = true;
  auto r = wf.on_event(event(Kind::file, "results", "/out/a.csv"), at, sink);
  CHECK(r.signal == agent::Signal::bad_file);
  STRCMP_CONTAINS("No such file", r.message.c_str());
  CHECK(wf.context().count("last.file") == 0);  // nothing of the rule happened
}

TEST(FileWorkflow, AFileRuleMatchesTheFirstLine) {
  auto p = load(R"({"inputs": {"scanner": {"type": "sim"},
      "results": {"type": "folder", "path": "/out", "pattern": "*.log"}},
    "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
    "rules": [
      {"on": "scanner", "do": [{"set": "unit.serial", "to": "{scan}"}, {"intent": "run.ensure", "procedureId": "13"}]},
      {"on": "results", "event": "file", "match": "^RESULT=PASS.*", "do": [
        {"intent": "file.attach"}, {"intent": "step.status", "status": "COMPLETE"}]},
      {"on": "results", "event": "file", "match": "^RESULT=FAIL code ([0-9]+).*", "do": [
        {"intent": "file.attach"},
        {"intent": "step.fields", "fields": {"Code": "{match.1}", "Verdict": "{file.line1}"}},
        {"intent": "step.status", "status": "FAILED"}]}]})");
  agent::Workflow w{p};
  w.on_event(event(Kind::scan, "scanner", "SN-1"), at, sink);
  auto ev = event(Kind::file, "results", "/out/a.log");
  ev.first_line = "RESULT=FAIL code 7";
  auto r = w.on_event(ev, at, sink);
  CHECK(r.signal == agent::Signal::accepted);
  LONGS_EQUAL(2, r.rule);
  STRCMP_CONTAINS(R"("fields":{"Code":"7","Verdict":"RESULT=FAIL code 7"})", sink.log[2].c_str());
  STRCMP_CONTAINS(R"("status":"FAILED")", sink.log[3].c_str());
  ev.first_line = "garbage";
  r = w.on_event(ev, at, sink);
  CHECK(r.signal == agent::Signal::not_matched);
  STRCMP_CONTAINS("no rule takes file /out/a.log", r.message.c_str());
}

TEST(FileWorkflow, TheProfileNamesWhatIsWrongAndWhere) {
  std::string base = R"({"inputs": {"scanner": {"type": "sim"}, "results": %s},
    "rules": [{"on": "scanner", "do": [{"set": "unit.serial", "to": "{scan}"},
                                       {"intent": "run.ensure", "procedureId": "13"}]}, %s]})";
  auto make = [&](const std::string& input, const std::string& rule) {
    std::string t = base;
    t.replace(t.find("%s"), 2, input);
    t.replace(t.find("%s"), 2, rule);
    return t;
  };
  const std::string folder = R"({"type": "folder", "path": "/out", "pattern": "*.csv"})";
  const std::string attach = R"({"on": "results", "event": "file", "do": [{"intent": "file.attach"}]})";
  CHECK(profile_errors(make(folder, attach)).empty());
  STRCMP_CONTAINS("p.json: $.inputs.results: missing required key 'path' for type 'folder'",
                  profile_errors(make(R"({"type": "folder"})", attach)).c_str());
  STRCMP_CONTAINS("p.json: $.inputs.results.path: expected an absolute directory path",
                  profile_errors(make(R"({"type": "folder", "path": "out"})", attach)).c_str());
  STRCMP_CONTAINS(
      "p.json: $.inputs.results.pattern: expected a file name glob",
      profile_errors(make(R"({"type": "folder", "path": "/out", "pattern": "a/*.csv"})", attach)).c_str());
  STRCMP_CONTAINS(
      "p.json: $.inputs.results.device: not a key for type 'folder'",
      profile_errors(make(R"({"type": "folder", "path": "/out", "device": "/dev/x"})", attach)).c_str());
  STRCMP_CONTAINS("p.json: $.rules[1].on: a folder input sends 'file'",
                  profile_errors(make(folder, R"({"on": "results", "do": []})")).c_str());
  STRCMP_CONTAINS(
      "p.json: $.rules[1].do[0].intent: file.attach needs a file rule",
      profile_errors(make(folder, R"({"on": "scanner", "do": [{"intent": "file.attach"}]})")).c_str());
  STRCMP_CONTAINS(
      "p.json: $.rules[1].do[0].to: bad template: {file.name} needs a file rule",
      profile_errors(make(folder, R"({"on": "scanner", "do": [{"set": "x", "to": "{file.name}"}]})"))
          .c_str());
  STRCMP_CONTAINS(
      "p.json: $.inputs.results.max_mb: 64 MiB files can never fit the outbox (outbox.max_mb 64",
      profile_errors(make(R"({"type": "folder", "path": "/out", "max_mb": 64})", attach)).c_str());
  STRCMP_CONTAINS(
      "p.json: $.rules[1].do[0].copy: set by the agent",
      profile_errors(
          make(folder,
               R"({"on": "results", "event": "file", "do": [{"intent": "file.attach", "copy": "/x"}]})"))
          .c_str());
}
