// SPDX-License-Identifier: Apache-2.0
// Workflow with `require`: the decision waits for the interlock answer, nothing is queued on a
// failed or (offline: refuse) unknown answer, offline: accept notes the skip in the intents,
// and events arriving meanwhile are decided in order after it.
#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "agent/workflow/workflow.hpp"

namespace {

using Kind = hal::StationEvent::Kind;
using Verdict = agent::InterlockAnswer::Verdict;

class Sink : public agent::IntentSink {
 public:
  hal::Result<std::string> append(const agent::NewIntent& intent) override {
    log.push_back(intent.kind + " " + intent.inputs_json);
    return "id-" + std::to_string(log.size());
  }
  std::vector<std::string> log;
};

// Holds each question until the test answers it; can answer from a "cache" at once.
class ScriptedChecker : public agent::InterlockChecker {
 public:
  std::optional<agent::InterlockAnswer> check(const agent::InterlockQuery& q, Done done) override {
    queries.push_back(q);
    if (immediate) {
      return *immediate;
    }
    waiting.push_back(std::move(done));
    return std::nullopt;
  }
  void answer(Verdict v, const std::string& condition = "", const std::string& detail = "") {
    CHECK_FALSE(waiting.empty());
    Done d = std::move(waiting.front());
    waiting.erase(waiting.begin());
    agent::InterlockAnswer a;
    a.verdict = v;
    a.condition = condition;
    a.detail = detail;
    d(a);
  }
  std::vector<agent::InterlockQuery> queries;
  std::vector<Done> waiting;
  std::optional<agent::InterlockAnswer> immediate;
};

const char* kStand = R"({
  "station": "stand-1",
  "location": "TEST-STAND-1",
  "inputs": {"scanner": {"type": "sim"}, "pass": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]+$",
     "require": ["no_open_issues", "run_not_held", "at_location:{station.location}"],
     "do": [{"set": "unit.serial", "to": "{scan}"}, {"intent": "run.ensure", "procedureId": "14"}]},
    {"on": "pass", "event": "press", "require": ["run_not_held"], "offline": "accept",
     "do": [{"intent": "step.status", "status": "COMPLETE"},
            {"intent": "issue.create", "text": "checked by {station}"}]}
  ]
})";

hal::StationEvent scan(const char* text) {
  return hal::StationEvent{Kind::scan, "scanner", text, "", std::nullopt, {}};
}
hal::StationEvent press() {
  return hal::StationEvent{Kind::press, "pass", "", "", std::nullopt, {}};
}

}  // namespace

TEST_GROUP(WorkflowInterlock) {
  std::unique_ptr<agent::Workflow> wf;
  Sink sink;
  ScriptedChecker checker;
  std::vector<std::pair<std::string, agent::Reaction>> decided;  // event text/input, reaction

  void setup() override {
    auto p = agent::parse_profile(kStand, "stand");
    CHECK_TEXT(p.ok(), p.ok() ? "" : p.error().what.c_str());
    wf = std::make_unique<agent::Workflow>(std::make_shared<agent::Profile>(std::move(p).value()));
    wf->set_interlocks(&checker);
    wf->on_deferred([this](const hal::StationEvent& ev, const agent::Reaction& r) {
      decided.emplace_back(ev.text.empty() ? ev.input : ev.text, r);
    });
  }
};

TEST(WorkflowInterlock, ScanWaitsForTheAnswerThenCommits) {
  agent::Reaction r = wf->on_event(scan("SN-1"), {}, sink);
  CHECK_TRUE(r.deferred);
  CHECK_FALSE(r.signal.has_value());
  CHECK_TRUE(r.outputs.empty());
  CHECK_TRUE(sink.log.empty());  // nothing committed before the answer
  CHECK_TRUE(wf->busy());
  LONGS_EQUAL(1, checker.queries.size());
  STRCMP_EQUAL("SN-1", checker.queries[0].serial.c_str());
  LONGS_EQUAL(3, checker.queries[0].conditions.size());
  STRCMP_EQUAL("at_location:TEST-STAND-1", agent::to_string(checker.queries[0].conditions[2]).c_str());
  CHECK_TRUE(wf->context().empty());

  checker.answer(Verdict::pass);
  LONGS_EQUAL(1, decided.size());
  CHECK(decided[0].second.signal == agent::Signal::accepted);
  STRCMP_EQUAL("green", decided[0].second.outputs.at(0).output.c_str());
  LONGS_EQUAL(1, sink.log.size());
  STRCMP_EQUAL("SN-1", wf->context().at("unit.serial").c_str());
  CHECK_FALSE(wf->busy());
}

