// SPDX-License-Identifier: Apache-2.0
// End to end: the real `ion-agent run` binary with the simulated station (stdin) against the
// ION simulator over HTTPS, for each example profile in firmware/profiles/, asserting what ION
// holds afterwards. Also: SIGTERM in the middle of deliveries and a restart lose nothing and
// double nothing; status.json shows live figures; the metrics textfile parses; an idle daemon
// makes no wakeups and `ion-agent status` judges it by its process, not the file's age.
#include <CppUTest/TestHarness.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"
#include "prom_text_check.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"

namespace {

using namespace std::chrono_literals;

std::string profile_path(const char* name) {
  return std::string(ION_SOURCE_DIR) + "/firmware/profiles/" + name;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One station: a state dir provisioned against the simulator, and the daemon on --sim -.
class Station {
 public:
  Station(ion_test::IonSim& sim, const std::string& profile) : sim_(sim), profile_(profile) {
    char tmpl[] = "/tmp/ion-station-itest-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~Station() {
    daemon_.reset();
    ion_test::run_process({"rm", "-rf", dir_});
  }

  bool provision() { return ion_test::provision_agent(sim_, ION_AGENT_EXE, dir_); }

  bool start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {ION_AGENT_EXE, "run",   "--config", profile_,    "--state-dir",
                                     dir_,          "--sim", "-",        "--metrics", metrics_path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ::unlink(status_path().c_str());
    daemon_ = std::make_unique<ion_test::Subprocess>(argv);
    if (!daemon_->start()) {
      return false;
    }
    for (int i = 0; i < 200; ++i) {  // status.json appears once the loop runs
      struct stat st {};
      if (::stat(status_path().c_str(), &st) == 0) {
        return true;
      }
      daemon_->pump(50ms);
    }
    return false;
  }

  void send(const std::string& lines) { daemon_->write_stdin(lines); }

  // Waits until the outbox holds nothing pending or in flight.
  bool drained(std::chrono::seconds limit = 60s) {
    hal::SystemClock clock;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      daemon_->pump(100ms);
      auto ob = agent::Outbox::open(dir_ + "/outbox.db", {}, clock, agent::Outbox::Mode::read_only);
      if (ob.ok()) {
        auto st = (*ob)->stats();
        if (st.ok() && st->pending == 0 && st->in_flight == 0 && st->done + st->dead > 0) {
          return true;
        }
      }
    }
    return false;
  }

  agent::QueueStats stats() {
    hal::SystemClock clock;
    auto ob = agent::Outbox::open(dir_ + "/outbox.db", {}, clock, agent::Outbox::Mode::read_only);
    return ob.ok() && (*ob)->stats().ok() ? *(*ob)->stats() : agent::QueueStats{};
  }

  ion_test::ProcessResult stop(int sig = SIGTERM, std::chrono::milliseconds limit = 15s) {
    ::kill(daemon_->pid(), sig);
    return daemon_->wait(limit);
  }

  std::string log() const { return daemon_ ? daemon_->err_so_far() : ""; }
  std::string out() const { return daemon_ ? daemon_->out_so_far() : ""; }
  std::string status_path() const { return dir_ + "/status.json"; }
  std::string metrics_path() const { return dir_ + "/ion_agent.prom"; }
  const std::string& dir() const { return dir_; }
  ion_test::Subprocess& daemon() { return *daemon_; }

 private:
  ion_test::IonSim& sim_;
  std::string profile_;
  std::string dir_;
  std::unique_ptr<ion_test::Subprocess> daemon_;
};

// ---- reading the simulator's state (see sim_state.hpp for the shared part) ----

using ion_test::num;
using ion_test::runs_of;
using ion_test::step_statuses;
using ion_test::str;
using ion_test::table;
using ion_test::unit_by_serial;

int issues_for(const agent::Json& state, double unit_id) {
  int n = 0;
  const cJSON* i = nullptr;
  cJSON_ArrayForEach(i, table(state, "issues")) {
    n += num(i, "partInventoryId") == unit_id ? 1 : 0;
  }
  return n;
}

std::string field_value(const agent::Json& state, const cJSON* run, const std::string& name) {
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, table(state, "run_steps")) {
    if (num(s, "runId") != num(run, "id")) {
      continue;
    }
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, table(state, "run_fields")) {
      if (num(f, "runStepId") == num(s, "id") && str(f, "name") == name) {
        agent::JsonText t(cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(f, "value")));
        return t ? t.get() : "";
      }
    }
  }
  return "<no field " + name + ">";
}

