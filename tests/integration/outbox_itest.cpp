// SPDX-License-Identifier: Apache-2.0
// Outbox + ION operations + dispatcher + the real GraphQL client against the ION simulator
// over HTTPS, with SQLite files on disk: offline backlog, exactly-once under lost answers,
// dead letters and their redrive through `ion-agent queue retry`.
#include <CppUTest/TestHarness.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/log.hpp"
#include "ion_sim.hpp"
#include "outbox_harness.hpp"
#include "scratch_dir.hpp"
#include "sim_state.hpp"

using namespace std::chrono_literals;
using agent::IntentState;

namespace {

std::string field_text(const cJSON* o, const char* k) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

// Runs `ion-agent <args>` and returns its exit status and stdout.
int run_cli(const std::string& args, std::string& out) {
  std::string cmd = std::string(ION_AGENT_EXE) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return -1;
  }
  char buf[512];
  out.clear();
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    out += buf;
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_GROUP(OutboxIon) {
  ion_test::IonSim sim;
  testing_support::ScratchDir dir{"outbox-itest"};
  hal::SystemClock clock;
  std::unique_ptr<agent::Outbox> box;
  std::unique_ptr<agent::CurlGraphqlClient> client;
  std::unique_ptr<agent::Dispatcher> dispatcher;

  void setup() override {
    CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
    hal::log::set_level(hal::log::Level::error);
    auto b = agent::Outbox::open(agent::outbox_path(dir.path()), {}, clock);
    CHECK_TRUE_TEXT(b.ok(), b.ok() ? "" : b.error().what.c_str());
    box = std::move(*b);
    auto c = outbox_test::make_sim_client({sim.api_url(), sim.token_url(), sim.ca()}, clock);
    CHECK_TRUE_TEXT(c.ok(), c.ok() ? "" : c.error().what.c_str());
    client = std::move(*c);
    agent::DispatcherOptions o;
    o.backoff_base = 100ms;
    o.backoff_cap = 2s;
    o.backoff_floor = 50ms;
    o.rescan_interval = 200ms;
    o.in_doubt_hold = 10s;  // the harness client's total timeout
    dispatcher = std::make_unique<agent::Dispatcher>(*box, *client, clock, o);
  }
  void teardown() override {
    dispatcher.reset();
    client.reset();
    box.reset();
    hal::log::set_level(hal::log::Level::info);
  }
  void accept(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      auto id = box->append(outbox_test::recipe_intent(prefix, i, clock));
      CHECK_TRUE_TEXT(id.ok(), id.ok() ? "" : id.error().what.c_str());
    }
  }
  bool drain(std::chrono::milliseconds limit) {
    return outbox_test::drain(*dispatcher, *client, clock, limit);
  }
  void expect_effect(const std::string& prefix, int n) {
    agent::Json state = sim.state();
    agent::Json log = sim.admin_get("/_sim/log");
    std::string problems = outbox_test::check_recipe_effect(state.get(), log.get(), prefix, n);
    CHECK_TRUE_TEXT(problems.empty(), problems.c_str());
  }
  std::string add(const std::string& kind, const std::string& subject, const std::string& inputs) {
    agent::NewIntent n;
    n.kind = kind;
    n.subject = subject;
    n.inputs_json = inputs;
    n.at.wall_ms = 1;
    auto id = box->append(n);
    CHECK_TRUE_TEXT(id.ok(), id.ok() ? "" : id.error().what.c_str());
    return *id;
  }
};

namespace {

// Log entries that carried more than one top-level field (a batch of aliases), and how many
// of those applied mutations and lost their answer.
struct BatchCount {
  int batches = 0;
  int dropped_applied_batches = 0;
  int fields = 0;  // top-level fields over all requests: the GraphQL operations' lookups and mutations
};

BatchCount count_batches(const cJSON* log) {
  BatchCount n;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log, "entries")) {
    n.fields += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "root_fields"));
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "root_fields")) < 2) {
      continue;
    }
    ++n.batches;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "applied")) &&
        cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "status"))) {
      ++n.dropped_applied_batches;
    }
  }
  return n;
}

}  // namespace

