// SPDX-License-Identifier: Apache-2.0
// Dispatcher over a real Outbox file and a scripted GraphQL client, on a fake clock.
#include "agent/dispatch/dispatcher.hpp"

#include <CppUTest/TestHarness.h>

#include <algorithm>

#include "fake_graphql.hpp"
#include "hal/log.hpp"
#include "hal/sim/fake_clock.hpp"
#include "scratch_dir.hpp"

using agent::Dispatcher;
using agent::GraphqlOutcome;
using agent::IntentState;
using testing_support::FakeGraphqlClient;
using testing_support::SentRequest;
using namespace std::chrono_literals;

TEST_GROUP(Dispatcher) {
  testing_support::ScratchDir dir{"dispatcher-test"};
  hal::sim::FakeClock clock;
  FakeGraphqlClient client;
  std::unique_ptr<agent::Outbox> box;
  std::unique_ptr<Dispatcher> d;
  agent::DispatcherOptions opt;

  void setup() override {
    hal::log::set_sink([](hal::log::Level, std::string_view) {});
    auto b = agent::Outbox::open(dir.file("outbox.db"), {}, clock);
    CHECK(b.ok());
    box = std::move(*b);
    opt.max_in_flight = 4;
    client.handler = [](const SentRequest&) { return FakeGraphqlClient::ok(R"({"ok":true})"); };
  }
  void teardown() override {
    d.reset();
    hal::log::set_sink(nullptr);
  }
  Dispatcher& dispatcher() {
    if (!d) {
      d = std::make_unique<Dispatcher>(*box, client, clock, opt);
    }
    return *d;
  }
  // A graphql.raw intent whose single request is named `op` and carries {"n": n}.
  std::string add(const std::string& subject, int n, const std::string& op = "Ping") {
    agent::NewIntent i;
    i.kind = "graphql.raw";
    i.inputs_json =
        R"({"document":"mutation )" + op + R"( { ping }","variables":{"n":)" + std::to_string(n) + "}}";
    i.subject = subject;
    auto id = box->append(i);
    CHECK(id.ok());
    return *id;
  }
  void poll() {
    dispatcher().poll(clock.mono());
  }
  // Drives loop iterations (answer what is queued, then poll) until idle.
  void drain(int max_rounds = 200) {
    for (int i = 0; i < max_rounds; ++i) {
      poll();
      if (dispatcher().idle()) {
        return;
      }
      if (client.pump() == 0 && dispatcher().next_due() > clock.mono()) {
        clock.advance(dispatcher().next_due() - clock.mono());
      }
    }
    FAIL("dispatcher did not drain");
  }
  std::vector<std::string> sent_ns() {
    std::vector<std::string> v;
    for (const auto& s : client.log) {
      v.push_back(s.variables);
    }
    return v;
  }
};

TEST(Dispatcher, DeliversOneSubjectInAcceptanceOrderAndMarksAllDone) {
  for (int i = 0; i < 5; ++i) {
    add("SN-1", i);
  }
  drain();
  std::vector<std::string> want = {R"({"n":0})", R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":4})"};
  CHECK(want == sent_ns());
  auto st = box->stats();
  LONGS_EQUAL(5, st->done);
  LONGS_EQUAL(0, st->pending);
  CHECK(st->last_delivery_ms > 0);
}

TEST(Dispatcher, SameSubjectWaitsForTheCommittedOutcomeButOtherSubjectsRunAlongside) {
  add("SN-1", 10);
  add("SN-1", 11);
  add("SN-2", 20);
  add("", 30);
  add("SN-3", 40);
  add("SN-2", 21);
  poll();
  // One per subject, subject-less ones independent: 10, 20, 30, 40 (window 4).
  LONGS_EQUAL(4, client.in_flight());
  std::vector<std::string> first = {R"({"n":10})", R"({"n":20})", R"({"n":30})", R"({"n":40})"};
  CHECK(first == sent_ns());
  CHECK(box->find("1")->state == IntentState::in_flight);
  client.pump();
  poll();
  LONGS_EQUAL(2, client.in_flight());  // 11 and 21
  drain();
  LONGS_EQUAL(6, box->stats()->done);
}