std::string location_of(const agent::Json& state, const cJSON* unit) {
  const cJSON* l = nullptr;
  cJSON_ArrayForEach(l, table(state, "locations")) {
    if (num(l, "id") == num(unit, "locationId")) {
      return str(l, "name");
    }
  }
  return "?";
}

}  // namespace

TEST_GROUP(StationEndToEnd) {
  std::unique_ptr<ion_test::IonSim> sim;
  void setup() override {
    sim = std::make_unique<ion_test::IonSim>();
    CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  }
  void teardown() override {
    sim.reset();
  }
};

TEST(StationEndToEnd, AssemblyProfileBuildsRunsAndRaisesIssues) {
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  st.send(
      "press pass\nrelease pass\n"  // before any unit: red, nothing sent
      "scan OP-1001\nscan SN-000104\nclick pass\n"
      "scan NOT-A-LABEL\n"
      "scan SN-000105\nclick fail\n"
      "scan SN-000103\n");  // the seeded run 1901 is reused, not duplicated
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  // status.json: live figures while it runs (rewritten at most once a second).
  std::string status;
  agent::Json js;
  for (int i = 0; i < 40; ++i) {
    status = read_text(st.status_path());
    js = agent::Json(cJSON_Parse(status.c_str()));
    const cJSON* c = cJSON_GetObjectItemCaseSensitive(js.get(), "counters");
    if (num(c, "accepted") == 6 && num(c, "delivered") == 10) {
      break;
    }
    st.daemon().pump(100ms);
  }
  CHECK_TRUE_TEXT(js != nullptr, status.c_str());
  const cJSON* counters = cJSON_GetObjectItemCaseSensitive(js.get(), "counters");
  LONGS_EQUAL(6, static_cast<long>(num(counters, "accepted")));  // badge, 3 units, pass, fail
  LONGS_EQUAL(10, static_cast<long>(num(counters, "delivered")));
  LONGS_EQUAL(2, static_cast<long>(num(counters, "refused")));  // early pedal, bad label
  STRCMP_EQUAL("running", str(js.get(), "state").c_str());
  // `ion-agent status` reads the same file and the outbox while the daemon runs.
  auto live = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir()});
  CHECK_TEXT(live.out.find("running (pid " + std::to_string(st.daemon().pid())) != std::string::npos,
             live.out.c_str());
  CHECK_TEXT(live.out.find("0 pending") != std::string::npos, live.out.c_str());
  CHECK_TEXT(live.out.find("sim ") != std::string::npos && live.out.find("connected") != std::string::npos,
             live.out.c_str());
  auto result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());

  agent::Json state = sim->state();
  CHECK_TRUE(state != nullptr);
  const cJSON* u104 = unit_by_serial(state, "SN-000104");
  const cJSON* u105 = unit_by_serial(state, "SN-000105");
  auto r104 = runs_of(state, num(u104, "id"), 12);
  auto r105 = runs_of(state, num(u105, "id"), 12);
  LONGS_EQUAL(1, r104.size());
  LONGS_EQUAL(1, r105.size());
  STRCMP_EQUAL("COMPLETE,TODO", step_statuses(state, r104[0]).c_str());
  STRCMP_EQUAL("FAILED,TODO", step_statuses(state, r105[0]).c_str());
  LONGS_EQUAL(0, issues_for(state, num(u104, "id")));
  LONGS_EQUAL(1, issues_for(state, num(u105, "id")));
  auto r103 = runs_of(state, 1003, 12);
  LONGS_EQUAL(1, r103.size());
  LONGS_EQUAL(1901, static_cast<long>(num(r103[0], "id")));
  // Feedback lines: green for accepted, red for refused.
  CHECK(result.out.find("output green on") != std::string::npos);
  CHECK(result.out.find("output red on") != std::string::npos);
  // The metrics textfile parses as Prometheus text format and carries the figures.
  std::string metrics = read_text(st.metrics_path());
  std::string why = ion_test::check_prometheus_text(metrics);
  CHECK_TRUE_TEXT(why.empty(), (why + "\n" + metrics).c_str());
  CHECK(metrics.find("ion_agent_pending{station=\"assembly-1\"} 0") != std::string::npos);
  CHECK(
      metrics.find("ion_agent_device_connected{station=\"assembly-1\",device=\"green\",kind=\"output\"} 1") !=
      std::string::npos);
}