TEST(OutboxIon, AThousandIntentsAcceptedOfflineAreDeliveredInOrderExactlyOnce) {
  // ION unreachable: every connection (token endpoint too) is closed unanswered.
  CHECK(sim.admin("/_sim/faults", R"({"kind":"close","match":"any","probability":1.0})") != nullptr);
  accept("OFF", 1000);
  CHECK_FALSE(drain(3s));
  auto st = box->stats();
  LONGS_EQUAL(1000, st->pending + st->in_flight);
  LONGS_EQUAL(0, st->done);
  CHECK(!st->last_error.empty());
  // Backoff, not a hot loop: a handful of probes in 3 s.
  agent::Json log = sim.admin_get("/_sim/log");
  const int probes = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(log.get(), "entries"));
  CHECK_TEXT(probes < 60, std::to_string(probes).c_str());

  CHECK(sim.admin_delete("/_sim/faults") != nullptr);
  CHECK_TRUE(drain(300s));
  st = box->stats();
  LONGS_EQUAL(1000, st->done);
  LONGS_EQUAL(0, st->dead);
  expect_effect("OFF", 1000);
}

TEST(OutboxIon, ExactlyOnceWhenEveryMutationIsAppliedAndItsAnswerLost) {
  CHECK(sim.admin("/_sim/faults", R"({"kind":"drop_after_apply","mutations_only":true,"probability":1.0})") !=
        nullptr);
  accept("DROPALL", 100);
  CHECK_TRUE(drain(240s));
  LONGS_EQUAL(100, box->stats()->done);
  LONGS_EQUAL(0, box->stats()->dead);
  expect_effect("DROPALL", 100);
  // Every mutation really lost its answer (a batched request carries several).
  agent::Json log = sim.admin_get("/_sim/log");
  const cJSON* e = nullptr;
  int applied = 0;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "applied"))) {
      applied += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "applied_keys"));
      CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "status")));
    }
  }
  CHECK_TEXT(applied >= 100, std::to_string(applied).c_str());
  CHECK(count_batches(log.get()).dropped_applied_batches > 0);  // batches applied, then dropped
}

TEST(OutboxIon, ExactlyOnceWhenAKeptAliveConnectionClosesRightAfterEachMutationApplied) {
  // Every mutation that travels on a connection already used (keep-alive) is applied, then
  // the connection closes unanswered: the case where libcurl would silently send it again.
  CHECK(sim.admin(
            "/_sim/faults",
            R"({"kind":"drop_after_apply","mutations_only":true,"reused_only":true,"probability":1.0})") !=
        nullptr);
  accept("KEEPDROP", 200);
  CHECK_TRUE(drain(240s));
  LONGS_EQUAL(200, box->stats()->done);
  LONGS_EQUAL(0, box->stats()->dead);
  expect_effect("KEEPDROP", 200);  // once each, in order per unit
  agent::Json log = sim.admin_get("/_sim/log");
  BatchCount n = count_batches(log.get());
  CHECK_TEXT(n.dropped_applied_batches > 0, "no batched mutation was applied and then dropped");
  agent::Json faults = sim.admin_get("/_sim/faults");
  const cJSON* f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(faults.get(), "faults"), 0);
  CHECK(cJSON_GetObjectItemCaseSensitive(f, "hits")->valueint >= 20);
}

TEST(OutboxIon, ABacklogTravelsInBatchesOnOneConnectionExactlyOnce) {
  accept("BATCH", 500);
  CHECK_TRUE(drain(240s));
  LONGS_EQUAL(500, box->stats()->done);
  expect_effect("BATCH", 500);
  agent::Json log = sim.admin_get("/_sim/log");
  BatchCount n = count_batches(log.get());
  const std::uint64_t requests = client->requests_sent();
  // 50 units x 10 intents: about 1 200 lookups and mutations (top-level fields; the lookup
  // cache saves some), in at most half as many requests, on one kept-alive connection. (How
  // many share a request depends on how the subjects' paces line up: 460-560 requests here.)
  CHECK_TEXT(requests * 2 < static_cast<std::uint64_t>(n.fields),
             (std::to_string(requests) + " requests for " + std::to_string(n.fields) + " fields").c_str());
  CHECK(n.batches > 20);
  CHECK_TEXT(client->connections_opened() <= 2, std::to_string(client->connections_opened()).c_str());
}

TEST(OutboxIon, BatchesIonRefusesAsTooLargeAreSentOneByOne) {
  // A complexity limit: a document of more than 3 top-level fields is refused (HTTP 400,
  // errors only) before anything runs; the client sends those requests one at a time.
  CHECK(sim.admin("/_sim/config", R"({"max_root_fields": 3, "validation_error_status": 400})") != nullptr);
  accept("REFUSED", 100);
  CHECK_TRUE(drain(120s));
  LONGS_EQUAL(100, box->stats()->done);
  LONGS_EQUAL(0, box->stats()->dead);
  expect_effect("REFUSED", 100);
  CHECK(client->batches_refused() > 0);
}

