// SPDX-License-Identifier: Apache-2.0
// Quality interlocks end to end: the real `ion-agent run` with the simulated station against
// the ION simulator. A unit with an open issue, a unit whose run is on hold and a unit at
// another location get the interlock light and no intents; the same unit is accepted once its
// issue is closed; a scan-then-press asks ION once; offline behaviour follows the profile.
#include <CppUTest/TestHarness.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"
#include "sim_daemon.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"

namespace {

using namespace std::chrono_literals;
using ion_test::num;
using ion_test::runs_of;
using ion_test::str;
using ion_test::table;

// Unit 1004 (SN-000104, at RECEIVING) carries an open issue.
std::string fixture_with_issue(const std::string& dir) {
  agent::Json fx(cJSON_Parse(
      ion_test::read_text_file(std::string(ION_SOURCE_DIR) + "/tests/ion-sim/fixtures/factory.json")
          .c_str()));
  cJSON* issues = cJSON_GetObjectItemCaseSensitive(fx.get(), "issues");
  cJSON_AddItemToArray(issues, cJSON_Parse(R"({"id":3001,"partInventoryId":1004,"title":"Scratch on cover",
      "status":"OPEN","causeCondition":null,"attributes":[]})"));
  agent::JsonText t(cJSON_PrintUnformatted(fx.get()));
  std::string path = dir + "/fixture.json";
  std::ofstream(path) << t.get();
  return path;
}

std::string profile(const std::string& offline, int timeout_ms) {
  return R"({"station": "stand-it", "location": "RECEIVING",
  "interlocks": {"timeout_ms": )" +
         std::to_string(timeout_ms) + R"(, "cache_s": 30},
  "inputs": {"scanner": {"type": "sim"}, "pass": {"type": "sim"}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]{6}$",
     "require": ["no_open_issues", "run_not_held", "at_location:{station.location}"], "offline": ")" +
         offline + R"(",
     "do": [{"set": "unit.serial", "to": "{scan}"}, {"intent": "run.ensure", "procedureId": "13"}]},
    {"on": "pass", "event": "press", "require": ["no_open_issues", "run_not_held"], "offline": ")" +
         offline +
         R"(",
     "do": [{"intent": "issue.create", "text": "checked at {station}"}]}
  ]})";
}

class Daemon {
 public:
  Daemon(ion_test::IonSim& sim, const std::string& profile_text) : sim_(sim) {
    dir_ = ion_test::make_temp_dir("ion-interlock-itest");
    std::ofstream(dir_ + "/profile.json") << profile_text;
  }
  ~Daemon() {
    proc_.reset();
    ion_test::remove_tree(dir_);
  }
  bool start() {
    if (!ion_test::provision_agent(sim_, ION_AGENT_EXE, dir_)) {
      return false;
    }
    proc_ = ion_test::start_sim_daemon(ION_AGENT_EXE, dir_);
    return proc_ != nullptr;
  }
  void send(const std::string& lines) { proc_->write_stdin(lines); }
  // Waits until the log holds `n` lines containing `what`.
  bool wait_for(const std::string& what, int n, std::chrono::seconds limit = 30s) {
    return ion_test::wait_for_log(*proc_, what, n, limit);
  }
  int count(const std::string& what) const { return ion_test::log_count(*proc_, what); }
  std::vector<agent::IntentRecord> intents() {
    hal::SystemClock clock;
    auto ob = agent::Outbox::open(dir_ + "/outbox.db", {}, clock, agent::Outbox::Mode::read_only);
    if (!ob.ok()) {
      return {};
    }
    auto l = (*ob)->list({});
    return l.ok() ? *l : std::vector<agent::IntentRecord>{};
  }
  std::string status() { return ion_test::read_text_file(dir_ + "/status.json"); }
  ion_test::ProcessResult stop() {
    ::kill(proc_->pid(), SIGTERM);
    return proc_->wait(15s);
  }
  std::string log() const { return proc_ ? proc_->err_so_far() : ""; }
  const std::string& dir() const { return dir_; }

 private:
  ion_test::IonSim& sim_;
  std::string dir_;
  std::unique_ptr<ion_test::Subprocess> proc_;
};

