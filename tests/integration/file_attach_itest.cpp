// SPDX-License-Identifier: Apache-2.0
// File attachments end to end: the real `ion-agent run` with a folder input on a real
// directory (inotify) and the simulated station, against the ION simulator over HTTPS. A file
// dropped in the folder is attached once, with its bytes, to the unit's current run step; the
// same for a 5 MB file dropped during an outage, with the PUT cut in transit, with the upload
// URL expired before the PUT, and with kill -9 between createFileAttachment and the PUT.
// RSS: a 50 MB upload grows the daemon's resident memory by less than 1 MB (printed).
#include <CppUTest/TestHarness.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/crypto/crypto.hpp"
#include "agent/outbox/outbox.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"
#include "sim_daemon.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"

namespace {

using namespace std::chrono_literals;
using ion_test::num;
using ion_test::str;
using ion_test::table;

std::string profile(const std::string& folder, int max_mb = 16) {
  return R"({"station": "stand-files",
  "ion": {"retry_base_ms": 200, "retry_cap_ms": 1000, "timeout_ms": 5000},
  "inputs": {"scanner": {"type": "sim"},
             "results": {"type": "folder", "path": ")" +
         folder + R"(", "pattern": "*.csv", "max_mb": )" + std::to_string(max_mb) + R"(}},
  "outputs": {"green": {"type": "sim"}, "red": {"type": "sim"}},
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]{6}$", "do": [
      {"set": "unit.serial", "to": "{scan}"},
      {"intent": "run.ensure", "procedureId": "13"},
      {"intent": "step.status", "status": "IN_PROGRESS"}]},
    {"on": "results", "event": "file", "do": [{"intent": "file.attach"}]}
  ]})";
}

// The example profile's folder (firmware/profiles/test-stand-files.json).
constexpr const char* kFolderMark = "/var/lib/ion-agent-tester/out";

std::string pattern_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  unsigned x = seed;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('A' + (x >> 16) % 26);
  }
  return s;
}

std::string sha256_hex(const std::string& data) {
  agent::crypto::Sha256 h;
  (void)h.update(reinterpret_cast<const unsigned char*>(data.data()), data.size());
  auto hex = h.finish_hex();
  return hex.ok() ? *hex : "";
}

// Writes the file as a test stand does: a hidden temporary name, then a rename into place.
void drop_file(const std::string& folder, const std::string& name, const std::string& data) {
  const std::string tmp = folder + "/." + name + ".part";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << data;
  }
  std::rename(tmp.c_str(), (folder + "/" + name).c_str());
}

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

class Daemon {
 public:
  // `profile_text` empty: the test profile above; else a profile whose folder path is
  // kFolderMark (replaced by this daemon's folder).
  Daemon(ion_test::IonSim& sim, int max_mb = 16, std::string profile_text = {}) : sim_(sim) {
    dir_ = ion_test::make_temp_dir("ion-files-itest");
    folder_ = dir_ + "/out";
    ::mkdir(folder_.c_str(), 0755);
    if (profile_text.empty()) {
      profile_text = profile(folder_, max_mb);
    }
    for (std::size_t at = profile_text.find(kFolderMark); at != std::string::npos;
         at = profile_text.find(kFolderMark)) {
      profile_text.replace(at, std::string(kFolderMark).size(), folder_);
    }
    std::ofstream(dir_ + "/profile.json") << profile_text;
  }
  ~Daemon() {
    proc_.reset();
    ion_test::remove_tree(dir_);
  }
  bool provision() { return ion_test::provision_agent(sim_, ION_AGENT_EXE, dir_); }
  bool start() {
    proc_ = ion_test::start_sim_daemon(ION_AGENT_EXE, dir_);
    return proc_ != nullptr;
  }
  void send(const std::string& lines) { proc_->write_stdin(lines); }
  bool wait_for(const std::string& what, int n, std::chrono::seconds limit = 30s) {
    return ion_test::wait_for_log(*proc_, what, n, limit);
  }
  int count(const std::string& what) const { return ion_test::log_count(*proc_, what); }
  // Nothing pending or in flight, and something done.
  bool drained(std::chrono::seconds limit = 60s) {
    hal::SystemClock clock;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      proc_->pump(100ms);
      auto ob = agent::Outbox::open(dir_ + "/outbox.db", {}, clock, agent::Outbox::Mode::read_only);
      if (ob.ok()) {
        auto st = (*ob)->stats();
        if (st.ok() && st->pending == 0 && st->in_flight == 0 && st->done > 0) {
          return st->dead == 0;
        }
      }
    }
    return false;
  }
  // File copies in the state directory.
  int files_held() const {
    DIR* d = ::opendir((dir_ + "/files").c_str());
    int n = 0;
    while (d != nullptr && ::readdir(d) != nullptr) {
      ++n;
    }
    if (d != nullptr) {
      ::closedir(d);
    }
    return n > 2 ? n - 2 : 0;  // . and ..
  }
  ion_test::ProcessResult stop(int sig = SIGTERM) {
    ::kill(proc_->pid(), sig);
    return proc_->wait(15s);
  }
  pid_t pid() const { return proc_->pid(); }
  std::string log() const { return proc_ ? proc_->err_so_far() : ""; }
  const std::string& folder() const { return folder_; }

 private:
  ion_test::IonSim& sim_;
  std::string dir_;
  std::string folder_;
  std::unique_ptr<ion_test::Subprocess> proc_;
};