TEST(OutboxIon, AFailingAliasInABatchDeadLettersOnlyItsOwnIntent) {
  // Twelve new units: twelve createPartInventory mutations in one batch; ION rejects the
  // first aliased field only (a rule on one object), the others apply.
  CHECK(sim.admin("/_sim/faults",
                  R"({"kind":"graphql_error","mutations_only":true,"count":1,)"
                  R"("message":"Rejected by a rule on this unit","code":"FORBIDDEN"})") != nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    std::string sn = "SN-ALIAS" + std::to_string(100 + i);
    ids.push_back(add("unit.ensure", sn, R"({"serial":")" + sn + R"(","partNumber":"ASM-100"})"));
  }
  CHECK_TRUE(drain(60s));
  auto st = box->stats();
  LONGS_EQUAL(11, st->done);
  LONGS_EQUAL(1, st->dead);
  int dead = 0;
  for (const auto& id : ids) {
    auto rec = box->find(id);
    CHECK_TRUE(rec.ok());
    if (rec->state == IntentState::dead) {
      ++dead;
      CHECK_TEXT(rec->last_error.find("Rejected by a rule on this unit") != std::string::npos,
                 rec->last_error.c_str());
    }
  }
  LONGS_EQUAL(1, dead);
  agent::Json state = sim.state();
  int created = 0;
  for (int i = 0; i < 12; ++i) {
    created += ion_test::unit_by_serial(state, "SN-ALIAS" + std::to_string(100 + i)) != nullptr ? 1 : 0;
  }
  LONGS_EQUAL(11, created);
  agent::Json log = sim.admin_get("/_sim/log");
  const cJSON* e = nullptr;
  bool batched_fault = false;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    batched_fault =
        batched_fault || (field_text(e, "fault") == "graphql_error" &&
                          cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "root_fields")) > 1);
  }
  CHECK_TEXT(batched_fault, "the rejected mutation did not travel in a batch");
}

TEST(OutboxIon, ExactlyOnceWhenThirtyPercentOfRequestsLoseTheirAnswer) {
  CHECK(sim.admin("/_sim/faults", R"({"kind":"drop_after_apply","probability":0.3})") != nullptr);
  accept("DROP30", 200);
  CHECK_TRUE(drain(240s));
  LONGS_EQUAL(200, box->stats()->done);
  LONGS_EQUAL(0, box->stats()->dead);
  expect_effect("DROP30", 200);
  agent::Json faults = sim.admin_get("/_sim/faults");
  const cJSON* f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(faults.get(), "faults"), 0);
  const cJSON* hits = cJSON_GetObjectItemCaseSensitive(f, "hits");
  CHECK_TEXT(cJSON_IsNumber(hits) && hits->valueint > 20, agent::JsonText(cJSON_Print(faults.get())).get());
}

