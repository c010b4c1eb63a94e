// SPDX-License-Identifier: Apache-2.0
// ION operations against a scripted GraphQL client: which requests they send, with which
// variables, and how they decide from the answers.
#include "agent/ion/ops.hpp"

#include <CppUTest/TestHarness.h>

#include <map>
#include <optional>

#include "fake_graphql.hpp"
#include "hal/sim/fake_clock.hpp"

using agent::GraphqlOutcome;
using agent::OpOutcome;
using testing_support::FakeGraphqlClient;
using testing_support::SentRequest;

namespace {

class RecordingHost final : public agent::OpHost {
 public:
  explicit RecordingHost(FakeGraphqlClient& c) : client_(c) {}
  agent::GraphqlClient& client() override { return client_; }
  agent::LookupCache* lookups() override { return cache; }
  hal::Status save_progress(const agent::IntentRecord& intent, const std::string& progress) override {
    saved.emplace_back(intent.uuid, progress);
    saved_at_request.push_back(client_.log.size());
    if (fail_save) {
      return hal::Error(hal::Errc::storage, "outbox: save progress: disk full");
    }
    return {};
  }
  std::vector<std::pair<std::string, std::string>> saved;
  std::vector<std::size_t> saved_at_request;  // how many requests had been sent by then
  bool fail_save = false;
  agent::LookupCache* cache = nullptr;  // none unless a test gives one

 private:
  FakeGraphqlClient& client_;
};

agent::IntentRecord make(const std::string& kind, const std::string& inputs,
                         const std::string& progress = {}) {
  agent::IntentRecord r;
  r.seq = 7;
  r.uuid = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab";
  r.kind = kind;
  r.inputs_json = inputs;
  r.progress = progress;
  r.at.wall_ms = 1'700'000'000'000;
  r.at.wall_synced = true;
  return r;
}

const char* kUnit5 =
    R"({"units":{"edges":[{"node":{"id":5,"_etag":"u5","serialNumber":"SN-1","locationId":3,"part":{"id":7,"partNumber":"ASM-100"}}}]}})";

// A run with steps 21 (COMPLETE), 22 (TODO), 23 (TODO); step 22 carries fields.
std::string run9(const std::string& step22_status = "TODO") {
  return R"({"id":9,"title":"r","status":"IN_PROGRESS","partInventoryId":5,"steps":[)"
         R"({"id":23,"title":"Pack","position":3,"status":"TODO","_etag":"e23","fields":[]},)"
         R"({"id":21,"title":"Build","position":1,"status":"COMPLETE","_etag":"e21","fields":[]},)"
         R"({"id":22,"title":"Test","position":2,"status":")" +
         step22_status +
         R"(","_etag":"e22","fields":[)"
         R"({"id":31,"name":"Torque","type":"NUMBER","value":null,"_etag":"s22"},)"
         R"({"id":32,"name":"Leak test","type":"BOOLEAN","value":null,"_etag":"s22"},)"
         R"({"id":33,"name":"Note","type":"STRING","value":null,"_etag":"s22"},)"
         R"({"id":34,"name":"Colour","type":"SELECT","value":"RED","_etag":"s22"},)"
         R"({"id":35,"name":"Photo","type":"FILE_ATTACHMENT","value":null,"_etag":"s22"}]}]})";
}

std::string runs_page(const std::string& run) {
  return R"({"runs":{"edges":[{"node":)" + run + R"(}],"pageInfo":{"hasNextPage":false,"endCursor":null}}})";
}

}  // namespace

TEST_GROUP(IonOps) {
  FakeGraphqlClient client;
  RecordingHost host{client};

  void answer(const std::string& op, agent::GraphqlResponse r) {
    client.answer(op, std::move(r));
  }
  void answer(const std::string& op, const std::string& data) {
    client.answer(op, data);
  }
  void setup() override {
    client.use_script();
  }
  OpOutcome run(const agent::IntentRecord& rec) {
    std::optional<OpOutcome> out;
    auto op = agent::make_ion_op(rec, host, [&out](OpOutcome o) { out = std::move(o); });
    op->start();
    for (int i = 0; i < 50 && !out; ++i) {
      client.pump();
    }
    CHECK_TEXT(out.has_value(), "operation never finished");
    return *out;
  }
  const SentRequest& sent(const std::string& op, int nth = 0) {
    int n = 0;
    for (const auto& s : client.log) {
      if (s.op == op && n++ == nth) {
        return s;
      }
    }
    FAIL(("no request " + op).c_str());
    return client.log.front();
  }
};