// The current step of unit `unit_id`'s run of procedure 13 (its first step: IN_PROGRESS).
double first_step_entity(const agent::Json& state, double unit_id) {
  auto runs = ion_test::runs_of(state, unit_id, 13);
  if (runs.size() != 1) {
    return -1;
  }
  double best_pos = 1e9, entity = -1;
  const cJSON* s = nullptr;
  cJSON_ArrayForEach(s, table(state, "run_steps")) {
    if (num(s, "runId") == num(runs[0], "id") && num(s, "position") < best_pos) {
      best_pos = num(s, "position");
      entity = num(s, "entityId");
    }
  }
  return entity;
}

struct Attached {
  int with_bytes = 0;  // attachments on the entity holding bytes
  int empty = 0;       // created but never uploaded
  std::string sha256;  // of the one with bytes
  double size = -1;
};

Attached attached(const agent::Json& state, double entity, const std::string& filename) {
  Attached a;
  const cJSON* f = nullptr;
  cJSON_ArrayForEach(f, table(state, "file_attachments")) {
    if (num(f, "targetEntityId") != entity || str(f, "filename") != filename) {
      continue;
    }
    if (num(f, "size") >= 0) {
      ++a.with_bytes;
      a.sha256 = str(f, "sha256");
      a.size = num(f, "size");
    } else {
      ++a.empty;
    }
  }
  return a;
}

int storage_puts(ion_test::IonSim& sim) {
  agent::Json log = sim.request_log();
  int n = 0;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    n += str(e, "endpoint") == "storage" ? 1 : 0;
  }
  return n;
}

// How many times a root field was asked for (batched documents carry several, aliased).
int graphql_ops(ion_test::IonSim& sim, const std::string& field) {
  agent::Json log = sim.request_log();
  int n = 0;
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(log.get(), "entries")) {
    if (str(e, "status").empty() && num(e, "status") != 200) {
      continue;  // refused by a fault before it ran
    }
    const cJSON* f = nullptr;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(e, "root_fields")) {
      n += cJSON_IsString(f) && field == f->valuestring ? 1 : 0;
    }
  }
  return n;
}

// Scans SN-000101 and waits for its green; then drops `data` as `name`.
void scan_then_drop(Daemon& d, const std::string& name, const std::string& data) {
  d.send("scan SN-000101\n");
  CHECK_TRUE_TEXT(d.wait_for("accepted 2 intent(s)", 1), d.log().c_str());
  drop_file(d.folder(), name, data);
  CHECK_TRUE_TEXT(d.wait_for("accepted 1 intent(s)", 1), d.log().c_str());
  // Accepted = copied: the test stand may delete its file at once.
  CHECK_EQUAL(0, ::unlink((d.folder() + "/" + name).c_str()));
}