TEST(OutboxIon, RejectedIntentsAreDeadLetteredWithIonsMessageAndQueueRetryRedrivesOne) {
  CHECK(sim.admin(
            "/_sim/faults",
            R"({"kind":"graphql_error","operation":"createPartInventory","count":1,)"
            R"("message":"User does not have permission to update this resource.","code":"FORBIDDEN"})") !=
        nullptr);
  std::string unknown = add("unit.move", "SN-404404", R"({"serial":"SN-404404","location":"KIT-A"})");
  std::string dependant =
      add("unit.move", "SN-404404", R"({"serial":"SN-404404","location":"FINISHED-GOODS"})");
  std::string bad_enum =
      add("step.status", "SN-000103", R"({"serial":"SN-000103","procedureId":"12","status":"DONE"})");
  std::string denied = add("unit.ensure", "SN-777001", R"({"serial":"SN-777001","partNumber":"ASM-100"})");
  std::string fine = add("unit.move", "SN-000104", R"({"serial":"SN-000104","location":"KIT-A"})");
  CHECK_TRUE(drain(60s));

  auto r = box->find(unknown);
  CHECK(r->state == IntentState::dead);
  STRCMP_EQUAL("unit.move: no unit with serial 'SN-404404' at ION", r->last_error.c_str());
  r = box->find(dependant);
  CHECK(r->state == IntentState::dead);
  CHECK(r->last_error.rfind("dependency failed: " + unknown, 0) == 0);
  r = box->find(bad_enum);
  CHECK(r->state == IntentState::dead);
  CHECK_TEXT(r->last_error.find("DONE") != std::string::npos, r->last_error.c_str());
  CHECK(r->last_error.find("ION refused") != std::string::npos);
  r = box->find(denied);
  CHECK(r->state == IntentState::dead);
  CHECK_TEXT(
      r->last_error.find("User does not have permission to update this resource.") != std::string::npos,
      r->last_error.c_str());
  CHECK(box->find(fine)->state == IntentState::done);

  // The cause is fixed at ION (the unit is registered), then an operator redrives it.
  agent::GraphqlRequest req;
  req.document =
      "mutation Fix($i: CreatePartInventoryInput!) { createPartInventory(input: $i) { partInventory { id } } "
      "}";
  req.variables = agent::Json(
      cJSON_Parse(R"({"i":{"partId":100,"serialNumber":"SN-404404","quantity":1,"locationId":1}})"));
  agent::GraphqlOutcome fixed = agent::GraphqlOutcome::network;
  client->submit(std::move(req), [&fixed](agent::GraphqlResponse resp) { fixed = resp.outcome; });
  CHECK_TRUE(client->run_until_idle(20s));
  CHECK(fixed == agent::GraphqlOutcome::ok);

  std::string out;
  LONGS_EQUAL(0, run_cli("queue --state-dir " + dir.path() + " list --dead", out));
  CHECK_TEXT(out.find("no unit with serial 'SN-404404'") != std::string::npos, out.c_str());
  LONGS_EQUAL(
      0, run_cli("queue --state-dir " + dir.path() + " retry " + unknown.substr(unknown.size() - 8), out));
  CHECK_TEXT(out.find("revived 2 intents") != std::string::npos, out.c_str());
  CHECK_TRUE(drain(60s));
  CHECK(box->find(unknown)->state == IntentState::done);
  CHECK(box->find(dependant)->state == IntentState::done);
  CHECK(box->find(bad_enum)->state == IntentState::dead);  // untouched
  agent::Json state = sim.state();
  const cJSON* inv = nullptr;
  bool moved = false;
  cJSON_ArrayForEach(inv, cJSON_GetObjectItemCaseSensitive(state.get(), "part_inventories")) {
    if (field_text(inv, "serialNumber") == "SN-404404") {
      moved = cJSON_GetObjectItemCaseSensitive(inv, "locationId")->valueint == 5;
    }
  }
  CHECK_TRUE(moved);  // KIT-A then FINISHED-GOODS, in order

  LONGS_EQUAL(64, run_cli("queue --state-dir " + dir.path() + " drop " +
                              bad_enum.substr(bad_enum.size() - 8) + " </dev/null",
                          out));
  LONGS_EQUAL(0, run_cli("queue --state-dir " + dir.path() + " drop " + bad_enum.substr(bad_enum.size() - 8) +
                             " --yes",
                         out));
  CHECK(box->find(bad_enum).error().code == hal::Errc::not_found);
  LONGS_EQUAL(0, run_cli("status --state-dir " + dir.path(), out));
  CHECK_TEXT(out.find("1 dead") != std::string::npos, out.c_str());  // the permission one
}

// ION is slower than the client's timeout and applies the create after the agent gave up. A
// retry that looked again at once would find no run and create a second one; the intent is
// held for in_doubt_hold (the client's 10 s timeout, as the daemon does) first.
TEST(OutboxIon, AMutationThatTimedOutIsNotDoneTwiceWhenIonAppliesItLate) {
  CHECK(sim.admin("/_sim/faults", R"({"kind":"delay","seconds":12,"mutations_only":true,"count":1})") !=
        nullptr);
  add("run.ensure", "unit:SN-000101", R"({"serial":"SN-000101","procedureId":"12"})");
  CHECK_TRUE(drain(60s));
  LONGS_EQUAL(1, box->stats()->done);
  std::this_thread::sleep_for(4s);  // past the late apply (12 s after sending)
  agent::Json state = sim.state();
  int runs = 0;
  const cJSON* r = nullptr;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(state.get(), "runs")) {
    runs += ion_test::num(r, "partInventoryId") == 1001 && ion_test::num(r, "procedureId") == 12 ? 1 : 0;
  }
  LONGS_EQUAL(1, runs);
  // The first attempt really timed out and was retried (after the hold).
  CHECK(dispatcher->status().retried >= 1);
}