TEST(IonOps, UnitEnsureCreatesAMissingUnitForTheLatestRevision) {
  answer("EnsureUnit",
         R"({"units":{"edges":[]},"parts":{"edges":[)"
         R"({"node":{"id":6,"partNumber":"ASM-100","revision":"A","isLatestRevision":false}},)"
         R"({"node":{"id":7,"partNumber":"asm-100","revision":"B","isLatestRevision":true}}]}})");
  answer("CreateUnit", R"({"createPartInventory":{"partInventory":{"id":5}}})");
  auto o = run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"serial":"SN-1","partNumber":"ASM-100"})", sent("EnsureUnit").variables.c_str());
  STRCMP_EQUAL(R"({"input":{"partId":"7","serialNumber":"SN-1","quantity":1}})",
               sent("CreateUnit").variables.c_str());
  // Scanned text never enters the document.
  CHECK(sent("EnsureUnit").document.find("SN-1") == std::string::npos);
}

TEST(IonOps, UnitEnsureDoesNothingWhenTheUnitExists) {
  answer("EnsureUnit",
         std::string(kUnit5).insert(std::string(kUnit5).size() - 1, R"(,"parts":{"edges":[]})"));
  auto o = run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.log.size());
}

TEST(IonOps, UnitEnsureRejectsAnUnknownPartNumber) {
  answer("EnsureUnit", R"({"units":{"edges":[]},"parts":{"edges":[]}})");
  auto o = run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"NOPE"})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("unit.ensure: no part 'NOPE' at ION", o.message.c_str());
}

TEST(IonOps, UnknownSerialIsRejectedWithTheSerial) {
  answer("MoveUnit", R"({"units":{"edges":[]},"locs":{"edges":[{"node":{"id":4,"name":"Bay 2"}}]}})");
  auto o = run(make("unit.move", R"({"serial":"SN-404","location":"Bay 2"})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("unit.move: no unit with serial 'SN-404' at ION", o.message.c_str());
}

TEST(IonOps, UnitMoveRereadsAfterAnEtagConflictAndRetries) {
  const std::string found = std::string(kUnit5).insert(
      std::string(kUnit5).size() - 1, R"(,"locs":{"edges":[{"node":{"id":4,"name":"Bay 2"}}]})");
  answer("MoveUnit", found);
  answer("MoveUnit",
         agent::GraphqlResponse(FakeGraphqlClient::fail(GraphqlOutcome::concurrency, "Etag does not match")));
  answer("MoveUnit", found);
  answer("MoveUnit", R"({"updatePartInventory":{"partInventory":{"id":5}}})");
  auto o = run(make("unit.move", R"({"serial":"SN-1","location":"Bay 2"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  // The mutation and the lookup share the operation name MoveUnit: lookup, update, lookup, update.
  LONGS_EQUAL(4, client.count("MoveUnit"));
  STRCMP_EQUAL(R"({"input":{"id":"5","etag":"u5","locationId":"4"}})", sent("MoveUnit", 3).variables.c_str());
}

TEST(IonOps, DroppedAnswerIsCheckedByReadingAgainNotByRepeating) {
  const std::string at3 = std::string(kUnit5).insert(
      std::string(kUnit5).size() - 1, R"(,"locs":{"edges":[{"node":{"id":4,"name":"Bay 2"}}]})");
  std::string at4 = at3;
  at4.replace(at4.find(R"("locationId":3)"), 14, R"("locationId":4)");
  answer("MoveUnit", at3);
  answer("MoveUnit", FakeGraphqlClient::fail(GraphqlOutcome::network, "connection reset"));
  answer("MoveUnit", at4);  // ION had applied the move
  auto o = run(make("unit.move", R"({"serial":"SN-1","location":"Bay 2"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(3, client.log.size());
}

TEST(IonOps, RunEnsureCreatesARunOnlyWhenNoneIsOpen) {
  answer("FindUnit", kUnit5);
  std::string closed = runs_page(R"({"id":8,"status":"COMPLETE","partInventoryId":5})");
  answer("OpenRuns", closed.insert(closed.size() - 1, R"(,"procedure":{"id":12,"title":"Final test"})"));
  answer("CreateRun", R"({"createRun":{"run":{"id":10}}})");
  auto o = run(make("run.ensure", R"({"serial":"SN-1","procedureId":12})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"procedureId":"12","unitId":"5"})", sent("OpenRuns").variables.c_str());
  STRCMP_EQUAL(
      R"({"input":{"procedureId":"12","partInventoryId":"5","title":"ASM-100 - SN-1 - Final test"}})",
      sent("CreateRun").variables.c_str());

  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(R"({"id":10,"status":"TODO","partInventoryId":5})"));
  o = run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.count("CreateRun"));
}

TEST(IonOps, CompletingATodoStepStartsItFirstAndPinsItBeforeMutating) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22b"}}})");
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"COMPLETE","_etag":"e22c"}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"COMPLETE"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"input":{"id":"22","etag":"e22","status":"IN_PROGRESS"}})",
               sent("SetStepStatus", 0).variables.c_str());
  STRCMP_EQUAL(R"({"input":{"id":"22","etag":"e22b","status":"COMPLETE"}})",
               sent("SetStepStatus", 1).variables.c_str());
  LONGS_EQUAL(1, host.saved.size());
  STRCMP_EQUAL(R"({"run":"9","step":"22"})", host.saved[0].second.c_str());
  LONGS_EQUAL(2, host.saved_at_request[0]);  // after the two lookups, before any mutation
}