void check_attached_once(ion_test::IonSim& sim, const std::string& name, const std::string& data) {
  agent::Json state = sim.state();
  double entity = first_step_entity(state, 1001);
  CHECK_TRUE(entity > 0);
  Attached a = attached(state, entity, name);
  LONGS_EQUAL(1, a.with_bytes);
  DOUBLES_EQUAL(static_cast<double>(data.size()), a.size, 0.1);
  STRCMP_EQUAL(sha256_hex(data).c_str(), a.sha256.c_str());
}

}  // namespace

TEST_GROUP(FileAttachEndToEnd){};

TEST(FileAttachEndToEnd, AFileDroppedInTheFolderIsAttachedOnceToTheCurrentRunStep) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim);
  CHECK_TRUE(d.provision());
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = "serial,result\nSN-000101,PASS\n";
  scan_then_drop(d, "SN-000101.csv", data);
  // A file the pattern does not take: red, with the reason, nothing queued.
  drop_file(d.folder(), "notes.txt", "x");
  CHECK_TRUE_TEXT(d.wait_for("bad_file: results: refused file", 1), d.log().c_str());
  CHECK_TEXT(d.log().find("pattern mismatch: 'notes.txt' is not '*.csv'") != std::string::npos,
             d.log().c_str());
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  check_attached_once(sim, "SN-000101.csv", data);
  LONGS_EQUAL(1, graphql_ops(sim, "createFileAttachment"));
  LONGS_EQUAL(0, d.files_held());  // the copy went once ION held it
  auto r = d.stop();
  LONGS_EQUAL_TEXT(0, r.exit_code, r.err.c_str());
}

TEST(FileAttachEndToEnd, AFiveMegabyteFileDroppedDuringAnOutageIsAttachedOnceAfterRecovery) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim);
  CHECK_TRUE(d.provision());
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"status","status":503,"count":null,"match":"any"})") !=
             nullptr);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = pattern_bytes(5 << 20, 1);
  scan_then_drop(d, "SN-000101.csv", data);  // green while ION is away
  LONGS_EQUAL(1, d.files_held());
  std::this_thread::sleep_for(2s);
  CHECK(sim.admin_delete("/_sim/faults") != nullptr);
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  check_attached_once(sim, "SN-000101.csv", data);
  LONGS_EQUAL(0, d.files_held());
  d.stop();
}

TEST(FileAttachEndToEnd, APutCutInTransitIsSentAgainAndAttachedOnce) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim);
  CHECK_TRUE(d.provision());
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"close","match":"storage","after_bytes":1048576})") !=
             nullptr);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = pattern_bytes(5 << 20, 2);
  scan_then_drop(d, "SN-000101.csv", data);
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  check_attached_once(sim, "SN-000101.csv", data);
  LONGS_EQUAL(1, graphql_ops(sim, "createFileAttachment"));  // the same URL again
  LONGS_EQUAL(2, storage_puts(sim));
  d.stop();
}

TEST(FileAttachEndToEnd, AnUploadUrlExpiredBeforeThePutGetsANewOne) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim);
  CHECK_TRUE(d.provision());
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"expire","match":"storage"})") != nullptr);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = pattern_bytes(5 << 20, 3);
  scan_then_drop(d, "SN-000101.csv", data);
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  check_attached_once(sim, "SN-000101.csv", data);
  LONGS_EQUAL(2, graphql_ops(sim, "createFileAttachment"));  // a new attachment and URL
  d.stop();
}

TEST(FileAttachEndToEnd, KillNineBetweenCreateAndPutAttachesOnceAfterTheRestart) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim);
  CHECK_TRUE(d.provision());
  // The storage holds the first PUT for 5 s: the daemon dies while it waits.
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"delay","seconds":0,"delay":5,"match":"storage"})") !=
             nullptr);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = pattern_bytes(5 << 20, 4);
  scan_then_drop(d, "SN-000101.csv", data);
  for (int i = 0; i < 300 && graphql_ops(sim, "createFileAttachment") == 0; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  LONGS_EQUAL(1, graphql_ops(sim, "createFileAttachment"));
  std::this_thread::sleep_for(500ms);
  d.stop(SIGKILL);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  check_attached_once(sim, "SN-000101.csv", data);
  LONGS_EQUAL(1, graphql_ops(sim, "createFileAttachment"));  // the checkpointed URL was used
  d.stop();
}