TEST(Dispatcher, LinkFailurePausesEverythingThenProbesWithOneIntent) {
  for (int i = 0; i < 6; ++i) {
    add("SN-" + std::to_string(i), i);
  }
  bool up = false;
  client.handler = [&up](const SentRequest&) {
    return up ? FakeGraphqlClient::ok(R"({"ok":true})")
              : FakeGraphqlClient::fail(GraphqlOutcome::network, "Connection refused");
  };
  poll();
  LONGS_EQUAL(4, client.pump());
  // A dropped connection is re-checked once at once (it may have been cut after ION applied
  // the request); the second failure is left to the backoff.
  LONGS_EQUAL(4, client.pump());
  poll();
  LONGS_EQUAL(0, client.in_flight());
  CHECK(dispatcher().next_due() >= clock.mono() + opt.backoff_floor);
  CHECK_FALSE(dispatcher().status().link_ok);
  // Nothing is sent before the pause ends, however often the loop polls.
  for (int i = 0; i < 10; ++i) {
    poll();
  }
  LONGS_EQUAL(8, client.log.size());
  auto r = box->find("1");
  LONGS_EQUAL(1, r->attempts);
  CHECK(r->last_error.find("network") != std::string::npos);
  CHECK(r->last_error.find("Connection refused") != std::string::npos);

  clock.advance(dispatcher().next_due() - clock.mono());
  poll();
  LONGS_EQUAL(1, client.in_flight());  // a single probe
  up = true;
  client.pump();
  poll();
  CHECK(dispatcher().status().link_ok);
  CHECK(client.in_flight() > 1);  // window open again
  drain();
  LONGS_EQUAL(6, box->stats()->done);
}

TEST(Dispatcher, HonoursRetryAfter) {
  add("SN-1", 1);
  int calls = 0;
  client.handler = [&calls](const SentRequest&) {
    if (calls++ == 0) {
      auto r = FakeGraphqlClient::fail(GraphqlOutcome::rate_limited, "Too Many Requests", 429);
      r.retry_after = 7s;
      return r;
    }
    return FakeGraphqlClient::ok(R"({"ok":true})");
  };
  poll();
  client.pump();
  poll();
  // Retry-After plus 0-20 % jitter: at least 7 s, at most 8.4 s.
  const auto wait = dispatcher().next_due() - clock.mono();
  CHECK(wait >= 7s && wait <= 8400ms);
  clock.advance(6900ms);
  poll();
  LONGS_EQUAL(0, client.in_flight());
  clock.advance(wait - 6900ms);
  poll();
  LONGS_EQUAL(1, client.in_flight());
}

// The waits one station draws for 40 answers of `outcome` in a row (`retry_after` if >= 0).
static std::vector<std::chrono::milliseconds> waits_for(FakeGraphqlClient& client, hal::sim::FakeClock& clock,
                                                        Dispatcher& d, GraphqlOutcome outcome,
                                                        std::chrono::seconds retry_after) {
  client.handler = [outcome, retry_after](const SentRequest&) {
    auto r = FakeGraphqlClient::fail(outcome, "down", outcome == GraphqlOutcome::rate_limited ? 429 : 503);
    r.retry_after = retry_after;
    return r;
  };
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 40; ++i) {
    d.poll(clock.mono());
    client.pump();
    d.poll(clock.mono());
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(d.next_due() - clock.mono());
    waits.push_back(wait);
    clock.advance(wait);
  }
  return waits;
}

TEST(Dispatcher, RetryAfterGetsUpToTwentyPercentJitter) {
  add("SN-1", 1);
  auto waits = waits_for(client, clock, dispatcher(), GraphqlOutcome::rate_limited, 20s);
  auto [lo, hi] = std::minmax_element(waits.begin(), waits.end());
  CHECK(*lo >= 20s);
  CHECK(*hi <= 24s);
  CHECK(*hi - *lo > 1s);  // spread, not lockstep (40 draws within 1 s of each other: p ~ 1e-27)
}