TEST(IonOps, APinnedCompleteThatAlreadyHappenedDoesNotCompleteTheNextStep) {
  // Step 22 was completed but the answer was lost; "current step" is now 23.
  answer("ReadRun", R"({"run":)" + run9("COMPLETE") + "}");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"COMPLETE"})",
                    R"({"run":"9","step":"22"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(0, client.count("SetStepStatus"));
}

TEST(IonOps, StepStatusIsSkippedWhenTheStepIsAlreadyThere) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("IN_PROGRESS")));
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(0, client.count("SetStepStatus"));
  LONGS_EQUAL(0, host.saved.size());
}

TEST(IonOps, StepStatusByTitleAndByPosition) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":23}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"HOLD","step":"pack"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"input":{"id":"23","etag":"e23","status":"HOLD"}})",
               sent("SetStepStatus").variables.c_str());

  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"HOLD","step":7})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("step.status: run 9 has no step at position 7", o.message.c_str());
}

TEST(IonOps, StepStatusWithoutAnOpenRunIsRejected) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"COMPLETE"})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("step.status: no open run of procedure 12 for unit 'SN-1'", o.message.c_str());
}

TEST(IonOps, IonErrorsBecomeRejectionsWithIonsMessage) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  answer("SetStepStatus",
         FakeGraphqlClient::fail(GraphqlOutcome::graphql_errors,
                                 "Variable '$input' got invalid value 'DONE' at 'input.status'", 200));
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"DONE"})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  CHECK(o.cause == GraphqlOutcome::graphql_errors);
  CHECK(o.message.find("invalid value 'DONE'") != std::string::npos);
}

TEST(IonOps, TransientTroubleAsksForARetryWithRetryAfter) {
  auto r = FakeGraphqlClient::fail(GraphqlOutcome::rate_limited, "Too Many Requests", 429);
  r.retry_after = std::chrono::seconds(7);
  answer("FindUnit", std::move(r));
  auto o = run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})"));
  CHECK(o.verdict == OpOutcome::Verdict::retry);
  CHECK(o.cause == GraphqlOutcome::rate_limited);
  LONGS_EQUAL(7, o.retry_after.count());
}

