// SPDX-License-Identifier: Apache-2.0
// outbox_bench [--dir DIR] [--accepts N] [--drain N] [--windows 1,4,8] [--lookups N]
// Prints, for the disk under DIR (default $TMPDIR or /tmp):
//   1. durable accepts per second and p50/p99 latency of Outbox::append (WAL, synchronous=FULL)
//   2. one fsync's latency on the same disk (4 KiB write + fdatasync), for comparison
//   3. bytes written to storage per accepted intent (/proc/self/io write_bytes) and file bytes,
//      and the same per station event (3 intents in one append_all) with its latency
//   4. drain rate of an N-intent backlog (recipe workload) against the ION simulator on
//      loopback, for each dispatcher window (concurrent intents)
//   5. raw lookup throughput: one at a time vs pipelined vs GraphQL-alias batches
// Figures depend on the machine and on what else runs on it; they are printed, not asserted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/dispatch/dispatcher.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/log.hpp"
#include "ion_sim.hpp"
#include "outbox_harness.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

struct Args {
  std::string dir;
  int accepts = 2000;
  int drain = 10000;
  std::vector<int> windows = {8};
  int lookups = 2000;
};

double ms_since(Clock::time_point t) {
  return duration<double, std::milli>(Clock::now() - t).count();
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

long long write_bytes() {
  std::ifstream in("/proc/self/io");
  std::string k;
  long long v = 0;
  while (in >> k >> v) {
    if (k == "write_bytes:") {
      return v;
    }
  }
  return -1;
}

long long file_size(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : 0;
}

void bench_accepts(const Args& a) {
  const std::string db = a.dir + "/bench-accept.db";
  std::remove(db.c_str());
  hal::SystemClock clock;
  auto box = agent::Outbox::open(db, {}, clock);
  if (!box.ok()) {
    std::printf("accepts: %s\n", box.error().what.c_str());
    return;
  }
  std::vector<double> lat;
  const long long wb0 = write_bytes();
  const auto t0 = Clock::now();
  for (int i = 0; i < a.accepts; ++i) {
    auto intent = outbox_test::recipe_intent("ACC", i, clock);
    const auto t = Clock::now();
    auto id = (*box)->append(intent);
    lat.push_back(ms_since(t));
    if (!id.ok()) {
      std::printf("accepts: %s\n", id.error().what.c_str());
      return;
    }
  }
  const double total_ms = ms_since(t0);
  const long long wb = write_bytes() - wb0;
  std::printf("durable accepts:    %.0f /s over %d appends (one transaction + fsync each)\n",
              a.accepts / (total_ms / 1000), a.accepts);
  std::printf("accept latency:     p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(lat, 0.5), pct(lat, 0.99),
              pct(lat, 1.0));
  std::printf("bytes per accept:   %.0f written to storage (/proc/self/io), files now %.0f B/intent\n",
              static_cast<double>(wb) / a.accepts,
              static_cast<double>(file_size(db) + file_size(db + "-wal")) / a.accepts);
  box->reset();
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
}

// A station event as the assembly profile makes it: one scan accepted as unit.ensure,
// run.ensure and step.status in one append_all (one transaction, one fsync). This is the unit
// of the "written per accepted event" target (<= 8 KiB, tests/bench/agent_bench.py).
void bench_events(const Args& a) {
  const std::string db = a.dir + "/bench-event.db";
  for (const char* s : {"", "-wal", "-shm"}) {
    std::remove((db + s).c_str());
  }
  hal::SystemClock clock;
  auto box = agent::Outbox::open(db, {}, clock);
  if (!box.ok()) {
    std::printf("events: %s\n", box.error().what.c_str());
    return;
  }
  std::vector<double> lat;
  const long long wb0 = write_bytes();
  const auto t0 = Clock::now();
  for (int i = 0; i < a.accepts; ++i) {
    const std::string sn = "SN-" + std::to_string(100000 + (i * 7919) % 900000);
    std::vector<agent::NewIntent> ev(3);
    const char* kinds[] = {"unit.ensure", "run.ensure", "step.status"};
    const std::string head = R"({"serial":")" + sn + R"(","partNumber":"ASM-100")";
    const std::string inputs[] = {head + "}", head + R"(,"procedureId":"12"})",
                                  head + R"(,"procedureId":"12","status":"IN_PROGRESS"})"};
    for (int k = 0; k < 3; ++k) {
      ev[k] = outbox_test::recipe_intent("EV", 0, clock);
      ev[k].kind = kinds[k];
      ev[k].inputs_json = inputs[k];
      ev[k].subject = sn;
    }
    const auto t = Clock::now();
    auto ids = (*box)->append_all(ev);
    lat.push_back(ms_since(t));
    if (!ids.ok()) {
      std::printf("events: %s\n", ids.error().what.c_str());
      return;
    }
  }
  const double total_ms = ms_since(t0);
  const long long wb = write_bytes() - wb0;
  std::printf("scan events:        %.0f /s over %d events of 3 intents; p50 %.2f ms, p99 %.2f ms\n",
              a.accepts / (total_ms / 1000), a.accepts, pct(lat, 0.5), pct(lat, 0.99));
  std::printf("bytes per event:    %.0f written to storage (/proc/self/io; target <= 8192)\n",
              static_cast<double>(wb) / a.accepts);
  box->reset();
  for (const char* s : {"", "-wal", "-shm"}) {
    std::remove((db + s).c_str());
  }
}

void bench_fsync(const Args& a) {
  const std::string f = a.dir + "/bench-fsync";
  int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::vector<char> page(4096, 'x');
  std::vector<double> lat;
  for (int i = 0; i < 300 && fd >= 0; ++i) {
    const auto t = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(i) * 4096) < 0 || ::fdatasync(fd) != 0) {
      break;
    }
    lat.push_back(ms_since(t));
  }
  if (fd >= 0) {
    ::close(fd);
  }
  std::remove(f.c_str());
  std::printf("one fsync:          p50 %.2f ms, p99 %.2f ms (4 KiB pwrite + fdatasync, same disk)\n",
              pct(lat, 0.5), pct(lat, 0.99));
}