TEST(Dispatcher, LinkDownProbesAreCappedAndNeverCloseTogether) {
  add("SN-1", 1);
  auto waits = waits_for(client, clock, dispatcher(), GraphqlOutcome::server_error, -1s);
  std::chrono::milliseconds elapsed{0};
  for (std::size_t i = 0; i < waits.size(); ++i) {
    CHECK(waits[i] <= opt.link_probe_cap);  // ION's return is seen within the cap
    // Once the backoff ceiling passed the cap (it doubles from 500 ms): 24-30 s apart.
    if (opt.backoff_base * (1 << std::min<int>(i, 20)) > opt.link_probe_cap) {
      CHECK(waits[i] >= opt.link_probe_cap * 8 / 10);
    }
    elapsed += waits[i];
  }
  CHECK(elapsed > 15min);  // 40 probes over a long outage, not a burst
}

TEST(Dispatcher, BackoffGrowsWithFullJitterAndIsCapped) {
  opt.backoff_base = 1000ms;
  opt.backoff_cap = 8000ms;
  add("SN-1", 1);
  client.handler = [](const SentRequest&) {
    return FakeGraphqlClient::fail(GraphqlOutcome::server_error, "Bad Gateway", 502);
  };
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 40; ++i) {
    poll();
    client.pump();
    poll();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(dispatcher().next_due() - clock.mono());
    delays.push_back(wait);
    clock.advance(wait);
  }
  std::chrono::milliseconds biggest{0};
  for (std::size_t i = 0; i < delays.size(); ++i) {
    const auto ceiling =
        std::min<std::chrono::milliseconds>(opt.backoff_cap, opt.backoff_base * (1 << std::min<int>(i, 20)));
    CHECK(delays[i] >= opt.backoff_floor);
    CHECK(delays[i] <= ceiling);
    biggest = std::max(biggest, delays[i]);
  }
  CHECK(biggest > 4000ms);  // it does grow (40 draws below 4 s at the cap: p ~ 1e-12)
  LONGS_EQUAL(40, box->find("1")->attempts);
}

TEST(Dispatcher, RejectedIntentIsDeadLetteredAndBlocksOnlyItsDependants) {
  add("SN-1", 1, "Bad");
  add("SN-1", 2);
  add("SN-2", 3);
  client.handler = [](const SentRequest& s) {
    if (s.op == "Bad") {
      return FakeGraphqlClient::fail(GraphqlOutcome::graphql_errors,
                                     "Variable '$status' got invalid value 'DONE'", 200);
    }
    return FakeGraphqlClient::ok(R"({"ok":true})");
  };
  drain();
  auto dead = box->find("1");
  CHECK(dead->state == IntentState::dead);
  CHECK(dead->last_error.find("invalid value 'DONE'") != std::string::npos);
  auto dep = box->find("2");
  CHECK(dep->state == IntentState::dead);
  CHECK(dep->last_error.rfind("dependency failed: " + dead->uuid, 0) == 0);
  CHECK(box->find("3")->state == IntentState::done);
  LONGS_EQUAL(2, client.log.size());  // the dependant was never sent
}

TEST(Dispatcher, PicksUpARetryMadeByAnotherProcess) {
  add("SN-1", 1, "Bad");
  bool fixed = false;
  client.handler = [&fixed](const SentRequest&) {
    return fixed ? FakeGraphqlClient::ok(R"({"ok":true})")
                 : FakeGraphqlClient::fail(GraphqlOutcome::http_status, "Forbidden", 403);
  };
  drain();
  CHECK(box->find("1")->state == IntentState::dead);
  fixed = true;
  {
    auto other = agent::Outbox::open(dir.file("outbox.db"), {}, clock);  // `ion-agent queue retry`
    LONGS_EQUAL(1, *(*other)->retry("1"));
  }
  CHECK(dispatcher().next_due() <= clock.mono() + opt.rescan_interval);
  clock.advance(opt.rescan_interval);
  drain();
  CHECK(box->find("1")->state == IntentState::done);
}