TEST(IonOps, StepFieldsTypesValuesSkipsEqualOnesAndFollowsSharedEtags) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("IN_PROGRESS")));
  answer("SetField", R"({"updateRunStepFieldValue":{"runStepField":{"id":31,"_etag":"s22b"}}})");
  answer("SetField", R"({"updateRunStepFieldValue":{"runStepField":{"id":32,"_etag":"s22c"}}})");
  answer("SetField", R"({"updateRunStepFieldValue":{"runStepField":{"id":33,"_etag":"s22d"}}})");
  auto o = run(make("step.fields", R"({"serial":"SN-1","procedureId":"12","fields":)"
                                   R"({"Torque":"12.5","leak test":"PASS","Note":42,"Colour":"RED"}})"));
  CHECK_TEXT(o.verdict == OpOutcome::Verdict::delivered, o.message.c_str());
  LONGS_EQUAL(3, client.count("SetField"));  // Colour already RED
  STRCMP_EQUAL(R"({"input":{"id":"31","value":12.5,"etag":"s22"}})", sent("SetField", 0).variables.c_str());
  STRCMP_EQUAL(R"({"input":{"id":"32","value":true,"etag":"s22b"}})", sent("SetField", 1).variables.c_str());
  STRCMP_EQUAL(R"({"input":{"id":"33","value":"42","etag":"s22c"}})", sent("SetField", 2).variables.c_str());
}

TEST(IonOps, StepFieldsRejectValuesThatDoNotFitTheFieldType) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("IN_PROGRESS")));
  auto o = run(make("step.fields", R"({"serial":"SN-1","procedureId":"12","fields":{"Torque":"tight"}})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("step.fields: field 'Torque' is a NUMBER field; \"tight\" is not a number", o.message.c_str());

  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("IN_PROGRESS")));
  o = run(make("step.fields", R"({"serial":"SN-1","procedureId":"12","fields":{"Photo":"x"}})"));
  CHECK(o.message.find("FILE_ATTACHMENT, which step.fields does not write") != std::string::npos);

  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("IN_PROGRESS")));
  o = run(make("step.fields", R"({"serial":"SN-1","procedureId":"12","fields":{"Weight":1}})"));
  STRCMP_EQUAL("step.fields: step 'Test' has no field 'Weight'", o.message.c_str());
  LONGS_EQUAL(0, client.count("SetField"));
}

