// SPDX-License-Identifier: Apache-2.0
// Instruments end to end: the real `ion-agent run` with a serial scanner on a pty, and an
// MT-SICS scale on a pty (InstrumentSim) or a SCPI tester on loopback TCP, against the ION
// simulator. A stable weight becomes the step field; an unstable or overloaded one is refused
// with its reason; a reply that never comes times out with a red light; a cut cable is
// reopened; garbage neither crashes the daemon nor becomes a value. Also the weigh-station
// example profile unchanged with --sim.
#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"
#include "instrument_sim.hpp"
#include "ion_sim.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"

namespace {

using namespace std::chrono_literals;
using ion_test::InstrumentSim;
using ion_test::num;
using ion_test::runs_of;
using ion_test::step_statuses;
using ion_test::str;
using ion_test::table;

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

// A serial barcode scanner played by the test: the daemon opens the slave, we type the master.
class PtyScanner {
 public:
  explicit PtyScanner(const std::string& link) : link_(link) {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master_ >= 0 && ::grantpt(master_) == 0 && ::unlockpt(master_) == 0) {
      ::unlink(link.c_str());
      ok_ = ::symlink(::ptsname(master_), link.c_str()) == 0;
    }
  }
  ~PtyScanner() {
    if (master_ >= 0) {
      ::close(master_);
    }
    ::unlink(link_.c_str());
  }
  bool ok() const { return ok_; }
  void scan(const std::string& text) {
    std::string s = text + "\r";
    (void)!::write(master_, s.data(), s.size());
  }

 private:
  std::string link_;
  int master_ = -1;
  bool ok_ = false;
};

class Bench {
 public:
  explicit Bench(ion_test::IonSim& sim) : sim_(sim) {
    char tmpl[] = "/tmp/ion-instrument-itest-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~Bench() {
    daemon_.reset();
    ion_test::run_process({"rm", "-rf", dir_});
  }
  const std::string& dir() const { return dir_; }

  // Starts the daemon on `profile_json`, or on the file `profile_file` with --sim - .
  bool start(const std::string& profile_json, const std::string& profile_file = "") {
    if (!ion_test::provision_agent(sim_, ION_AGENT_EXE, dir_)) {
      return false;
    }
    std::string profile = profile_file.empty() ? dir_ + "/profile.json" : profile_file;
    if (profile_file.empty()) {
      std::ofstream(profile) << profile_json;
    }
    std::vector<std::string> argv = {ION_AGENT_EXE, "run", "--config",  profile,
                                     "--state-dir", dir_,  "--metrics", dir_ + "/m.prom"};
    if (!profile_file.empty()) {
      argv.insert(argv.end(), {"--sim", "-"});
    }
    daemon_ = std::make_unique<ion_test::Subprocess>(argv);
    if (!daemon_->start()) {
      return false;
    }
    return until([&] { return ::access((dir_ + "/status.json").c_str(), F_OK) == 0; }, 10s);
  }

  bool until(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      daemon_->pump(50ms);
      if (cond()) {
        return true;
      }
    }
    return cond();
  }
  bool logged(const std::string& text, std::chrono::milliseconds limit = 10s) {
    return until([&] { return log().find(text) != std::string::npos; }, limit);
  }
  bool drained(std::chrono::seconds limit = 30s) {
    hal::SystemClock clock;
    return until(
        [&] {
          auto ob = agent::Outbox::open(dir_ + "/outbox.db", {}, clock, agent::Outbox::Mode::read_only);
          if (!ob.ok()) {
            return false;
          }
          auto st = (*ob)->stats();
          return st.ok() && st->pending == 0 && st->in_flight == 0 && st->done + st->dead > 0;
        },
        limit);
  }
  void send(const std::string& lines) { daemon_->write_stdin(lines); }
  ion_test::ProcessResult stop() {
    ::kill(daemon_->pid(), SIGTERM);
    return daemon_->wait(15s);
  }
  std::string log() const { return daemon_ ? daemon_->err_so_far() : ""; }
  std::string out() const { return daemon_ ? daemon_->out_so_far() : ""; }

 private:
  ion_test::IonSim& sim_;
  std::string dir_;
  std::unique_ptr<ion_test::Subprocess> daemon_;
};