TEST(Dispatcher, AnIdleDispatcherSleepsUntilTheRescanInterval) {
  poll();
  CHECK(dispatcher().idle());
  CHECK(dispatcher().next_due() == clock.mono() + opt.rescan_interval);
  add("SN-1", 1);  // an append through the same Outbox wakes it at once
  CHECK(dispatcher().next_due() == clock.mono());
}

TEST(Dispatcher, WithoutRescanIntervalAnIdleDispatcherHasNoDeadlineEvenWithDoneRowsToPrune) {
  opt.rescan_interval = std::chrono::milliseconds(0);  // the daemon watches the files instead
  add("SN-1", 1);
  add("SN-2", 2);
  drain();
  CHECK(dispatcher().idle());
  LONGS_EQUAL(2, box->stats()->done);
  // Neither a rescan nor pruning of the done rows wakes it: nothing is due, ever.
  CHECK(dispatcher().next_due() == Dispatcher::MonoTime::max());
  clock.advance(std::chrono::hours(48));
  CHECK(dispatcher().next_due() == Dispatcher::MonoTime::max());
  add("SN-3", 3);  // an append through the same Outbox still wakes it at once
  CHECK(dispatcher().next_due() == clock.mono());
}

TEST(Dispatcher, BacklogBeyondTheScanWindowStillReachesOtherSubjects) {
  opt.scan_window = 8;
  opt.max_in_flight = 2;
  for (int i = 0; i < 20; ++i) {
    add("SN-A", i);
  }
  add("SN-B", 100);
  poll();
  // SN-A's head and, from the per-subject heads query, SN-B's only intent.
  LONGS_EQUAL(2, client.in_flight());
  CHECK(sent_ns().back() == R"({"n":100})");
  drain(500);
  LONGS_EQUAL(21, box->stats()->done);
}

// network_changed(): the owner's netlink watch saw a link, an address or a route come back.

// Fails every request until `up`; drives the dispatcher through `failures` link failures so
// that its pause has grown, and returns how long the pause is at the end.
static std::chrono::milliseconds fail_link(FakeGraphqlClient& client, hal::sim::FakeClock& clock,
                                           Dispatcher& d, bool& up, int failures) {
  client.handler = [&up](const SentRequest&) {
    return up ? FakeGraphqlClient::ok(R"({"ok":true})")
              : FakeGraphqlClient::fail(GraphqlOutcome::network, "Network is unreachable");
  };
  std::chrono::milliseconds wait{0};
  for (int i = 0; i < failures; ++i) {
    clock.advance(d.next_due() - clock.mono());
    d.poll(clock.mono());
    while (client.pump() > 0) {
    }
    d.poll(clock.mono());
    wait = std::chrono::duration_cast<std::chrono::milliseconds>(d.next_due() - clock.mono());
  }
  return wait;
}

TEST(Dispatcher, NetworkChangeIsIgnoredWhileTheLinkIsUp) {
  opt.rescan_interval = 0ms;  // as in the daemon (it watches the outbox files instead)
  add("SN-1", 1);
  drain();
  CHECK_FALSE(dispatcher().network_changed(clock.mono(), "link 2 up").has_value());
  LONGS_EQUAL(0, dispatcher().forced_probes());
  CHECK(dispatcher().next_due() == Dispatcher::MonoTime::max());  // still no deadline: idle
}