TEST(IonOps, IssueCreateSendsOnceThenLooksForItsMarkerOnRetry) {
  answer("FindUnit", kUnit5);
  answer("CreateIssue", R"({"createIssue":{"issue":{"id":77}}})");
  auto o = run(make("issue.create", R"({"serial":"SN-1","text":"Scratch on housing"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(0, client.count("FindIssue"));  // first attempt: nothing to look for
  LONGS_EQUAL(1, host.saved.size());
  const std::string& vars = sent("CreateIssue").variables;
  CHECK(vars.find(R"("partInventoryId":"5")") != std::string::npos);
  CHECK(vars.find(R"({"text":"Scratch on housing"})") != std::string::npos);
  CHECK(vars.find("6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab") != std::string::npos);

  // A retry after a lost answer finds the marker and does not create a second issue.
  answer("FindUnit", kUnit5);
  answer(
      "FindIssue",
      R"({"issues":{"edges":[{"node":{"id":76,"causeCondition":"other"}}],"pageInfo":{"hasNextPage":true,"endCursor":"c1"}}})");
  answer(
      "FindIssue",
      R"({"issues":{"edges":[{"node":{"id":77,"causeCondition":[{"children":[{"text":"ion-agent ref 6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"}]}]}}],"pageInfo":{"hasNextPage":false}}})");
  o = run(make("issue.create", R"({"serial":"SN-1","text":"Scratch on housing"})", R"({"sent":true})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.count("CreateIssue"));
  // The search looks at this unit's issues only, not the organisation's.
  STRCMP_EQUAL(R"({"unit":"5"})", sent("FindIssue", 0).variables.c_str());
  STRCMP_EQUAL(R"({"after":"c1","unit":"5"})", sent("FindIssue", 1).variables.c_str());
  CHECK(sent("FindIssue").document.find("filters: {partInventoryId: {eq: $unit}}") != std::string::npos);
}

TEST(IonOps, IssueCreateGoesOnTheRunStepItCameFromAndKeepsItOnRetry) {
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("FAILED")));
  answer("CreateIssue", R"({"createIssue":{"issue":{"id":78}}})");
  auto o = run(make(
      "issue.create",
      R"j({"serial":"SN-1","text":"Leak","procedureId":"12","interlock":"skipped: ION unreachable (network)"})j"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  const std::string& vars = sent("CreateIssue").variables;
  CHECK_TEXT(vars.find(R"("runStepId":"22")") != std::string::npos, vars.c_str());
  CHECK(vars.find("Interlock check skipped: ION unreachable (network)") != std::string::npos);
  STRCMP_EQUAL(R"({"sent":true,"runStepId":"22"})", host.saved.at(0).second.c_str());

  // The retry does not re-choose the step (the current one may have moved on).
  answer("FindUnit", kUnit5);
  answer("FindIssue", R"({"issues":{"edges":[],"pageInfo":{"hasNextPage":false}}})");
  answer("CreateIssue", R"({"createIssue":{"issue":{"id":79}}})");
  o = run(make("issue.create", R"({"serial":"SN-1","text":"Leak","procedureId":"12"})",
               R"({"sent":true,"runStepId":"22"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.count("OpenRuns"));
  CHECK(sent("CreateIssue", 1).variables.find(R"("runStepId":"22")") != std::string::npos);

  // No open run: the issue goes on the unit alone.
  answer("FindUnit", kUnit5);
  answer("OpenRuns", R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}}})");
  answer("CreateIssue", R"({"createIssue":{"issue":{"id":80}}})");
  o = run(make("issue.create", R"({"serial":"SN-1","text":"Leak","procedureId":"12"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  CHECK(sent("CreateIssue", 2).variables.find("runStepId") == std::string::npos);
}

TEST(IonOps, NoMutationWithoutADurableCheckpoint) {
  host.fail_save = true;
  answer("FindUnit", kUnit5);
  auto o = run(make("issue.create", R"({"serial":"SN-1","text":"x"})"));
  CHECK(o.verdict == OpOutcome::Verdict::retry);
  CHECK(o.message.find("cannot save checkpoint") != std::string::npos);
  LONGS_EQUAL(0, client.count("CreateIssue"));
}

TEST(IonOps, GraphqlRawSendsTheDocumentAndVariablesAsGiven) {
  answer("Custom", R"({"x":1})");
  auto o = run(make("graphql.raw",
                    R"({"document":"mutation Custom($s: String!) { x(s: $s) }","variables":{"s":"SN-1"}})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"s":"SN-1"})", sent("Custom").variables.c_str());
}

// The lookup cache (agent/ion/lookup_cache.hpp): a scan's intents share what they learnt, and
// every way a cached answer can be stale ends in a fresh read, never a wrong outcome.
TEST_GROUP_BASE(IonOpsCached, TEST_GROUP_CppUTestGroupIonOps) {
  hal::sim::FakeClock clock;
  agent::LookupCache cache{clock};
  void setup() override {
    TEST_GROUP_CppUTestGroupIonOps::setup();
    host.cache = &cache;
  }
  void learn_unit5() {
    agent::UnitRef u;
    u.id = "5";
    u.etag = "u5";
    u.serial = "SN-1";
    u.part_id = "7";
    u.part_number = "ASM-100";
    cache.put_unit(std::nullopt, u);
  }
  void learn_run9(const std::string& step22_status = "TODO") {
    agent::Json run = agent::json::parse(run9(step22_status));
    cache.put_run("SN-1", "5", "12", run.get());
  }
};

TEST(IonOpsCached, AScansThreeIntentsTakeFiveRequests) {
  answer("EnsureUnit",
         R"({"units":{"edges":[]},"parts":{"edges":[)"
         R"({"node":{"id":7,"partNumber":"ASM-100","revision":"B","isLatestRevision":true}}]}})");
  answer("CreateUnit",
         R"({"createPartInventory":{"partInventory":{"id":5,"_etag":"u5","serialNumber":"SN-1",)"
         R"("locationId":null,"part":{"id":7,"partNumber":"ASM-100"}}}})");
  answer("OpenRuns",
         R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":{"id":12,"title":"Final"}})");
  answer("CreateRun", R"({"createRun":{"run":)" + run9() + "}}");
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22b"}}})");
  CHECK(run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})")).verdict ==
        OpOutcome::Verdict::delivered);
  CHECK(run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})")).verdict ==
        OpOutcome::Verdict::delivered);
  CHECK(run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})")).verdict ==
        OpOutcome::Verdict::delivered);
  LONGS_EQUAL(5, client.log.size());
  LONGS_EQUAL(0, client.count("FindUnit"));   // the unit unit.ensure created
  LONGS_EQUAL(0, client.count("Procedure"));  // read beside the runs
  STRCMP_EQUAL(R"({"input":{"procedureId":"12","partInventoryId":"5","title":"ASM-100 - SN-1 - Final"}})",
               sent("CreateRun").variables.c_str());
  // The run's current step, with the etag createRun returned.
  STRCMP_EQUAL(R"({"input":{"id":"22","etag":"e22","status":"IN_PROGRESS"}})",
               sent("SetStepStatus").variables.c_str());
  // And the cache follows the mutation: the step's new status and etag.
  agent::Json cached = cache.run("5", "12");
  CHECK(cached != nullptr);
  CHECK(std::string(agent::json::print(cached.get())).find(R"("status":"IN_PROGRESS","_etag":"e22b")") !=
        std::string::npos);
}