void bench_drain(const Args& a, ion_test::IonSim& sim, int window) {
  sim.admin("/_sim/reset");
  const std::string db = a.dir + "/bench-drain.db";
  for (const char* s : {"", "-wal", "-shm"}) {
    std::remove((db + s).c_str());
  }
  hal::SystemClock clock;
  auto box = agent::Outbox::open(db, {}, clock);
  auto client = outbox_test::make_sim_client({sim.api_url(), sim.token_url(), sim.ca()}, clock);
  if (!box.ok() || !client.ok()) {
    std::printf("drain: setup failed\n");
    return;
  }
  for (int i = 0; i < a.drain; ++i) {
    (void)(*box)->append(outbox_test::recipe_intent("BENCH", i, clock));
  }
  agent::DispatcherOptions o;
  o.max_in_flight = static_cast<std::size_t>(window);
  agent::Dispatcher d(**box, **client, clock, o);
  const auto t0 = Clock::now();
  const bool idle = outbox_test::drain(d, **client, clock, std::chrono::minutes(30));
  const double s = ms_since(t0) / 1000;
  auto st = (*box)->stats();
  const int requests = sim.count_requests("graphql");
  std::printf("drain window %-3d   %d intents in %.1f s = %.0f intents/s (%d requests, %.0f req/s)%s%s\n",
              window, a.drain, s, a.drain / s, requests, requests / s, idle ? "" : " NOT IDLE",
              st.ok() && st->done == static_cast<std::uint64_t>(a.drain) ? "" : " (not all done!)");
}

// N unit lookups: one at a time, pipelined `window` at a time, or `batch` aliases per request.
double lookups(agent::CurlGraphqlClient& c, int n, int window, int batch) {
  int sent = 0;
  int done = 0;
  const auto t0 = Clock::now();
  std::function<void()> send_one = [&]() {
    std::string doc = "query B(";
    std::string body;
    agent::Json vars(cJSON_CreateObject());
    for (int j = 0; j < batch; ++j) {
      doc += (j ? ", $s" : "$s") + std::to_string(j) + ": String!";
      body += " u" + std::to_string(j) + ": partInventories(filters: {serialNumber: {eq: $s" +
              std::to_string(j) + "}}, first: 2) { edges { node { id _etag locationId } } }";
      cJSON_AddStringToObject(vars.get(), ("s" + std::to_string(j)).c_str(),
                              ("SN-" + std::to_string(100101 + (sent * batch + j) % 6)).c_str());
    }
    ++sent;
    c.submit({doc + ") {" + body + " }", std::move(vars), ""}, [&](agent::GraphqlResponse) {
      ++done;
      if (sent * batch < n) {
        send_one();
      }
    });
  };
  for (int i = 0; i < window && sent * batch < n; ++i) {
    send_one();
  }
  while (done < sent) {
    c.run_until_idle(std::chrono::seconds(60));
  }
  return (sent * batch) / (ms_since(t0) / 1000);
}

void bench_lookups(const Args& a, ion_test::IonSim& sim) {
  hal::SystemClock clock;
  auto client = outbox_test::make_sim_client({sim.api_url(), sim.token_url(), sim.ca()}, clock);
  if (!client.ok()) {
    return;
  }
  lookups(**client, 50, 1, 1);  // token + warm connections
  std::printf(
      "lookups (%d):      one at a time %.0f/s; pipelined x8 %.0f/s; aliases x20 %.0f/s;"
      " aliases x20 pipelined x4 %.0f/s\n",
      a.lookups, lookups(**client, a.lookups, 1, 1), lookups(**client, a.lookups, 8, 1),
      lookups(**client, a.lookups, 1, 20), lookups(**client, a.lookups, 4, 20));
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  const char* tmp = std::getenv("TMPDIR");
  a.dir = tmp != nullptr ? tmp : "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--dir") {
      a.dir = v;
    } else if (k == "--accepts") {
      a.accepts = std::atoi(v.c_str());
    } else if (k == "--drain") {
      a.drain = std::atoi(v.c_str());
    } else if (k == "--lookups") {
      a.lookups = std::atoi(v.c_str());
    } else if (k == "--windows") {
      a.windows.clear();
      std::stringstream ss(v);
      std::string w;
      while (std::getline(ss, w, ',')) {
        a.windows.push_back(std::atoi(w.c_str()));
      }
    } else {
      std::fprintf(
          stderr,
          "usage: outbox_bench [--dir D] [--accepts N] [--drain N] [--windows 1,4,8] [--lookups N]\n");
      return 64;
    }
  }
  hal::log::set_level(hal::log::Level::error);
  std::printf("outbox_bench: disk of %s\n", a.dir.c_str());
  bench_accepts(a);
  bench_events(a);
  bench_fsync(a);
  ion_test::IonSim sim;
  if (!sim.ok()) {
    std::printf("simulator: %s\n", sim.error().c_str());
    return 1;
  }
  if (a.lookups > 0) {
    bench_lookups(a, sim);
  }
  for (int w : a.windows) {
    if (a.drain > 0) {
      bench_drain(a, sim, w);
    }
  }
  return 0;
}