TEST(StationEndToEnd, ReceivingProfileEnsuresAndMovesGs1Units) {
  Station st(*sim, profile_path("receiving-bench.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  st.send(
      "scan LOC:KIT-A\n"                                  // no unit yet: red
      "scan ]C1010950600013435221PSU0099\n"               // new unit, created at RECEIVING
      "scan LOC:KIT-A\n"                                  // moved
      "scan 0109506000134352\\x1d21PSU0001\\x1d10LOT7\n"  // existing unit (GS separators)
      "scan LOC:QUARANTINE\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  auto result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  agent::Json state = sim->state();
  const cJSON* created = unit_by_serial(state, "PSU0099");
  CHECK_TRUE_TEXT(created != nullptr, result.err.c_str());
  LONGS_EQUAL(102, static_cast<long>(num(created, "partId")));
  STRCMP_EQUAL("KIT-A", location_of(state, created).c_str());
  STRCMP_EQUAL("QUARANTINE", location_of(state, unit_by_serial(state, "PSU0001")).c_str());
  LONGS_EQUAL(0, static_cast<long>(st.stats().dead));
}

TEST(StationEndToEnd, TestStandProfileRecordsMeasurementsAndCompletes) {
  Station st(*sim, profile_path("test-stand.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  st.send(
      "scan SN-000106\nscan V=24.1\nscan I=210\nscan FW=1.4.2\nscan GRADE=A\n"
      "click cycle\nclick pass\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  auto result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  agent::Json state = sim->state();
  auto runs = runs_of(state, 1006, 13);
  LONGS_EQUAL_TEXT(1, runs.size(), result.err.c_str());
  STRCMP_EQUAL("24.1", field_value(state, runs[0], "Supply voltage").c_str());
  STRCMP_EQUAL("210", field_value(state, runs[0], "Current draw").c_str());
  STRCMP_EQUAL("\"1.4.2\"", field_value(state, runs[0], "Firmware version").c_str());
  STRCMP_EQUAL("\"A\"", field_value(state, runs[0], "Result grade").c_str());
  STRCMP_EQUAL("true", field_value(state, runs[0], "LEDs OK").c_str());
  STRCMP_EQUAL("COMPLETE,TODO", step_statuses(state, runs[0]).c_str());
  LONGS_EQUAL(0, static_cast<long>(st.stats().dead));
}

TEST(StationEndToEnd, SigtermMidDrainThenRestartLosesAndDoublesNothing) {
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  // Every GraphQL request takes a while, so deliveries are in flight when SIGTERM comes.
  CHECK_TRUE(sim->admin("/_sim/faults", R"({"kind":"delay","seconds":0.4,"count":null})") != nullptr);
  CHECK_TRUE_TEXT(st.start({"--drain-ms", "300"}), st.log().c_str());
  const char* units[] = {"SN-000101", "SN-000102", "SN-000104", "SN-000105", "SN-000106"};
  for (const char* u : units) {
    st.send(std::string("scan ") + u + "\nclick pass\n");
  }
  // Wait until some but not all intents are done.
  for (int i = 0; i < 300; ++i) {
    st.daemon().pump(50ms);
    auto s = st.stats();
    if (s.done >= 2) {
      break;
    }
  }
  auto before = st.stats();
  CHECK_TEXT(before.pending + before.in_flight > 0, "test too slow to catch the daemon mid-drain");
  auto t0 = std::chrono::steady_clock::now();
  auto result = st.stop();
  auto took = std::chrono::steady_clock::now() - t0;
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  CHECK_TEXT(took < 5s, "SIGTERM took longer than its bound");
  CHECK(result.err.find("stopping") != std::string::npos);
  // Clear the delay and restart: everything left is delivered.
  ion_test::run_process(
      {"curl", "-s", "-X", "DELETE", "--cacert", sim->ca(), sim->base_url() + "/_sim/faults"});
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  auto after = st.stats();
  LONGS_EQUAL(0, static_cast<long>(after.dead));
  LONGS_EQUAL(15, static_cast<long>(after.done));  // 5 x (run.ensure, IN_PROGRESS, COMPLETE)
  st.stop();
  agent::Json state = sim->state();
  for (const char* u : units) {
    const cJSON* unit = unit_by_serial(state, u);
    auto runs = runs_of(state, num(unit, "id"), 12);
    LONGS_EQUAL_TEXT(1, runs.size(), u);
    // COMPLETE applied once: the second step was not completed by a replay.
    STRCMP_EQUAL_TEXT("COMPLETE,TODO", step_statuses(state, runs[0]).c_str(), u);
  }
}

TEST(StationEndToEnd, InvalidProfileIsRefusedBeforeStartingAndOnReload) {
  char tmpl[] = "/tmp/ion-station-bad-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string bad = dir + "/bad.json";
  std::ofstream(bad)
      << R"({"inputs": {"scanner": {"type": "sim"}}, "rules": [{"on": "scaner", "do": [{"clear": "*"}]}]})";
  auto r = ion_test::run_process({ION_AGENT_EXE, "run", "--config", bad, "--state-dir", dir, "--sim", "-"});
  LONGS_EQUAL(15, r.exit_code);  // kExitConfig
  CHECK_TEXT(r.err.find(bad + ": $.rules[0].on: unknown input 'scaner'") != std::string::npos, r.err.c_str());
  auto c = ion_test::run_process({ION_AGENT_EXE, "check", "--config", bad, "--profile-only"});
  LONGS_EQUAL(15, c.exit_code);
  CHECK(c.out.find("$.rules[0].on: unknown input 'scaner'") != std::string::npos);

  // A running station keeps its profile when SIGHUP brings a broken one.
  std::string good = dir + "/station.json";
  std::string text = read_text(profile_path("assembly-station.json"));
  std::ofstream(good) << text;
  Station st(*sim, good);
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  std::ofstream(good, std::ios::trunc) << "{ \"inputs\": ";
  ::kill(st.daemon().pid(), SIGHUP);
  st.daemon().pump(300ms);
  st.send("scan SN-000104\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  auto result = st.stop();
  CHECK(result.err.find("reload refused") != std::string::npos);
  CHECK(result.err.find("JSON syntax error") != std::string::npos);
  LONGS_EQUAL(2, static_cast<long>(st.stats().done));
  ion_test::run_process({"rm", "-rf", dir});
}

// ---- idle: no wakeups, and `status` without a heartbeat ----

// Context switches per thread of `pid` (voluntary + involuntary): a thread that sleeps in the
// kernel and is never woken does not add any.
// TCP connections of `pid` in ESTABLISHED state (its socket fds matched in /proc/net/tcp*).
static int established_tcp(pid_t pid) {
  std::vector<std::string> inodes;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(fd_dir.c_str())) {
    while (dirent* e = readdir(d)) {
      char target[128] = {};
      if (readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof target - 1) > 0 &&
          std::string(target).rfind("socket:[", 0) == 0) {
        inodes.push_back(std::string(target + 8, std::strlen(target) - 9));
      }
    }
    closedir(d);
  }
  int n = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(table);
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      in >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "01" && std::find(inodes.begin(), inodes.end(), inode) != inodes.end()) {
        ++n;
      }
    }
  }
  return n;
}