TEST(IonOpsCached, WithoutTheCacheTheSameScanTakesEight) {
  host.cache = nullptr;
  answer("EnsureUnit",
         R"({"units":{"edges":[]},"parts":{"edges":[)"
         R"({"node":{"id":7,"partNumber":"ASM-100","revision":"B","isLatestRevision":true}}]}})");
  answer("CreateUnit", R"({"createPartInventory":{"partInventory":{"id":5}}})");
  answer("FindUnit", kUnit5);
  answer("OpenRuns",
         R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":{"id":12,"title":"Final"}})");
  answer("CreateRun", R"({"createRun":{"run":)" + run9() + "}}");
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22b"}}})");
  run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})"));
  run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})"));
  CHECK(run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})")).verdict ==
        OpOutcome::Verdict::delivered);
  LONGS_EQUAL(8, client.log.size());  // the procedure still rides with the runs
}

TEST(IonOpsCached, AUnitDeletedAtIonSinceIsLookedUpAgainNotDeadLettered) {
  learn_unit5();  // ION has since replaced unit 5 by unit 6
  answer("OpenRuns",
         R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":{"id":12,"title":"Final"}})");
  answer("CreateRun", FakeGraphqlClient::fail(GraphqlOutcome::graphql_errors, "PartInventory 5 not found"));
  answer(
      "FindUnit",
      R"({"units":{"edges":[{"node":{"id":6,"_etag":"u6","serialNumber":"SN-1","part":{"id":7,"partNumber":"ASM-100"}}}]}})");
  answer("OpenRuns",
         R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":{"id":12,"title":"Final"}})");
  answer("CreateRun", R"({"createRun":{"run":{"id":10,"status":"TODO","steps":[]}}})");
  auto o = run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})"));
  CHECK_TEXT(o.verdict == OpOutcome::Verdict::delivered, o.message.c_str());
  STRCMP_EQUAL(R"({"procedureId":"12","unitId":"6"})", sent("OpenRuns", 1).variables.c_str());
  CHECK(sent("CreateRun", 1).variables.find(R"("partInventoryId":"6")") != std::string::npos);
}

TEST(IonOpsCached, ARejectionIsMadeOnFreshDataOnly) {
  learn_unit5();
  answer("OpenRuns", R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":null})");
  answer("FindUnit", kUnit5);
  answer("OpenRuns", R"({"runs":{"edges":[],"pageInfo":{"hasNextPage":false}},"procedure":null})");
  auto o = run(make("run.ensure", R"({"serial":"SN-1","procedureId":"12"})"));
  CHECK(o.verdict == OpOutcome::Verdict::rejected);
  STRCMP_EQUAL("run.ensure: no procedure 12 at ION", o.message.c_str());
  LONGS_EQUAL(1, client.count("FindUnit"));  // asked once more before giving up
}

TEST(IonOpsCached, AStepTheCacheSaysIsDoneIsReadAgainBeforeNothingIsSent) {
  learn_unit5();
  learn_run9("IN_PROGRESS");  // stale: someone set step 22 back to TODO at ION
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9("TODO")));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22b"}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, client.count("SetStepStatus"));
}

TEST(IonOpsCached, AStaleCachedEtagIsAConflictThenAFreshRead) {
  learn_unit5();
  learn_run9();
  answer("SetStepStatus", FakeGraphqlClient::fail(GraphqlOutcome::concurrency, "Etag does not match"));
  answer("FindUnit", kUnit5);
  std::string moved = run9();
  moved.replace(moved.find("\"e22\""), 5, "\"e22x\"");
  answer("OpenRuns", runs_page(moved));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22y"}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  STRCMP_EQUAL(R"({"input":{"id":"22","etag":"e22x","status":"IN_PROGRESS"}})",
               sent("SetStepStatus", 1).variables.c_str());
}