// A weigh station on ptys: scanner at DIR/scanner, scale at DIR/scale.
std::string weigh_profile(const std::string& dir, int timeout_ms = 800, const std::string& scale_extra = "") {
  return R"({
  "station": "weigh-itest",
  "inputs": {
    "scanner": {"type": "serial", "device": ")" +
         dir + R"(/scanner", "terminator": "cr"},
    "scale": {"type": "instrument", "port": ")" +
         dir + R"(/scale", "mode": "query", "command": "SI",
              "timeout_ms": )" +
         std::to_string(timeout_ms) + R"(, "dialect": "mt-sics", "unit": "g",
              "min": 12.0, "max": 12.5)" +
         scale_extra + R"(}
  },
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "SN-[0-9]{6}", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "15", "partNumber": "ASM-100"},
      {"intent": "step.status", "status": "IN_PROGRESS", "partNumber": "ASM-100"},
      {"read": "scale"}]},
    {"on": "scanner", "match": "WEIGH", "do": [{"read": "scale"}]},
    {"on": "scale", "event": "reading", "do": [
      {"intent": "step.fields", "fields": {"Net weight": "{reading.value}"}, "partNumber": "ASM-100"},
      {"intent": "step.status", "status": "COMPLETE", "partNumber": "ASM-100"}]}
  ]
})";
}

// status.json's entry for device `name`: "kind connected" (e.g. "instrument true"), or "".
std::string device_status(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/status.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  agent::Json js(cJSON_Parse(text.c_str()));
  const cJSON* d = nullptr;
  cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(js.get(), "devices")) {
    if (str(d, "name") == name) {
      return str(d, "kind") +
             (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "connected")) ? " true" : " false");
    }
  }
  return "";
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_GROUP(InstrumentEndToEnd) {
  std::unique_ptr<ion_test::IonSim> sim;
  void setup() override {
    sim = std::make_unique<ion_test::IonSim>();
    CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
  }
  void teardown() override {
    sim.reset();
  }
};

TEST(InstrumentEndToEnd, PtyScaleRefusesBadWeightsThenWritesAStableOne) {
  Bench b(*sim);
  PtyScanner scanner(b.dir() + "/scanner");
  auto scale = InstrumentSim::pty(b.dir() + "/scale");
  CHECK_TRUE(scanner.ok() && scale != nullptr);
  CHECK_TRUE_TEXT(b.start(weigh_profile(b.dir())), b.log().c_str());

  scale->set_reply("S D     12.345 g");  // still settling
  scanner.scan("SN-000104");
  CHECK_TRUE_TEXT(b.logged("unstable weight"), b.log().c_str());
  STRCMP_EQUAL("SI", scale->last_command().c_str());

  scale->set_reply("S +");
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("overload (S +"), b.log().c_str());

  scale->set_reply("S S     12.900 g");
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("out_of_limits"), b.log().c_str());

  scale->set_fault(InstrumentSim::Fault::garbage);
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("reply has a control character"), b.log().c_str());

  scale->set_fault(InstrumentSim::Fault::none);
  scale->set_reply("S S     12.345 g");
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("accepted 2 intent(s)"), b.log().c_str());
  CHECK_TRUE_TEXT(b.drained(), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  CHECK(result.out.find("output red on") != std::string::npos);

  agent::Json state = sim->state();
  auto runs = runs_of(state, 1004, 15);
  LONGS_EQUAL_TEXT(1, runs.size(), result.err.c_str());
  STRCMP_EQUAL_TEXT("12.345", field_value(state, runs[0], "Net weight").c_str(), result.err.c_str());
  STRCMP_EQUAL("COMPLETE", step_statuses(state, runs[0]).c_str());
}

