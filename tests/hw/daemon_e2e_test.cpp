// SPDX-License-Identifier: Apache-2.0
// End to end on a real kernel: the `ion-agent run` binary with the Linux HAL (no --sim), a
// station profile naming a uinput keyboard by USB VID:PID as its scanner and gpio-sim lines
// (by chip label and line name) as its pedal and lamps, and the ION simulator on the VM's
// loopback over HTTPS. A scan and a pedal press must become the expected run and step state in
// the simulator, and the green lamp must light only after the event's intents are committed:
// the test holds SQLite's write lock on the outbox while the scan arrives, checks that the
// daemon is waiting for that lock (it sleeps in SQLite's busy handler) and that green stays
// dark for as long as the lock is held, then releases it and expects green. The scanner is
// also unplugged and plugged in again while the daemon runs. Needs root, /dev/uinput, gpio-sim
// and loopback (the VM runner in tests/vm/ provides them); not part of the unit suite.
#include <CppUTest/TestHarness.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/common/json.hpp"
#include "agent/outbox/sqlite.hpp"
#include "gpio_sim.hpp"
#include "ion_sim.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"
#include "uinput_keyboard.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kProduct = 0x5e2e;
// gpio-sim line offsets of the station (named, so the profile can use names).
constexpr unsigned kPass = 0, kGreen = 1, kRed = 2;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The profile an engineer would write for this station; chip by label, lines by name.
std::string profile_json(const std::string& chip_label) {
  const std::string chip = "\"chip\": \"" + chip_label + "\"";
  return R"({
  "station": "vm-e2e",
  "inputs": {
    "scanner": {"type": "evdev", "usb": "1209:5e2e", "grab": true, "keymap": "us"},
    "pass": {"type": "gpio", )" +
         chip + R"(, "line": "ion-e2e-pass", "active_low": true, "bias": "pull-up", "debounce_ms": 10}
  },
  "outputs": {
    "green": {)" +
         chip + R"(, "line": "ion-e2e-green"},
    "red": {)" +
         chip + R"(, "line": "ion-e2e-red"}
  },
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]{6}$",
     "do": [
       {"set": "unit.serial", "to": "{scan}"},
       {"intent": "run.ensure", "procedureId": "12", "partNumber": "ASM-100"},
       {"intent": "step.status", "status": "IN_PROGRESS", "partNumber": "ASM-100"}]},
    {"on": "pass", "event": "press",
     "do": [{"intent": "step.status", "status": "COMPLETE", "partNumber": "ASM-100"}]}
  ],
  "feedback": {
    "accepted": {"green": "pulse 1000ms"},
    "no_unit": {"red": "pulse 1000ms"}
  }
})";
}

// Step statuses of every run of procedure 12 for the unit with this serial (sim_state.hpp).
std::string runs_of(const agent::Json& state, const std::string& serial) {
  return ion_test::run_statuses(state, serial, 12);
}

// True while the process sleeps in nanosleep: SQLite's busy handler waiting for a lock (the
// daemon's loop otherwise only ever blocks in poll).
bool sleeping_in_nanosleep(pid_t pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/syscall"));
  long nr = -1;
  in >> nr;
#ifdef SYS_nanosleep
  if (nr == SYS_nanosleep) {
    return true;
  }
#endif
  return nr == SYS_clock_nanosleep;
}

// The daemon on one scratch state directory, its output pumped while the test waits.
class Daemon {
 public:
  Daemon(ion_test::IonSim& sim, const std::string& profile_text) : sim_(sim) {
    dir_ = ion_test::make_temp_dir("ion-e2e");
    profile_ = dir_ + "/station.json";
    std::ofstream(profile_) << profile_text;
  }
  ~Daemon() {
    proc_.reset();
    ion_test::remove_tree(dir_);
  }

  bool provision() { return ion_test::provision_agent(sim_, ION_AGENT_EXE, dir_); }
  bool start() {
    proc_ = std::make_unique<ion_test::Subprocess>(
        std::vector<std::string>{ION_AGENT_EXE, "run", "--config", profile_, "--state-dir", dir_});
    return proc_->start();
  }
  // Pumps the daemon's output until pred() holds or `limit` passes; checks every `step`.
  bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = 20ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= end) {
        return false;
      }
      proc_->pump(step);
    }
    return true;
  }
  // Every device of the profile is open (status.json, written by the daemon on changes).
  bool devices_connected(std::size_t want) {
    agent::Json st(cJSON_Parse(read_text(dir_ + "/status.json").c_str()));
    std::size_t n = 0;
    const cJSON* d = nullptr;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(st.get(), "devices")) {
      n += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "connected")) ? 1 : 0;
    }
    return n == want;
  }
  pid_t pid() const { return proc_->pid(); }
  std::string log() const { return proc_->err_so_far() + proc_->out_so_far(); }
  std::string outbox() const { return dir_ + "/outbox.db"; }
  ion_test::ProcessResult stop() {
    ::kill(proc_->pid(), SIGTERM);
    return proc_->wait(30s);
  }

 private:
  ion_test::IonSim& sim_;
  std::string dir_, profile_;
  std::unique_ptr<ion_test::Subprocess> proc_;
};