TEST(IonOpsCached, CompletingTheCurrentStepPinsItFromAFreshRead) {
  learn_unit5();
  learn_run9();  // stale: step 22 was completed at ION, so 23 is current
  std::string done22 = run9("COMPLETE");
  answer("OpenRuns", runs_page(done22));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":23,"status":"IN_PROGRESS","_etag":"e23b"}}})");
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":23,"status":"COMPLETE","_etag":"e23c"}}})");
  auto o = run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"COMPLETE"})"));
  CHECK(o.verdict == OpOutcome::Verdict::delivered);
  LONGS_EQUAL(1, host.saved.size());
  STRCMP_EQUAL(R"({"run":"9","step":"23"})", host.saved[0].second.c_str());
}

TEST(IonOpsCached, EntriesExpire) {
  learn_unit5();
  learn_run9();
  clock.advance(std::chrono::seconds(11));  // runs last 10 s, units 60 s
  CHECK(cache.run("5", "12") == nullptr);
  CHECK(cache.unit("SN-1", std::nullopt).has_value());
  clock.advance(std::chrono::seconds(50));
  CHECK(!cache.unit("SN-1", std::nullopt).has_value());
  answer("FindUnit", kUnit5);
  answer("OpenRuns", runs_page(run9()));
  answer("SetStepStatus", R"({"updateRunStep":{"runStep":{"id":22,"status":"IN_PROGRESS","_etag":"e22b"}}})");
  run(make("step.status", R"({"serial":"SN-1","procedureId":"12","status":"IN_PROGRESS"})"));
  LONGS_EQUAL(3, client.log.size());
}

TEST(IonOpsCached, UnitsOfASerialWithTwoPartsAreNotCachedUnderTheSerialAlone) {
  answer(
      "EnsureUnit",
      R"({"units":{"edges":[{"node":{"id":5,"_etag":"u5","serialNumber":"SN-1","part":{"id":7,"partNumber":"ASM-100"}}},)"
      R"({"node":{"id":8,"_etag":"u8","serialNumber":"SN-1","part":{"id":9,"partNumber":"ASM-200"}}}]},)"
      R"("parts":{"edges":[]}})");
  CHECK(run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})")).verdict ==
        OpOutcome::Verdict::delivered);
  CHECK(cache.unit("SN-1", std::string("asm-100")).has_value());
  CHECK(!cache.unit("SN-1", std::nullopt).has_value());
}

TEST(IonOpsCached, MoreThanAPageOfUnitsWithTheSerialAsksWithThePart) {
  answer("EnsureUnit", R"({"units":{"edges":[],"pageInfo":{"hasNextPage":true}},"parts":{"edges":[]}})");
  answer("EnsureUnit",
         std::string(kUnit5).insert(std::string(kUnit5).size() - 1, R"(,"parts":{"edges":[]})"));
  CHECK(run(make("unit.ensure", R"({"serial":"SN-1","partNumber":"ASM-100"})")).verdict ==
        OpOutcome::Verdict::delivered);
  CHECK(sent("EnsureUnit", 0).document.find("ilike: $partNumber}}, first: 10") == std::string::npos);
  CHECK(sent("EnsureUnit", 1).document.find("part: {partNumber: {ilike: $partNumber}}") != std::string::npos);
  CHECK(!cache.unit("SN-1", std::nullopt).has_value());  // uniqueness unknown
  CHECK(cache.unit("SN-1", std::string("ASM-100")).has_value());
}

TEST(IonOpsCached, TheCacheStaysBounded) {
  agent::LookupCache small(clock, {std::chrono::seconds(60), std::chrono::seconds(10), 4});
  for (int i = 0; i < 10; ++i) {
    agent::UnitRef u;
    u.id = std::to_string(i);
    u.serial = "SN-" + std::to_string(i);
    small.put_unit(std::nullopt, u);
    clock.advance(std::chrono::milliseconds(1));
  }
  LONGS_EQUAL(4, small.units());
  CHECK(small.unit("SN-9", std::nullopt).has_value());  // the newest stay
  CHECK(!small.unit("SN-0", std::nullopt).has_value());
}
