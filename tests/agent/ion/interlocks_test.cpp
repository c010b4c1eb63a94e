// SPDX-License-Identifier: Apache-2.0
// IonInterlocks against a scripted GraphQL client and a fake clock: what it asks, how it
// decides, the short deadline, and the per-unit cache of passes.
#include "agent/ion/interlocks.hpp"

#include <CppUTest/TestHarness.h>

#include <map>
#include <optional>
#include <vector>

#include "fake_graphql.hpp"
#include "hal/sim/fake_clock.hpp"

using agent::GraphqlOutcome;
using agent::InterlockAnswer;
using testing_support::FakeGraphqlClient;
using testing_support::SentRequest;
using Verdict = agent::InterlockAnswer::Verdict;

namespace {

const char* kUnit5 =
    R"({"units":{"edges":[{"node":{"id":5,"_etag":"u5","serialNumber":"SN-1","locationId":4,"part":{"id":7,"partNumber":"ASM-100"}}}]}})";

std::string state(const std::string& issues, const std::string& runs,
                  const std::string& location = "TEST-STAND-1") {
  return R"({"unit":{"id":5,"location":{"id":4,"name":")" + location + R"("}},"issues":{"edges":[)" + issues +
         R"(]},"runs":{"edges":[)" + runs + "]}}";
}

agent::InterlockQuery query(std::vector<std::string> conditions) {
  agent::InterlockQuery q;
  q.serial = "SN-1";
  for (const auto& c : conditions) {
    q.conditions.push_back(*agent::parse_condition(c));
  }
  return q;
}

}  // namespace

TEST_GROUP(IonInterlocks) {
  FakeGraphqlClient client;
  hal::sim::FakeClock clock;
  std::unique_ptr<agent::IonInterlocks> checker;

  void answer(const std::string& op, const std::string& data) {
    client.answer(op, data);
  }
  void setup() override {
    client.use_script(/*unscripted_is_network=*/true);
    agent::InterlockOptions o;
    o.timeout = std::chrono::milliseconds(1500);
    o.cache = std::chrono::seconds(20);
    checker = std::make_unique<agent::IonInterlocks>(client, clock, o);
  }
  // Asks and pumps the client until the answer arrives.
  InterlockAnswer ask(const agent::InterlockQuery& q) {
    std::optional<InterlockAnswer> got;
    auto now = checker->check(q, [&got](InterlockAnswer a) { got = std::move(a); });
    if (now) {
      return *now;
    }
    for (int i = 0; i < 5 && !got; ++i) {
      client.pump();
    }
    CHECK_TEXT(got.has_value(), "no answer");
    return *got;
  }
};

TEST(IonInterlocks, OneLookupThenOneBatchedQueryPerCheck) {
  answer("InterlockUnit", kUnit5);
  answer("InterlockState", state("", R"({"node":{"id":9,"title":"r","status":"IN_PROGRESS"}})"));
  InterlockAnswer a = ask(query({"no_open_issues", "run_not_held", "at_location:TEST-STAND-1"}));
  CHECK(a.verdict == Verdict::pass);
  LONGS_EQUAL(2, client.log.size());
  STRCMP_EQUAL(R"({"serial":"SN-1"})", client.log[0].variables.c_str());
  STRCMP_EQUAL(R"({"unit":"5"})", client.log[1].variables.c_str());
  // One document, three aliases.
  const std::string& doc = client.log[1].document;
  CHECK(doc.find("unit: partInventory") != std::string::npos);
  CHECK(doc.find("issues: issues(filters: {partInventoryId") != std::string::npos);
  CHECK(doc.find("runs: runs(filters: {partInventoryId") != std::string::npos);

  // The unit's id is remembered: a later check (past the cache time) is one query.
  clock.advance(std::chrono::seconds(21));
  answer("InterlockState", state("", ""));
  a = ask(query({"run_not_held"}));
  CHECK(a.verdict == Verdict::pass);
  LONGS_EQUAL(3, client.log.size());
  STRCMP_EQUAL("InterlockState", client.log[2].op.c_str());
}

TEST(IonInterlocks, SaysWhichConditionAndWhichIssueOrRun) {
  answer("InterlockUnit", kUnit5);
  answer(
      "InterlockState",
      state(
          R"({"node":{"id":3001,"title":"Scratch","status":"CLOSED"}},{"node":{"id":3002,"title":"Dent","status":"OPEN"}})",
          ""));
  InterlockAnswer a = ask(query({"no_open_issues"}));
  CHECK(a.verdict == Verdict::fail);
  STRCMP_EQUAL("no_open_issues", a.condition.c_str());
  STRCMP_EQUAL("issue 3002 \"Dent\" is OPEN", a.detail.c_str());

  answer("InterlockState", state("", R"({"node":{"id":9,"title":"Assembly","status":"HOLD"}})"));
  a = ask(query({"no_open_issues", "run_not_held"}));
  CHECK(a.verdict == Verdict::fail);
  STRCMP_EQUAL("run_not_held", a.condition.c_str());
  STRCMP_EQUAL("run 9 \"Assembly\" is HOLD", a.detail.c_str());

  answer("InterlockState", state("", "", "WIP-1"));
  a = ask(query({"at_location:TEST-STAND-1"}));
  CHECK(a.verdict == Verdict::fail);
  STRCMP_EQUAL("at_location:TEST-STAND-1", a.condition.c_str());
  STRCMP_EQUAL("unit is at WIP-1, not TEST-STAND-1", a.detail.c_str());
}