// Another process's write transaction on the outbox: SQLite makes the daemon wait for it.
class WriteLock {
 public:
  explicit WriteLock(const std::string& db) {
    if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
      held_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
  }
  ~WriteLock() { release(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  bool held() const { return held_; }
  void release() {
    if (held_) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      held_ = false;
    }
    if (db_ != nullptr) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = false;
};

}  // namespace

TEST_GROUP(DaemonE2E){};

TEST(DaemonE2E, ScanAndPedalBecomeStepStateAndGreenFollowsTheCommit) {
  ion_test::IonSim sim({}, 120s);  // Python under TCG starts slowly
  CHECK_TRUE_TEXT(sim.ok(), (sim.error() + "\n" + sim.log_text()).c_str());
  hw::GpioSimChip chip(3, {{kPass, "ion-e2e-pass"}, {kGreen, "ion-e2e-green"}, {kRed, "ion-e2e-red"}});
  CHECK_TRUE_TEXT(chip.ok(), chip.error().c_str());
  CHECK_TRUE(chip.set_pull(kPass, true));  // pedal up (active low)
  auto kbd = std::make_unique<hw::UinputKeyboard>(kProduct);
  auto type_scan = [](hw::UinputKeyboard& k, const std::string& text) {
    // A scanner's USB reports arrive ~1 ms apart; evdev holds 64 events per reader.
    k.after_tap = [] { std::this_thread::sleep_for(2ms); };
    k.type_us(text);
    k.tap(KEY_ENTER);
  };

  Daemon d(sim, profile_json(chip.label()));
  CHECK_TRUE(d.provision());
  CHECK_TRUE(d.start());
  CHECK_TRUE_TEXT(d.wait_for([&] { return d.devices_connected(4); }, 60s), d.log().c_str());
  LONGS_EQUAL(0, chip.value(kGreen));
  LONGS_EQUAL(0, chip.value(kRed));

  // A pedal press with no unit scanned: refused, red lamp, nothing for ION.
  CHECK_TRUE(chip.set_pull(kPass, false));
  std::this_thread::sleep_for(100ms);
  CHECK_TRUE(chip.set_pull(kPass, true));
  CHECK_TRUE_TEXT(d.wait_for([&] { return chip.value(kRed) == 1; }, 10s), d.log().c_str());
  LONGS_EQUAL(0, chip.value(kGreen));

  // The scan arrives while another process holds the outbox's write lock.
  {
    WriteLock lock(d.outbox());
    CHECK_TRUE(lock.held());
    type_scan(*kbd, "SN-000104");
    bool waited = false;
    bool green_early = false;
    auto hold_until = std::chrono::steady_clock::now() + 2s;
    d.wait_for(
        [&] {
          waited = waited || sleeping_in_nanosleep(d.pid());
          green_early = green_early || chip.value(kGreen) != 0;
          return std::chrono::steady_clock::now() >= hold_until;
        },
        5s, 5ms);
    CHECK_FALSE_TEXT(green_early, "green lit while the event could not be committed");
    CHECK_TRUE_TEXT(waited, ("the daemon never waited for the outbox lock:\n" + d.log()).c_str());
  }
  CHECK_TRUE_TEXT(d.wait_for([&] { return chip.value(kGreen) == 1; }, 10s), d.log().c_str());
  CHECK_TRUE_TEXT(
      d.wait_for([&] { return runs_of(sim.state(), "SN-000104") == "IN_PROGRESS,TODO"; }, 60s, 200ms),
      d.log().c_str());

  // The PASS pedal completes the step.
  CHECK_TRUE(d.wait_for([&] { return chip.value(kGreen) == 0; }, 10s));
  CHECK_TRUE(chip.set_pull(kPass, false));
  std::this_thread::sleep_for(100ms);
  CHECK_TRUE(chip.set_pull(kPass, true));
  CHECK_TRUE_TEXT(d.wait_for([&] { return chip.value(kGreen) == 1; }, 10s), d.log().c_str());
  CHECK_TRUE_TEXT(
      d.wait_for([&] { return runs_of(sim.state(), "SN-000104") == "COMPLETE,TODO"; }, 60s, 200ms),
      d.log().c_str());

  // Unplug the scanner and plug it in again: the daemon picks it up and scans go on.
  kbd.reset();
  CHECK_TRUE_TEXT(d.wait_for([&] { return d.devices_connected(3); }, 30s), d.log().c_str());
  kbd = std::make_unique<hw::UinputKeyboard>(kProduct);
  CHECK_TRUE_TEXT(d.wait_for([&] { return d.devices_connected(4); }, 30s), d.log().c_str());
  type_scan(*kbd, "SN-000105");
  CHECK_TRUE_TEXT(
      d.wait_for([&] { return runs_of(sim.state(), "SN-000105") == "IN_PROGRESS,TODO"; }, 60s, 200ms),
      d.log().c_str());

  auto result = d.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  STRCMP_EQUAL("COMPLETE,TODO", runs_of(sim.state(), "SN-000104").c_str());  // nothing doubled
}
