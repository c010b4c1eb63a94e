// SPDX-License-Identifier: Apache-2.0
// Workflow on instrument readings: a parsed value within limits runs the "reading" rule and
// writes the step field; out of limits gives out_of_limits and writes nothing; a refused or
// missing reply gives bad_reading with its reason; {"read": NAME} asks the station to query.
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
    log.push_back(intent.kind + " " + intent.inputs_json);
    return "id-" + std::to_string(log.size());
  }
  std::vector<std::string> log;
};

const char* kWeigh = R"({
  "station": "weigh-1",
  "inputs": {
    "scanner": {"type": "sim"},
    "scale": {"type": "instrument", "port": "/dev/ttyUSB0", "mode": "query", "command": "SI",
              "dialect": "mt-sics", "unit": "g", "min": 12.0, "max": 12.5}
  },
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "SN-[0-9]+", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "21"},
      {"read": "scale"}]},
    {"on": "scale", "event": "reading", "do": [
      {"intent": "step.fields", "fields": {"Weight": "{reading.value}", "Unit": "{reading.unit}"}},
      {"intent": "step.status", "status": "COMPLETE"}]}
  ]
})";

std::shared_ptr<const agent::Profile> load(const char* text) {
  return workflow_fixtures::load(text, "weigh.json");
}

using workflow_fixtures::event;

struct Fixture {
  Fixture() : wf(load(kWeigh)) {}
  agent::Reaction on(const hal::StationEvent& e) { return wf.on_event(e, agent::EventTime{}, sink); }
  agent::Workflow wf;
  Sink sink;
};

std::string signal_of(const agent::Reaction& r) {
  return r.signal ? agent::to_string(*r.signal) : "";
}

}  // namespace

TEST_GROUP(ReadingWorkflow){};

TEST(ReadingWorkflow, ScanAsksTheScaleThenAStableWeightIsWritten) {
  Fixture f;
  auto scan = f.on(event(Kind::scan, "scanner", "SN-1"));
  STRCMP_EQUAL("accepted", signal_of(scan).c_str());
  CHECK_EQUAL(1u, scan.reads.size());
  STRCMP_EQUAL("scale", scan.reads[0].c_str());
  auto r = f.on(event(Kind::reading, "scale", "S S     12.345 g"));
  STRCMP_EQUAL("accepted", signal_of(r).c_str());
  CHECK_EQUAL(3u, f.sink.log.size());
  STRCMP_EQUAL(
      "step.fields "
      "{\"fields\":{\"Weight\":\"12.345\",\"Unit\":\"g\"},\"serial\":\"SN-1\",\"procedureId\":\"21\"}",
      f.sink.log[1].c_str());
}

TEST(ReadingWorkflow, KilogramsAreConvertedBeforeTheLimits) {
  Fixture f;
  f.on(event(Kind::scan, "scanner", "SN-1"));
  auto r = f.on(event(Kind::reading, "scale", "S S   0.01240 kg"));
  STRCMP_EQUAL("accepted", signal_of(r).c_str());
  CHECK(f.sink.log[1].find("\"Weight\":\"12.40\"") != std::string::npos);
}

TEST(ReadingWorkflow, UnstableWeightRefused) {
  Fixture f;
  f.on(event(Kind::scan, "scanner", "SN-1"));
  auto r = f.on(event(Kind::reading, "scale", "S D     12.345 g"));
  STRCMP_EQUAL("bad_reading", signal_of(r).c_str());
  CHECK(r.message.find("unstable") != std::string::npos);
  CHECK_EQUAL(1u, f.sink.log.size());  // only the run.ensure of the scan
}

TEST(ReadingWorkflow, OverloadRefusedWithItsReason) {
  Fixture f;
  f.on(event(Kind::scan, "scanner", "SN-1"));
  auto r = f.on(event(Kind::reading, "scale", "S +"));
  STRCMP_EQUAL("bad_reading", signal_of(r).c_str());
  CHECK(r.message.find("overload") != std::string::npos);
  CHECK_EQUAL(1u, f.sink.log.size());
}

TEST(ReadingWorkflow, OutOfLimitsWritesNothing) {
  Fixture f;
  f.on(event(Kind::scan, "scanner", "SN-1"));
  auto hi = f.on(event(Kind::reading, "scale", "S S     12.600 g"));
  STRCMP_EQUAL("out_of_limits", signal_of(hi).c_str());
  CHECK(hi.message.find("above max 12.5") != std::string::npos);
  auto lo = f.on(event(Kind::reading, "scale", "S S     11.000 g"));
  STRCMP_EQUAL("out_of_limits", signal_of(lo).c_str());
  CHECK(lo.message.find("below min 12") != std::string::npos);
  CHECK_EQUAL(1u, f.sink.log.size());
  bool red = false;
  for (const auto& p : hi.outputs) {
    red = red || p.output == "red";
  }
  CHECK(red);
}

TEST(ReadingWorkflow, NoReplyIsARedLight) {
  Fixture f;
  auto r = f.on(event(Kind::reading, "scale", "", "no reply within 2000 ms"));
  STRCMP_EQUAL("bad_reading", signal_of(r).c_str());
  CHECK(r.message.find("no reply within 2000 ms") != std::string::npos);
  CHECK_FALSE(r.outputs.empty());
}

TEST(ReadingWorkflow, ReadingBeforeAUnitNeedsOne) {
  Fixture f;
  auto r = f.on(event(Kind::reading, "scale", "S S     12.345 g"));
  STRCMP_EQUAL("no_unit", signal_of(r).c_str());
  CHECK(f.sink.log.empty());
}

TEST(ReadingWorkflow, GarbageNeverBecomesAValue) {
  Fixture f;
  f.on(event(Kind::scan, "scanner", "SN-1"));
  for (const char* junk : {"", "S S", "S S 12.3", "\xff\xfe", "S S 1e400 g", "S S 12.3 4 g", "ES"}) {
    auto r = f.on(event(Kind::reading, "scale", junk));
    STRCMP_EQUAL("bad_reading", signal_of(r).c_str());
  }
  CHECK_EQUAL(1u, f.sink.log.size());
}