TEST(IonInterlocks, APassIsCachedPerUnitAFailureIsNot) {
  answer("InterlockUnit", kUnit5);
  answer("InterlockState", state(R"({"node":{"id":3002,"title":"Dent","status":"OPEN"}})", ""));
  CHECK(ask(query({"no_open_issues"})).verdict == Verdict::fail);
  // Closed meanwhile: the next scan asks again and passes.
  answer("InterlockState", state(R"({"node":{"id":3002,"title":"Dent","status":"CLOSED"}})", ""));
  CHECK(ask(query({"no_open_issues"})).verdict == Verdict::pass);
  std::size_t sent = client.log.size();
  // Scan-then-press: answered at once from the cache, nothing sent.
  bool called = false;
  auto now = checker->check(query({"no_open_issues"}), [&called](InterlockAnswer) { called = true; });
  CHECK_TRUE(now.has_value());
  CHECK(now->verdict == Verdict::pass);
  LONGS_EQUAL(sent, client.log.size());
  // After the cache time it asks again.
  clock.advance(std::chrono::seconds(21));
  answer("InterlockState", state("", ""));
  CHECK(ask(query({"no_open_issues"})).verdict == Verdict::pass);
  LONGS_EQUAL(sent + 1, client.log.size());
  CHECK_FALSE(called);
}

TEST(IonInterlocks, NoAnswerInTimeIsUnknownAndALateAnswerIsDropped) {
  std::vector<InterlockAnswer> got;
  auto now = checker->check(query({"no_open_issues"}), [&got](InterlockAnswer a) { got.push_back(a); });
  CHECK_FALSE(now.has_value());
  auto deadline = checker->next_deadline();
  CHECK_TRUE(deadline.has_value());
  CHECK(*deadline == clock.mono() + std::chrono::milliseconds(1500));
  clock.advance(std::chrono::milliseconds(1500));
  checker->on_deadline(clock.mono());
  LONGS_EQUAL(1, got.size());
  CHECK(got[0].verdict == Verdict::unknown);
  STRCMP_EQUAL("ION did not answer within 1500 ms", got[0].detail.c_str());
  CHECK_FALSE(checker->next_deadline().has_value());
  answer("InterlockUnit", kUnit5);
  client.pump();  // the late answer
  LONGS_EQUAL(1, got.size());
}

TEST(IonInterlocks, OfflineIsUnknownAndAnUnknownUnitHoldsNothing) {
  InterlockAnswer a = ask(query({"no_open_issues"}));  // nothing scripted: network failure
  CHECK(a.verdict == Verdict::unknown);
  STRCMP_EQUAL("ION unreachable (network)", a.detail.c_str());

  answer("InterlockUnit", R"({"units":{"edges":[]}})");
  CHECK(ask(query({"no_open_issues", "run_not_held"})).verdict == Verdict::pass);
  answer("InterlockUnit", R"({"units":{"edges":[]}})");
  a = ask(query({"at_location:TEST-STAND-1"}));
  CHECK(a.verdict == Verdict::fail);
  STRCMP_EQUAL("unit SN-1 is not known at ION", a.detail.c_str());
}

TEST(IonInterlocks, ConditionsParseAsTheProfileWritesThem) {
  CHECK_FALSE(agent::parse_condition("no_issues").has_value());
  CHECK_FALSE(agent::parse_condition("at_location:").has_value());
  auto c = agent::parse_condition("at_location:{station.location}");
  CHECK(c->kind == agent::Condition::Kind::at_location);
  STRCMP_EQUAL("{station.location}", c->arg.c_str());
}

TEST(IonInterlocks, AScanThatCheckedMoreCoversAPressThatChecksLess) {
  answer("InterlockUnit", kUnit5);
  answer("InterlockState", state("", ""));
  CHECK(ask(query({"no_open_issues", "run_not_held", "at_location:TEST-STAND-1"})).verdict == Verdict::pass);
  std::size_t sent = client.log.size();
  auto now = checker->check(query({"run_not_held"}), [](InterlockAnswer) {});
  CHECK_TRUE(now.has_value());
  LONGS_EQUAL(sent, client.log.size());
  // A condition not checked yet is asked.
  answer("InterlockState", state("", "", "WIP-1"));
  CHECK(ask(query({"run_not_held", "at_location:WIP-1"})).verdict == Verdict::pass);
  LONGS_EQUAL(sent + 1, client.log.size());
}

TEST(IonInterlocks, AStaleUnitIdIsLookedUpOnceMore) {
  answer("InterlockUnit", kUnit5);
  answer("InterlockState", state("", ""));
  CHECK(ask(query({"run_not_held"})).verdict == Verdict::pass);
  clock.advance(std::chrono::seconds(21));
  // Unit 5 was deleted and re-created as 6: the remembered id reads null, the lookup finds 6.
  answer("InterlockState", R"({"unit":null,"issues":{"edges":[]},"runs":{"edges":[]}})");
  answer(
      "InterlockUnit",
      R"({"units":{"edges":[{"node":{"id":6,"serialNumber":"SN-1","part":{"id":7,"partNumber":"ASM-100"}}}]}})");
  answer("InterlockState", state("", ""));
  CHECK(ask(query({"run_not_held"})).verdict == Verdict::pass);
  STRCMP_EQUAL(R"({"unit":"6"})", client.log.back().variables.c_str());
  // A server that keeps answering null does not make it loop.
  clock.advance(std::chrono::seconds(21));
  answer("InterlockState", R"({"unit":null})");
  answer("InterlockUnit", kUnit5);
  answer("InterlockState", R"({"unit":null})");
  InterlockAnswer a = ask(query({"run_not_held"}));
  CHECK(a.verdict == Verdict::unknown);
  STRCMP_EQUAL("ION returned no unit SN-1", a.detail.c_str());
}