static std::map<std::string, long> switches_by_thread(pid_t pid) {
  std::map<std::string, long> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  std::vector<std::string> tids;
  if (DIR* d = ::opendir(task.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') {
        tids.emplace_back(e->d_name);
      }
    }
    ::closedir(d);
  }
  for (const auto& tid : tids) {
    std::ifstream in(task + "/" + tid + "/status");
    long n = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 ||
          line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        n += std::stol(line.substr(line.find(':') + 1));
      }
    }
    out[tid] = n;
  }
  return out;
}

// Rewrites status.json's updated_ms as if the file were `age` old (the daemon, being idle,
// does not rewrite it meanwhile).
static void age_status_file(const std::string& path, std::chrono::milliseconds age) {
  agent::Json js(cJSON_Parse(read_text(path).c_str()));
  CHECK_TRUE(js != nullptr);
  cJSON_ReplaceItemInObjectCaseSensitive(
      js.get(), "updated_ms",
      cJSON_CreateNumber(static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 (std::chrono::system_clock::now() - age).time_since_epoch())
                                                 .count())));
  agent::JsonText t(cJSON_Print(js.get()));
  std::ofstream(path, std::ios::trunc) << t.get() << "\n";
}

TEST(StationEndToEnd, IdleDaemonMakesNoWakeupsAfterDelivering) {
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  // Work first (token, connection, deliveries, status and metrics writes), then nothing.
  st.send("scan SN-000104\nclick pass\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  st.daemon().pump(2s);  // settle: the last status/metrics rewrite (rate limited to 1/s)
  const pid_t pid = st.daemon().pid();
  auto before = switches_by_thread(pid);
  // Longer than every periodic timer the daemon used to have (10 s status heartbeat), so a
  // regression is caught every time, not by chance; any wakeup at all fails.
  st.daemon().pump(11s);
  auto after = switches_by_thread(pid);
  std::string diff;
  for (const auto& [tid, n] : after) {
    auto b = before.find(tid);
    long d = b == before.end() ? n : n - b->second;
    if (d != 0 || b == before.end()) {
      diff +=
          "thread " + tid + (b == before.end() ? " (new)" : "") + ": " + std::to_string(d) + " switches\n";
    }
  }
  CHECK_TEXT(diff.empty(), (diff + st.log()).c_str());
  CHECK_EQUAL(before.size(), after.size());  // no resolver or helper thread came and went
  // One kept-alive connection to ION at most while idle (token and GraphQL shared it).
  const int connections = established_tcp(pid);
  CHECK_TEXT(connections <= 1, std::to_string(connections).c_str());
  auto result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
}

TEST(StationEndToEnd, IdleDaemonStopsAtOnceOnSigterm) {
  // Nothing in flight: SIGTERM must not wait out --drain-ms (a systemd restart took 5 s).
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start({"--drain-ms", "10000"}), st.log().c_str());
  st.send("scan SN-000105\nclick pass\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  st.daemon().pump(500ms);
  auto t0 = std::chrono::steady_clock::now();
  auto result = st.stop();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  // The goal is <= 100 ms; the bound leaves room for a loaded CI machine, and is still far
  // below the drain time this used to take.
  CHECK_TEXT(took < 1000ms, ("idle SIGTERM took " + std::to_string(took.count()) + " ms").c_str());
  std::printf("\nidle SIGTERM to exit: %lld ms\n", static_cast<long long>(took.count()));
}

TEST(StationEndToEnd, StatusJudgesTheDaemonByItsProcessNotTheFileAge) {
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  st.daemon().pump(1500ms);
  const pid_t pid = st.daemon().pid();
  // An idle daemon does not rewrite its file: an hour-old file from a live daemon is normal.
  age_status_file(st.status_path(), 1h);
  auto live = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir()});
  LONGS_EQUAL(0, live.exit_code);
  CHECK_TEXT(live.out.find("running (pid " + std::to_string(pid) + ", up ") != std::string::npos,
             live.out.c_str());
  CHECK_TEXT(live.out.find("last change 1h") != std::string::npos, live.out.c_str());
  CHECK_TEXT(live.out.find("sim ") != std::string::npos, live.out.c_str());  // live part shown
  auto js = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir(), "--json"});
  CHECK_TEXT(js.out.find("\"running\":\ttrue") != std::string::npos ||
                 js.out.find("\"running\": true") != std::string::npos,
             js.out.c_str());

  // The same pid with another start time is another process (pid reuse): not running.
  std::string text = read_text(st.status_path());
  agent::Json doc(cJSON_Parse(text.c_str()));
  cJSON_ReplaceItemInObjectCaseSensitive(doc.get(), "pid_start", cJSON_CreateNumber(1));
  {
    agent::JsonText t(cJSON_Print(doc.get()));
    std::ofstream(st.status_path(), std::ios::trunc) << t.get() << "\n";
  }
  auto reused = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir()});
  LONGS_EQUAL(0, reused.exit_code);
  CHECK_TEXT(reused.out.find("reused by another process") != std::string::npos, reused.out.c_str());
  CHECK_TEXT(reused.out.find("sim ") == std::string::npos, reused.out.c_str());  // no stale live part
  std::ofstream(st.status_path(), std::ios::trunc) << text;

  // A daemon that died without a word (SIGKILL) leaves a file naming a pid that is gone.
  auto killed = st.stop(SIGKILL);
  CHECK(killed.exit_code != 0);
  auto dead = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir()});
  LONGS_EQUAL(0, dead.exit_code);  // the outbox is still readable
  CHECK_TEXT(dead.out.find("not running (status file from") != std::string::npos, dead.out.c_str());
  CHECK_TEXT(dead.out.find("pid " + std::to_string(pid) + " gone") != std::string::npos, dead.out.c_str());
}