TEST(WorkflowInterlock, FailedConditionShowsTheInterlockSignalAndQueuesNothing) {
  wf->on_event(scan("SN-2"), {}, sink);
  checker.answer(Verdict::fail, "no_open_issues", "issue 3001 \"Scratch\" is OPEN");
  LONGS_EQUAL(1, decided.size());
  const agent::Reaction& r = decided[0].second;
  CHECK(r.signal == agent::Signal::interlock);
  CHECK(r.message.find("no_open_issues") != std::string::npos);
  CHECK(r.message.find("issue 3001") != std::string::npos);
  CHECK_TRUE(sink.log.empty());
  CHECK_TRUE(wf->context().empty());  // the unit did not become current
  // Its own red pattern, not bad_scan's.
  STRCMP_EQUAL("red", r.outputs.at(0).output.c_str());
  STRCMP_EQUAL("blink 800ms/200ms x3", r.outputs.at(0).pattern.c_str());

  // The same unit after the issue is closed.
  wf->on_event(scan("SN-2"), {}, sink);
  checker.answer(Verdict::pass);
  CHECK(decided.back().second.signal == agent::Signal::accepted);
  LONGS_EQUAL(1, sink.log.size());
}

TEST(WorkflowInterlock, OfflineRefuseIsRedAndQueuesNothing) {
  wf->on_event(scan("SN-3"), {}, sink);
  checker.answer(Verdict::unknown, "", "ION did not answer within 2000 ms");
  CHECK(decided.at(0).second.signal == agent::Signal::interlock);
  CHECK(decided[0].second.message.find("offline: refuse") != std::string::npos);
  CHECK_TRUE(sink.log.empty());
}

TEST(WorkflowInterlock, OfflineAcceptQueuesAndRecordsTheSkip) {
  wf->restore_context({{"unit.serial", "SN-4"}, {"run.procedureId", "14"}});
  wf->on_event(press(), {}, sink);
  checker.answer(Verdict::unknown, "", "ION unreachable (network)");
  CHECK(decided.at(0).second.signal == agent::Signal::accepted);
  CHECK(decided[0].second.message.find("interlock check skipped") != std::string::npos);
  LONGS_EQUAL(2, sink.log.size());
  STRCMP_EQUAL(
      R"j(step.status {"status":"COMPLETE","serial":"SN-4","procedureId":"14","interlock":"skipped: ION unreachable (network)"})j",
      sink.log[0].c_str());
  STRCMP_EQUAL(
      R"j(issue.create {"text":"checked by stand-1","serial":"SN-4","procedureId":"14","interlock":"skipped: ION unreachable (network)"})j",
      sink.log[1].c_str());
}

TEST(WorkflowInterlock, AKnownAnswerDecidesAtOnce) {
  agent::InterlockAnswer pass;
  pass.verdict = Verdict::pass;
  checker.immediate = pass;
  wf->restore_context({{"unit.serial", "SN-5"}, {"run.procedureId", "14"}});
  agent::Reaction r = wf->on_event(press(), {}, sink);
  CHECK_FALSE(r.deferred);
  CHECK(r.signal == agent::Signal::accepted);
  LONGS_EQUAL(2, sink.log.size());
  CHECK_TRUE(decided.empty());
}

