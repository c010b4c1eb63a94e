// SPDX-License-Identifier: Apache-2.0
// wire_drain: the agent's side of tests/bench/wire_bench.py (not a test). The real Outbox,
// Dispatcher and CurlGraphqlClient as the station wires them (batch_max, two batches in
// flight), against an ION simulator given by URL (directly, or through a delaying relay).
//   wire_drain --api URL --token URL --ca FILE --dir DIR --prefix P --units N
//              [--batch 25] [--online SCANS] [--gap-ms 300]
// Drain mode: appends N units' scans (3 intents each: unit.ensure, run.ensure, step.status
// IN_PROGRESS; one subject per unit), then times the drain. Online mode: one scan at a time,
// each appended when the previous one is applied, `gap-ms` of idle in between; prints each
// scan's accept-to-applied time. Prints one JSON object.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/log.hpp"
#include "outbox_harness.hpp"

namespace {

using Steady = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::vector<agent::NewIntent> scan(const std::string& prefix, int unit, const hal::Clock& clock) {
  char sn[64];
  std::snprintf(sn, sizeof sn, "%s-%06d", prefix.c_str(), unit);
  const std::string head = std::string(R"({"serial":")") + sn + "\"";
  std::vector<agent::NewIntent> out(3);
  const char* kinds[] = {"unit.ensure", "run.ensure", "step.status"};
  const std::string inputs[] = {head + R"(,"partNumber":"ASM-100","location":"RECEIVING"})",
                                head + R"(,"procedureId":"12"})",
                                head + R"(,"procedureId":"12","status":"IN_PROGRESS"})"};
  for (int i = 0; i < 3; ++i) {
    out[i].kind = kinds[i];
    out[i].subject = sn;
    out[i].inputs_json = inputs[i];
    out[i].at.wall_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall().time_since_epoch()).count();
    out[i].at.since_boot_ns = clock.since_boot().count();
    out[i].at.boot_id = "bench";
    out[i].at.wall_synced = true;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string api, token, ca, dir, prefix = "WIRE";
  int units = 100, batch = 25, online = 0, gap_ms = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--api") {
      api = v;
    } else if (k == "--token") {
      token = v;
    } else if (k == "--ca") {
      ca = v;
    } else if (k == "--dir") {
      dir = v;
    } else if (k == "--prefix") {
      prefix = v;
    } else if (k == "--units") {
      units = std::atoi(v.c_str());
    } else if (k == "--batch") {
      batch = std::atoi(v.c_str());
    } else if (k == "--online") {
      online = std::atoi(v.c_str());
    } else if (k == "--gap-ms") {
      gap_ms = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "wire_drain: unknown option %s\n", k.c_str());
      return 64;
    }
  }
  hal::log::set_level(hal::log::Level::error);
  hal::SystemClock clock;
  auto box = agent::Outbox::open(agent::outbox_path(dir), {}, clock);
  if (!box.ok()) {
    std::fprintf(stderr, "wire_drain: %s\n", box.error().what.c_str());
    return 1;
  }
  agent::GraphqlClientOptions o;
  o.api_url = api;
  o.token_url = token;
  o.client_id = "ion-agent-demo";                                // the simulator's public
  (void)o.client_secret.assign("demo-secret-0f3c9a1e7b2d4c58");  // test fixture key
  o.http.ca_file = ca;
  o.http.proxy = "direct";
  o.max_idle_wait = std::chrono::milliseconds(200);
  o.batch_max = static_cast<std::size_t>(std::max(1, batch));
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!client.ok()) {
    std::fprintf(stderr, "wire_drain: %s\n", client.error().what.c_str());
    return 1;
  }
  agent::DispatcherOptions d;
  d.max_in_flight = 2 * static_cast<std::size_t>(std::max(1, batch));  // as firmware/runtime/station.cpp
  d.rescan_interval = std::chrono::milliseconds(0);
  agent::Dispatcher dispatcher(**box, **client, clock, d);
  std::printf("{");
  if (online > 0) {
    std::printf("\"latency_ms\": [");
    for (int s = 0; s < online; ++s) {
      std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
      auto t0 = Steady::now();
      auto ids = (*box)->append_all(scan(prefix, s, clock));
      if (!ids.ok()) {
        return 1;
      }
      if (!outbox_test::drain(dispatcher, **client, clock, std::chrono::seconds(60))) {
        return 1;
      }
      std::printf("%s%.1f", s ? ", " : "",
                  std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    }
    std::printf("], ");
  } else {
    for (int u = 0; u < units; ++u) {
      if (!(*box)->append_all(scan(prefix, u, clock)).ok()) {
        return 1;
      }
    }
    auto t0 = Steady::now();
    double c0 = cpu_seconds();
    bool drained = outbox_test::drain(dispatcher, **client, clock, std::chrono::seconds(600));
    std::printf("\"drained\": %s, \"seconds\": %.4f, \"cpu_s\": %.4f, ", drained ? "true" : "false",
                std::chrono::duration<double>(Steady::now() - t0).count(), cpu_seconds() - c0);
  }
  auto st = (*box)->stats();
  std::printf("\"intents\": %d, \"done\": %lld, \"dead\": %lld, \"requests\": %llu, \"connections\": %llu}\n",
              online > 0 ? online * 3 : units * 3, st.ok() ? static_cast<long long>(st->done) : -1LL,
              st.ok() ? static_cast<long long>(st->dead) : -1LL,
              static_cast<unsigned long long>((*client)->requests_sent()),
              static_cast<unsigned long long>((*client)->connections_opened()));
  return 0;
}