// Every accepted event changes status.json: under systemd ($RUNTIME_DIRECTORY, tmpfs) it is
// written there, and the state dir holds only a symlink to it, made once per start, so the
// state partition is not written per event (issue 17). `ion-agent status` reads it as ever.
TEST(StationEndToEnd, StatusJsonLivesOnTheRuntimeDirectoryAndTheStateDirOnlyLinksIt) {
  Station st(*sim, profile_path("assembly-station.json"));
  CHECK_TRUE(st.provision());
  const std::string run_dir = st.dir() + "/run";
  CHECK_EQUAL(0, ::mkdir(run_dir.c_str(), 0755));
  ::setenv("RUNTIME_DIRECTORY", run_dir.c_str(), 1);
  const bool started = st.start();
  ::unsetenv("RUNTIME_DIRECTORY");
  CHECK_TRUE_TEXT(started, st.log().c_str());
  struct stat link0 {};
  CHECK_EQUAL(0, ::lstat(st.status_path().c_str(), &link0));
  CHECK_TRUE(S_ISLNK(link0.st_mode));
  char target[4096] = {};
  CHECK_TRUE(::readlink(st.status_path().c_str(), target, sizeof target - 1) > 0);
  STRCMP_EQUAL((run_dir + "/status.json").c_str(), target);
  struct stat file0 {};
  CHECK_EQUAL(0, ::stat((run_dir + "/status.json").c_str(), &file0));
  st.send("scan OP-1001\nscan SN-000104\n");
  CHECK_TRUE_TEXT(st.drained(), st.log().c_str());
  std::string status;
  agent::Json js;
  for (int i = 0; i < 40; ++i) {  // rewritten (a new inode in the runtime dir) once it settles
    status = read_text(st.status_path());
    js = agent::Json(cJSON_Parse(status.c_str()));
    if (num(cJSON_GetObjectItemCaseSensitive(js.get(), "counters"), "accepted") == 2) {
      break;
    }
    st.daemon().pump(100ms);
  }
  LONGS_EQUAL(2, static_cast<long>(num(cJSON_GetObjectItemCaseSensitive(js.get(), "counters"), "accepted")));
  struct stat file1 {};
  CHECK_EQUAL(0, ::stat((run_dir + "/status.json").c_str(), &file1));
  CHECK_TRUE(file1.st_ino != file0.st_ino);
  struct stat link1 {};
  CHECK_EQUAL(0, ::lstat(st.status_path().c_str(), &link1));
  CHECK_TRUE(S_ISLNK(link1.st_mode));
  LONGS_EQUAL(link0.st_ino, link1.st_ino);  // the link was not made again
  auto live = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", st.dir()});
  CHECK_TEXT(live.out.find("running (pid " + std::to_string(st.daemon().pid())) != std::string::npos,
             live.out.c_str());
  auto result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  // Without $RUNTIME_DIRECTORY it is a plain file in the state dir.
  CHECK_TRUE_TEXT(st.start(), st.log().c_str());
  struct stat plain {};
  CHECK_EQUAL(0, ::lstat(st.status_path().c_str(), &plain));
  CHECK_TRUE(S_ISREG(plain.st_mode));
  result = st.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
}
