// SPDX-License-Identifier: Apache-2.0
// outbox_driver --db FILE --api-url URL --token-url URL --ca FILE --prefix P --total N
//               [--pace-ms MS]
// Accepts recipe intents (tests/support/outbox_harness.hpp) into the outbox at FILE, one every
// MS milliseconds, while draining them to ION with the real GraphQL client, until all N are
// accepted and delivered. It resumes where the file left off (intent i is always recipe step
// i), so it can be killed at any moment and started again. After each append has committed it
// prints "ACCEPTED <index> <uuid>"; when everything is delivered it prints "IDLE" and exits 0.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/log.hpp"
#include "outbox_harness.hpp"

namespace {

struct Args {
  std::string db, api_url, token_url, ca, prefix = "CRASH";
  int total = 100;
  int pace_ms = 3;
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--db") {
      a.db = v;
    } else if (k == "--api-url") {
      a.api_url = v;
    } else if (k == "--token-url") {
      a.token_url = v;
    } else if (k == "--ca") {
      a.ca = v;
    } else if (k == "--prefix") {
      a.prefix = v;
    } else if (k == "--total") {
      a.total = std::atoi(v.c_str());
    } else if (k == "--pace-ms") {
      a.pace_ms = std::atoi(v.c_str());
    } else {
      return false;
    }
  }
  return !a.db.empty() && !a.api_url.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    std::fprintf(
        stderr,
        "usage: outbox_driver --db F --api-url U --token-url U --ca F --prefix P --total N [--pace-ms MS]\n");
    return 64;
  }
  hal::log::set_level(hal::log::Level::error);
  hal::SystemClock clock;
  auto box = agent::Outbox::open(a.db, {}, clock);
  if (!box.ok()) {
    std::fprintf(stderr, "%s\n", box.error().what.c_str());
    return 1;
  }
  auto client = outbox_test::make_sim_client({a.api_url, a.token_url, a.ca}, clock);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.error().what.c_str());
    return 1;
  }
  agent::DispatcherOptions o;
  o.backoff_base = std::chrono::milliseconds(100);
  o.backoff_cap = std::chrono::seconds(1);
  o.backoff_floor = std::chrono::milliseconds(20);
  agent::Dispatcher d(**box, **client, clock, o);
  auto st = (*box)->stats();
  int next = st.ok() ? static_cast<int>(st->pending + st->in_flight + st->done + st->dead) : 0;
  auto next_append = clock.mono();
  std::vector<curl_waitfd> none;
  for (;;) {
    if (next < a.total && clock.mono() >= next_append) {
      auto id = (*box)->append(outbox_test::recipe_intent(a.prefix, next, clock));
      if (!id.ok()) {
        std::fprintf(stderr, "%s\n", id.error().what.c_str());
        return 1;
      }
      std::printf("ACCEPTED %d %s\n", next, id->c_str());
      std::fflush(stdout);
      ++next;
      next_append = clock.mono() + std::chrono::milliseconds(a.pace_ms);
    }
    (*client)->perform();
    d.poll(clock.mono());
    if (next >= a.total && d.idle() && (*client)->in_flight() == 0) {
      break;
    }
    auto due = std::chrono::duration_cast<std::chrono::milliseconds>(d.next_due() - clock.mono());
    auto wait = std::clamp(due, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
    if (next < a.total) {
      wait = std::min(wait, std::chrono::milliseconds(a.pace_ms));
    }
    (void)(*client)->wait(none, wait);
  }
  std::printf("IDLE\n");
  return 0;
}