TEST(InstrumentEndToEnd, PtyScaleNoReplyAndHalfLineTimeOutRed) {
  Bench b(*sim);
  PtyScanner scanner(b.dir() + "/scanner");
  auto scale = InstrumentSim::pty(b.dir() + "/scale");
  CHECK_TRUE(scanner.ok() && scale != nullptr);
  CHECK_TRUE_TEXT(b.start(weigh_profile(b.dir(), 300)), b.log().c_str());
  scale->set_fault(InstrumentSim::Fault::no_reply);
  scanner.scan("SN-000104");
  CHECK_TRUE_TEXT(b.logged("no reply within 300 ms"), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return b.out().find("output red on") != std::string::npos; }, 5s),
                  b.out().c_str());
  scale->set_fault(InstrumentSim::Fault::half_line);
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("half a line"), b.log().c_str());
  // A late reply to nothing is not a reading: the next query gets its own answer.
  scale->set_fault(InstrumentSim::Fault::none);
  scale->set_reply("S S     12.111 g");
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("accepted 2 intent(s)"), b.log().c_str());
  CHECK_TRUE_TEXT(b.drained(), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  agent::Json state = sim->state();
  auto runs = runs_of(state, 1004, 15);
  LONGS_EQUAL_TEXT(1, runs.size(), result.err.c_str());
  STRCMP_EQUAL_TEXT("12.111", field_value(state, runs[0], "Net weight").c_str(), result.err.c_str());
}

TEST(InstrumentEndToEnd, IntervalReadsOnlyWhileAUnitIsCurrent) {
  Bench b(*sim);
  PtyScanner scanner(b.dir() + "/scanner");
  auto scale = InstrumentSim::pty(b.dir() + "/scale");
  CHECK_TRUE(scanner.ok() && scale != nullptr);
  CHECK_TRUE_TEXT(b.start(weigh_profile(b.dir(), 200, R"(, "interval_ms": 300)")), b.log().c_str());
  scale->set_reply("S D     12.345 g");  // never settles: every read is refused, none written
  b.until([] { return false; }, 1s);
  LONGS_EQUAL_TEXT(0, scale->commands(), b.log().c_str());  // no unit: the scale is not asked
  scanner.scan("SN-000104");
  CHECK_TRUE_TEXT(b.until([&] { return scale->commands() >= 4; }, 5s), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  CHECK(count(result.err, "unstable weight") >= 4);
}

TEST(InstrumentEndToEnd, PtyCableCutIsReopened) {
  Bench b(*sim);
  PtyScanner scanner(b.dir() + "/scanner");
  auto scale = InstrumentSim::pty(b.dir() + "/scale");
  CHECK_TRUE(scanner.ok() && scale != nullptr);
  CHECK_TRUE_TEXT(b.start(weigh_profile(b.dir())), b.log().c_str());
  CHECK_TRUE_TEXT(b.logged("input 'scale': opened"), b.log().c_str());
  scale->cut(3000);
  CHECK_TRUE_TEXT(b.logged("input 'scale': scanner missing"), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return device_status(b.dir(), "scale") == "instrument false"; }, 5s),
                  device_status(b.dir(), "scale").c_str());
  scanner.scan("SN-000104");  // while unplugged: a red light, not a hang
  CHECK_TRUE_TEXT(b.logged("not connected"), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return count(b.log(), "input 'scale': opened") >= 2; }, 20s),
                  b.log().c_str());
  scanner.scan("WEIGH");
  CHECK_TRUE_TEXT(b.logged("accepted 2 intent(s)"), b.log().c_str());
  CHECK_TRUE_TEXT(b.drained(), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
}