TEST(FileAttachEndToEnd, AFiftyMegabyteUploadKeepsResidentMemoryWithinOneMegabyte) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(sim, 60);
  CHECK_TRUE(d.provision());
  // ION is away while the file is accepted (the copy is not the upload being measured).
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind":"status","status":503,"count":null,"match":"any"})") !=
             nullptr);
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string data = pattern_bytes(50 << 20, 5);
  scan_then_drop(d, "big.csv", data);
  std::this_thread::sleep_for(1s);
  long before = rss_kb(d.pid());
  long peak = before;
  CHECK(sim.admin_delete("/_sim/faults") != nullptr);
  hal::SystemClock clock;
  bool done = false;
  for (int i = 0; i < 1200 && !done; ++i) {
    std::this_thread::sleep_for(50ms);
    peak = std::max(peak, rss_kb(d.pid()));
    done = storage_puts(sim) > 0 && d.files_held() == 0;
  }
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  std::printf("\nfile.attach 50 MiB upload: daemon VmRSS %ld kB before, %ld kB peak, growth %ld kB\n", before,
              peak, peak - before);
  CHECK_TEXT(peak - before < 1024, ("RSS grew by " + std::to_string(peak - before) + " kB").c_str());
  agent::Json state = sim.state();
  Attached a = attached(state, first_step_entity(state, 1001), "big.csv");
  LONGS_EQUAL(1, a.with_bytes);
  STRCMP_EQUAL(sha256_hex(data).c_str(), a.sha256.c_str());
  d.stop();
}

TEST(FileAttachEndToEnd, TheTestStandProfileAttachesTheResultAndSetsTheStepByItsFirstLine) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  Daemon d(
      sim, 16,
      ion_test::read_text_file(std::string(ION_SOURCE_DIR) + "/firmware/profiles/test-stand-files.json"));
  CHECK_TRUE(d.provision());
  CHECK_TRUE_TEXT(d.start(), d.log().c_str());
  const std::string pass = "PASS V=24.1 I=212 FW=2.4.0 GRADE=A\r\n12:00:01 power on\n12:00:09 all LEDs lit\n";
  d.send("scan SN-000101\n");
  CHECK_TRUE_TEXT(d.wait_for("accepted 2 intent(s) (interlocks passed)", 1), d.log().c_str());
  drop_file(d.folder(), "SN-000101.log", pass);
  CHECK_TRUE_TEXT(d.wait_for("accepted 3 intent(s)", 1), d.log().c_str());
  d.send("scan SN-000102\n");
  CHECK_TRUE_TEXT(d.wait_for("accepted 2 intent(s) (interlocks passed)", 2), d.log().c_str());
  const std::string fail = "FAIL no boot after 30 s\n";
  drop_file(d.folder(), "SN-000102.log", fail);
  CHECK_TRUE_TEXT(d.wait_for("accepted 3 intent(s)", 2), d.log().c_str());
  drop_file(d.folder(), "notes.log", "x");  // not SN-*.log: red
  CHECK_TRUE_TEXT(d.wait_for("bad_file: results: refused file", 1), d.log().c_str());
  CHECK_TRUE_TEXT(d.drained(), d.log().c_str());
  agent::Json state = sim.state();
  Attached a = attached(state, first_step_entity(state, 1001), "SN-000101.log");
  LONGS_EQUAL(1, a.with_bytes);
  STRCMP_EQUAL(sha256_hex(pass).c_str(), a.sha256.c_str());
  auto runs = ion_test::runs_of(state, 1001, 13);
  LONGS_EQUAL(1, runs.size());
  STRCMP_EQUAL("COMPLETE,TODO", ion_test::step_statuses(state, runs[0]).c_str());
  Attached b = attached(state, first_step_entity(state, 1002), "SN-000102.log");
  LONGS_EQUAL(1, b.with_bytes);
  runs = ion_test::runs_of(state, 1002, 13);
  LONGS_EQUAL(1, runs.size());
  STRCMP_EQUAL("FAILED,TODO", ion_test::step_statuses(state, runs[0]).c_str());
  agent::JsonText issues(cJSON_PrintUnformatted(table(state, "issues")));
  CHECK_TEXT(std::string(issues.get()).find("Tester verdict at test-stand-2: no boot after 30 s") !=
                 std::string::npos,
             issues.get());
  d.stop();
}