TEST(Dispatcher, NetworkChangeEndsALongLinkBackoffWithinTheJitterAndTheBacklogDrains) {
  opt.backoff_cap = 60000ms;
  opt.link_probe_cap = 30000ms;  // past its ceiling, the link backoff is 24-30 s: never short by chance
  for (int i = 0; i < 6; ++i) {
    add("SN-" + std::to_string(i), i);
  }
  bool up = false;
  // Enough failures for the backoff ceiling to reach the cap: the next probe is seconds away.
  std::chrono::milliseconds wait{0};
  for (int round = 0; round < 20 && wait < 10s; ++round) {
    wait = fail_link(client, clock, dispatcher(), up, 1);
  }
  CHECK(wait >= 10s);
  CHECK_FALSE(dispatcher().status().link_ok);
  const std::size_t sent_before = client.log.size();

  up = true;
  const auto t0 = clock.mono();
  auto due = dispatcher().network_changed(t0, "link 2 up");
  CHECK(due.has_value());
  CHECK(*due >= t0 && *due <= t0 + opt.network_change_jitter);
  CHECK(dispatcher().next_due() == *due);
  LONGS_EQUAL(1, dispatcher().forced_probes());
  clock.advance(*due - t0);
  poll();
  // The probe goes now, although its own retry time (set by the failure) is far ahead.
  LONGS_EQUAL(1, client.in_flight());
  client.pump();
  poll();
  CHECK(dispatcher().status().link_ok);
  // Every intent that only waited on the link goes at once: no clock advance needed.
  for (int i = 0; i < 10 && !dispatcher().idle(); ++i) {
    client.pump();
    poll();
  }
  LONGS_EQUAL(6, box->stats()->done);
  CHECK(clock.mono() - t0 <= opt.network_change_jitter);
  CHECK(client.log.size() - sent_before >= 6);
}

TEST(Dispatcher, NetworkChangesAreCoalescedToOneForcedProbePerInterval) {
  opt.backoff_cap = 60000ms;
  opt.link_probe_cap = 30000ms;     // past its ceiling, the link backoff is 24-30 s: never short by chance
  opt.network_change_jitter = 0ms;  // probes exactly when forced: the rate limit is what is seen
  opt.rescan_interval = 0ms;
  add("SN-1", 1);
  bool up = false;
  for (int round = 0; round < 20; ++round) {
    fail_link(client, clock, dispatcher(), up, 1);
  }
  const auto t0 = clock.mono();
  CHECK(dispatcher().next_due() > t0 + 10s);
  // A burst of changes (carrier, address, routes: one each wakeup): one probe now ...
  CHECK(*dispatcher().network_changed(t0, "link 2 up") == t0);
  poll();
  LONGS_EQUAL(1, client.in_flight());
  while (client.pump() > 0) {  // still down: the probe fails, the backoff is long again
  }
  poll();
  CHECK(dispatcher().next_due() > t0 + 10s);
  for (int i = 1; i <= 5; ++i) {
    clock.advance(100ms);
    auto due = dispatcher().network_changed(clock.mono(), "address on 2");
    CHECK(due.has_value());
    CHECK(*due == t0 + opt.network_change_interval);  // ... and the rest kept for the interval's end
  }
  LONGS_EQUAL(1, dispatcher().forced_probes());
  CHECK(dispatcher().next_due() == t0 + opt.network_change_interval);
  poll();
  LONGS_EQUAL(0, client.in_flight());  // nothing in between
  clock.advance(t0 + opt.network_change_interval - clock.mono());
  up = true;
  poll();
  LONGS_EQUAL(2, dispatcher().forced_probes());
  LONGS_EQUAL(1, client.in_flight());
  client.pump();
  poll();
  CHECK(dispatcher().status().link_ok);
  // The link is up: later changes are ignored, and no deadline is left behind.
  clock.advance(5s);
  CHECK_FALSE(dispatcher().network_changed(clock.mono(), "route").has_value());
  drain();
  CHECK(dispatcher().next_due() == Dispatcher::MonoTime::max());
}

TEST(Dispatcher, NetworkChangeDoesNotShortenARetryAfter) {
  add("SN-1", 1);
  client.handler = [](const SentRequest&) {
    auto r = FakeGraphqlClient::fail(GraphqlOutcome::rate_limited, "Too Many Requests", 429);
    r.retry_after = 20s;
    return r;
  };
  poll();
  client.pump();
  poll();
  const auto t0 = clock.mono();
  auto due = dispatcher().network_changed(t0, "route");
  CHECK(due.has_value());
  CHECK(*due >= t0 + 20s);
  CHECK(dispatcher().next_due() >= t0 + 20s);
}