TEST(InstrumentEndToEnd, TcpScpiTesterWritesTheVoltageAndReconnects) {
  Bench b(*sim);
  PtyScanner scanner(b.dir() + "/scanner");
  auto tester = InstrumentSim::tcp();
  CHECK_TRUE(scanner.ok() && tester != nullptr);
  tester->set_reply("+2.41000E+01");
  std::string profile = R"({
  "station": "tester-itest",
  "inputs": {
    "scanner": {"type": "serial", "device": ")" +
                        b.dir() + R"(/scanner", "terminator": "cr"},
    "dmm": {"type": "instrument", "tcp": "127.0.0.1:)" +
                        std::to_string(tester->port()) + R"(",
            "mode": "query", "command": "MEAS:VOLT?", "terminator": "lf", "timeout_ms": 500,
            "dialect": "scpi", "unit": "V", "min": 23.5, "max": 24.5}
  },
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "SN-[0-9]{6}", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "13", "partNumber": "ASM-100"},
      {"intent": "step.status", "status": "IN_PROGRESS", "partNumber": "ASM-100"}]},
    {"on": "scanner", "match": "MEASURE", "do": [{"read": "dmm"}]},
    {"on": "dmm", "event": "reading", "do": [
      {"intent": "step.fields", "fields": {"Supply voltage": "{reading.value}"}, "partNumber": "ASM-100"}]}
  ]
})";
  CHECK_TRUE_TEXT(b.start(profile), b.log().c_str());
  CHECK_TRUE_TEXT(b.logged("input 'dmm': connected to"), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return device_status(b.dir(), "dmm") == "instrument true"; }, 5s),
                  device_status(b.dir(), "dmm").c_str());
  scanner.scan("SN-000105");
  tester->set_reply("+9.90000E+37");
  scanner.scan("MEASURE");
  CHECK_TRUE_TEXT(b.logged("overflow (SCPI 9.9E37)"), b.log().c_str());
  STRCMP_EQUAL("MEAS:VOLT?", tester->last_command().c_str());
  tester->set_fault(InstrumentSim::Fault::garbage);
  scanner.scan("MEASURE");
  CHECK_TRUE_TEXT(b.logged("reply has a control character"), b.log().c_str());
  tester->set_fault(InstrumentSim::Fault::disconnect);  // the tester drops the connection
  scanner.scan("MEASURE");
  CHECK_TRUE_TEXT(b.logged("disconnected while waiting for the reply"), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return tester->connections() >= 2; }, 20s), b.log().c_str());
  CHECK_TRUE_TEXT(b.until([&] { return count(b.log(), "input 'dmm': connected to") >= 2; }, 20s),
                  b.log().c_str());
  tester->set_reply("+2.41000E+01");
  scanner.scan("MEASURE");
  CHECK_TRUE_TEXT(b.logged("24.1 V: rule 2"), b.log().c_str());
  CHECK_TRUE_TEXT(b.drained(), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  agent::Json state = sim->state();
  auto runs = runs_of(state, 1005, 13);
  LONGS_EQUAL_TEXT(1, runs.size(), result.err.c_str());
  STRCMP_EQUAL_TEXT("24.1", field_value(state, runs[0], "Supply voltage").c_str(), result.err.c_str());
}

TEST(InstrumentEndToEnd, WeighStationProfileRunsUnchangedWithSim) {
  Bench b(*sim);
  CHECK_TRUE_TEXT(b.start("", std::string(ION_SOURCE_DIR) + "/firmware/profiles/weigh-station.json"),
                  b.log().c_str());
  b.send(
      "scan SN-000106\n"
      "reading scale S D     12.300 g\n"
      "reading scale S S     13.000 g\n"
      "reading scale S S     12.300 g\n");
  CHECK_TRUE_TEXT(b.logged("12.300 g: rule 2 (scale): accepted 2 intent(s)"), b.log().c_str());
  CHECK_TRUE_TEXT(b.drained(), b.log().c_str());
  auto result = b.stop();
  LONGS_EQUAL_TEXT(0, result.exit_code, result.err.c_str());
  CHECK_TEXT(result.out.find("read scale SI") != std::string::npos, result.out.c_str());
  CHECK_TEXT(result.err.find("unstable weight") != std::string::npos, result.err.c_str());
  CHECK_TEXT(result.err.find("out_of_limits") != std::string::npos, result.err.c_str());
  agent::Json state = sim->state();
  auto runs = runs_of(state, 1006, 15);
  LONGS_EQUAL_TEXT(1, runs.size(), result.err.c_str());
  STRCMP_EQUAL("12.3", field_value(state, runs[0], "Net weight").c_str());
  STRCMP_EQUAL("COMPLETE", step_statuses(state, runs[0]).c_str());
}