int graphql_ops(ion_test::IonSim& sim, const std::string& name) {
  agent::Json log = sim.request_log();
  int n = 0;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    n += str(e, "operation_name") == name ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_GROUP(InterlockEndToEnd){};

TEST(InterlockEndToEnd, HeldUnitsGetTheInterlockLightAndNoIntents) {
  std::string tmp = ion_test::make_temp_dir("ion-interlock-fx");
  ion_test::IonSim sim({"--fixture", fixture_with_issue(tmp)});
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  // SN-000103's run 1901 goes on HOLD; the unit is brought to this station's location.
  CHECK_TRUE(sim.admin("/_sim/set", R"({"table":"run_steps","id":19011,"fields":{"status":"HOLD"}})") !=
             nullptr);
  CHECK_TRUE(sim.admin("/_sim/set", R"({"table":"part_inventories","id":1003,"fields":{"locationId":1}})") !=
             nullptr);
  Daemon d(sim, profile("refuse", 3000));
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());

  d.send("scan SN-000104\nscan SN-000103\nscan SN-000102\n");
  CHECK_TRUE_TEXT(d.wait_for("interlock: rule", 3), d.log().c_str());
  const std::string log = d.log();
  CHECK_TEXT(log.find("interlock no_open_issues failed: issue 3001 \"Scratch on cover\" is OPEN") !=
                 std::string::npos,
             log.c_str());
  CHECK_TEXT(log.find("interlock run_not_held failed: run 1901") != std::string::npos, log.c_str());
  CHECK_TEXT(log.find("is HOLD") != std::string::npos, log.c_str());
  CHECK_TEXT(log.find("interlock at_location:RECEIVING failed: unit is at KIT-A, not RECEIVING") !=
                 std::string::npos,
             log.c_str());
  LONGS_EQUAL(0, d.intents().size());  // nothing queued for any of them
  std::string last;
  for (int i = 0; i < 30 && last.find("at_location") == std::string::npos; ++i) {
    agent::Json st(cJSON_Parse(d.status().c_str()));
    last = str(cJSON_GetObjectItemCaseSensitive(st.get(), "last_interlock"), "message");
    ::usleep(100 * 1000);
  }
  CHECK_TEXT(last.find("interlock at_location:RECEIVING failed") != std::string::npos, last.c_str());
  auto shown = ion_test::run_process({ION_AGENT_EXE, "status", "--state-dir", d.dir()});
  CHECK_TEXT(
      shown.out.find("interlock:") != std::string::npos && shown.out.find("at_location") != std::string::npos,
      shown.out.c_str());

  // The issue is closed: the same unit is accepted. Then PASS: answered from the cache.
  CHECK_TRUE(sim.admin("/_sim/set", R"({"table":"issues","id":3001,"fields":{"status":"CLOSED"}})") !=
             nullptr);
  int asked = graphql_ops(sim, "InterlockState");
  d.send("scan SN-000104\nclick pass\n");
  CHECK_TRUE_TEXT(d.wait_for("accepted 1 intent(s)", 2), d.log().c_str());
  LONGS_EQUAL(asked + 1, graphql_ops(sim, "InterlockState"));  // the press did not ask again
  auto result = d.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  agent::Json state = sim.state();
  LONGS_EQUAL(1, runs_of(state, 1004, 13).size());
  LONGS_EQUAL(0, runs_of(state, 1003, 13).size());
  LONGS_EQUAL(0, runs_of(state, 1002, 13).size());
  ion_test::remove_tree(tmp);
}

TEST(InterlockEndToEnd, OfflineFollowsTheProfile) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  // Every request takes 2 s: the 300 ms interlock deadline passes first.
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"delay","seconds":2,"count":null})") != nullptr);
  {
    Daemon refuse(sim, profile("refuse", 300));
    CHECK_TRUE_TEXT(refuse.start(), refuse.log().c_str());
    refuse.send("scan SN-000101\n");
    CHECK_TRUE_TEXT(refuse.wait_for("offline: refuse, nothing queued", 1), refuse.log().c_str());
    CHECK_TEXT(refuse.log().find("ION did not answer within 300 ms") != std::string::npos,
               refuse.log().c_str());
    LONGS_EQUAL(0, refuse.intents().size());
    refuse.stop();
  }
  Daemon accept(sim, profile("accept", 300));
  CHECK_TRUE_TEXT(accept.start(), accept.log().c_str());
  accept.send("scan SN-000101\nclick pass\n");
  CHECK_TRUE_TEXT(accept.wait_for("interlock check skipped", 2), accept.log().c_str());
  auto in = accept.intents();
  LONGS_EQUAL(2, in.size());
  for (const auto& i : in) {
    CHECK_TEXT(
        i.inputs_json.find(R"("interlock":"skipped: ION did not answer within 300 ms")") != std::string::npos,
        i.inputs_json.c_str());
  }
  // Delivered anyway; the issue's text says the check was skipped.
  CHECK(sim.admin_delete("/_sim/faults") != nullptr);
  for (int i = 0; i < 300; ++i) {
    agent::Json state = sim.state();
    if (cJSON_GetArraySize(table(state, "issues")) > 0) {
      break;
    }
    ::usleep(100 * 1000);
  }
  accept.stop();
  agent::Json state = sim.state();
  const cJSON* issue = cJSON_GetArrayItem(table(state, "issues"), 0);
  CHECK_TRUE(issue != nullptr);
  agent::JsonText text(cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(issue, "causeCondition")));
  CHECK_TEXT(std::string(text.get()).find("Interlock check skipped: ION did not answer within 300 ms") !=
                 std::string::npos,
             text.get());
}