TEST(WorkflowInterlock, EventsBehindACheckAreDecidedInOrderAfterIt) {
  wf->on_event(scan("SN-6"), {}, sink);
  // The operator presses PASS before ION answered: it waits, and then uses SN-6.
  agent::Reaction p = wf->on_event(press(), {}, sink);
  CHECK_TRUE(p.deferred);
  LONGS_EQUAL(1, checker.queries.size());
  checker.answer(Verdict::pass);
  // The press's own check (run_not_held) is asked once the scan is decided.
  LONGS_EQUAL(2, checker.queries.size());
  STRCMP_EQUAL("SN-6", checker.queries[1].serial.c_str());
  checker.answer(Verdict::pass);
  LONGS_EQUAL(2, decided.size());
  STRCMP_EQUAL("SN-6", decided[0].first.c_str());
  STRCMP_EQUAL("pass", decided[1].first.c_str());
  CHECK(decided[1].second.signal == agent::Signal::accepted);
  LONGS_EQUAL(3, sink.log.size());
}

TEST(WorkflowInterlock, RequireWithoutAUnitIsNoUnit) {
  agent::Reaction r = wf->on_event(press(), {}, sink);
  CHECK(r.signal == agent::Signal::no_unit);
  CHECK_TRUE(checker.queries.empty());
}

TEST(WorkflowInterlock, NoCheckerFollowsTheOfflinePolicy) {
  wf->set_interlocks(nullptr);
  agent::Reaction r = wf->on_event(scan("SN-7"), {}, sink);
  CHECK(r.signal == agent::Signal::interlock);
  CHECK_TRUE(sink.log.empty());
}

TEST(WorkflowInterlock, ProfileChecksRequireAndOffline) {
  auto bad = agent::parse_profile(R"({
    "inputs": {"s": {"type": "sim"}},
    "rules": [{"on": "s", "require": ["no_issues", "at_location:{nowhere}"], "do": [{"set": "unit.serial", "to": "{scan}"}]},
              {"on": "s", "offline": "accept", "do": [{"set": "unit.serial", "to": "{scan}"}]},
              {"on": "s", "require": ["run_not_held"], "offline": "maybe", "do": [{"set": "unit.serial", "to": "{scan}"}]}]
  })",
                                  "p");
  CHECK_FALSE(bad.ok());
  const std::string& e = bad.error().what;
  CHECK_TEXT(e.find("$.rules[0].require[0]: expected no_open_issues") != std::string::npos, e.c_str());
  CHECK_TEXT(e.find("$.rules[0].require[1]: bad template: unknown variable {nowhere}") != std::string::npos,
             e.c_str());
  CHECK_TEXT(
      e.find("$.rules[1].offline: 'offline' applies to rules with 'require' only") != std::string::npos,
      e.c_str());
  CHECK_TEXT(e.find("$.rules[2].offline: unknown value 'maybe'") != std::string::npos, e.c_str());
}

TEST(WorkflowInterlock, StoppingDecidesWaitingEventsByTheOfflinePolicy) {
  wf->on_event(scan("SN-8"), {}, sink);  // refuse offline
  wf->on_event(press(), {}, sink);       // accept offline
  wf->stop_asking("the station is stopping");
  CHECK_FALSE(wf->busy());
  LONGS_EQUAL(2, decided.size());
  CHECK(decided[0].second.signal == agent::Signal::interlock);
  CHECK(decided[0].second.message.find("the station is stopping") != std::string::npos);
  // The scan was refused, so the press has no unit.
  CHECK(decided[1].second.signal == agent::Signal::no_unit);
  LONGS_EQUAL(1, checker.queries.size());  // nothing more was asked
  // A late answer to the abandoned question changes nothing.
  checker.answer(Verdict::pass);
  LONGS_EQUAL(2, decided.size());
  CHECK_TRUE(sink.log.empty());
}

TEST(WorkflowInterlock, AStormBehindACheckIsBounded) {
  wf->on_event(scan("SN-9"), {}, sink);
  int refused = 0;
  for (int i = 0; i < 100; ++i) {
    agent::Reaction r = wf->on_event(press(), {}, sink);
    refused += r.signal == agent::Signal::queue_full ? 1 : 0;
  }
  LONGS_EQUAL(36, refused);  // 64 wait, the rest are refused at once
  checker.immediate = agent::InterlockAnswer{Verdict::pass, "", ""};
  checker.answer(Verdict::pass);
  LONGS_EQUAL(65, decided.size());
  LONGS_EQUAL(1 + 64 * 2, sink.log.size());
}
