// SPDX-License-Identifier: Apache-2.0
// The tpm2 key provider on a real kernel TPM device: in the VM (tests/vm/run-vm.sh attaches
// swtpm behind QEMU's tpm-tis), /dev/tpmrm0 is the kernel's TPM resource manager in front of
// the tpm_tis driver, the default TCTI of the provider. The test provisions with
// `--key-provider tpm2 --tcti device:/dev/tpmrm0`, checks the vault opens (`check` with the
// default TCTI), runs `ion-agent run` (key opened through /dev/tpmrm0) until a scan from a uinput
// scanner is a run in the ION simulator, then shows that the sealed file opens on no other TPM
// (a second, fresh swtpm in the VM: exit 30) and that a file sealed by that other TPM is refused
// by the kernel device just the same; clients killed mid-session leave nothing behind in the
// TPM (the resource manager flushes their objects). Without /dev/tpmrm0 (not in the VM, or no swtpm on the
// build machine) it is skipped.
#include <CppUTest/TestHarness.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/common/json.hpp"
#include "ion_sim.hpp"
#include "sim_state.hpp"
#include "subprocess.hpp"
#include "swtpm.hpp"
#include "uinput_keyboard.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t kProduct = 0x5e2f;
const char* const kDevice = "device:/dev/tpmrm0";

bool tpm_device_present() {
  struct stat st {};
  return ::stat("/dev/tpmrm0", &st) == 0 && S_ISCHR(st.st_mode);
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A station with only a scanner: a scan of a unit's serial makes a run of procedure 12 (the
// simulator knows units SN-000101 to SN-000106).
const char* const kProfile = R"({
  "station": "vm-tpm",
  "inputs": {
    "scanner": {"type": "evdev", "usb": "1209:5e2f", "grab": true, "keymap": "us"}
  },
  "rules": [
    {"on": "scanner", "match": "^SN-[0-9]{6}$",
     "do": [
       {"set": "unit.serial", "to": "{scan}"},
       {"intent": "run.ensure", "procedureId": "12", "partNumber": "ASM-100"},
       {"intent": "step.status", "status": "IN_PROGRESS", "partNumber": "ASM-100"}]}
  ]
})";

// Step statuses of every run of procedure 12 for the unit with this serial.
std::string runs_of(const agent::Json& state, const std::string& serial) {
  return ion_test::run_statuses(state, serial, 12);
}

bool scanner_connected(const std::string& state_dir) {
  agent::Json st(cJSON_Parse(read_text(state_dir + "/status.json").c_str()));
  const cJSON* d = nullptr;
  cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(st.get(), "devices")) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "connected"))) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_GROUP(TpmDevice) {
  ion_test::IonSim* sim = nullptr;
  void teardown() override {
    delete sim;
  }

  ion_test::ProcessResult provision(const std::string& state, const std::string& tcti) {
    return ion_test::run_process(
        {ION_AGENT_EXE, "provision", "--state-dir", state, "--api-url", sim->api_url(), "--token-url",
         sim->token_url(), "--ca-file", sim->ca(), "--key-provider", "tpm2", "--tcti", tcti},
        std::string(ion_test::kSimClientId) + "\n" + ion_test::kSimClientSecret + "\n", 120s);
  }
  ion_test::ProcessResult check(const std::string& state, const std::string& tcti = "") {
    std::vector<std::string> v = {ION_AGENT_EXE, "check", "--state-dir", state};
    if (!tcti.empty()) {
      v.insert(v.end(), {"--tcti", tcti});
    }
    return ion_test::run_process(v, "", 120s);
  }
};

TEST(TpmDevice, KeySealedByTheKernelTpmDeliversAScanAndOpensOnNoOtherTpm) {
  if (!tpm_device_present()) {
    UT_PRINT("skipped: no /dev/tpmrm0 (outside the VM, or the VM has no TPM: swtpm not installed)");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  sim = new ion_test::IonSim({}, 120s);  // Python under TCG starts slowly
  CHECK_TRUE_TEXT(sim->ok(), (sim->error() + "\n" + sim->log_text()).c_str());
  const std::string state = sim->temp_dir() + "/state";

  // Sealed by the kernel's TPM; only the TPM's blobs are on disk.
  auto p = provision(state, kDevice);
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  STRCMP_CONTAINS("key protected by TPM 2.0 (device:/dev/tpmrm0", p.out.c_str());
  CHECK_FALSE(exists(state + "/device.key"));
  // The provider's default TCTI is that device: no --tcti needed.
  auto c = check(state);
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("key protected by TPM 2.0 (device:/dev/tpmrm0", c.out.c_str());

  // The daemon opens the key through /dev/tpmrm0 and delivers a scan.
  {
    const std::string profile = sim->temp_dir() + "/station.json";
    std::ofstream(profile) << kProfile;
    hw::UinputKeyboard kbd(kProduct);
    ion_test::Subprocess d({ION_AGENT_EXE, "run", "--config", profile, "--state-dir", state});
    CHECK_TRUE(d.start());
    auto wait_for = [&](const std::function<bool()>& pred, std::chrono::milliseconds limit) {
      const auto end = std::chrono::steady_clock::now() + limit;
      while (!pred()) {
        if (std::chrono::steady_clock::now() >= end) {
          return false;
        }
        d.pump(100ms);
      }
      return true;
    };
    CHECK_TRUE_TEXT(wait_for([&] { return scanner_connected(state); }, 60s),
                    (d.err_so_far() + d.out_so_far()).c_str());
    STRCMP_CONTAINS("vault: key protected by TPM 2.0 (device:/dev/tpmrm0)",
                    (d.err_so_far() + d.out_so_far()).c_str());
    kbd.after_tap = [] { std::this_thread::sleep_for(2ms); };
    kbd.type_us("SN-000101");
    kbd.tap(KEY_ENTER);
    CHECK_TRUE_TEXT(
        wait_for([&] { return runs_of(sim->state(), "SN-000101") == "IN_PROGRESS,TODO"; }, 30s),
        (d.err_so_far() + d.out_so_far() + "\nstatus.json: " + read_text(state + "/status.json")).c_str());
    ::kill(d.pid(), SIGTERM);
    auto r = d.wait(30s);
    LONGS_EQUAL_TEXT(0, r.exit_code, r.err.c_str());
  }

  // Clients killed in the middle of their TPM sessions: /dev/tpmrm0 flushes what each one had
  // loaded when its file closes (swtpm's socket needs Swtpm::flush_all() for that, see
  // tests/keys/), so more kills than the TPM has object slots leave the next check working.
  {
    const auto c0 = std::chrono::steady_clock::now();
    auto timed = check(state);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - c0);
    CHECK_EQUAL_TEXT(0, timed.exit_code, timed.describe().c_str());
    for (int i = 1; i <= 6; ++i) {
      ion_test::Subprocess k({ION_AGENT_EXE, "check", "--state-dir", state});
      CHECK_TRUE(k.start());
      std::this_thread::sleep_for(took * i / 8);
      ::kill(k.pid(), SIGKILL);
      k.wait(20s);
    }
    auto after = check(state);
    CHECK_EQUAL_TEXT(0, after.exit_code, after.describe().c_str());
  }

  // Another board's TPM (a fresh swtpm: other seeds) cannot open the state directory...
  ion_test::Swtpm other(sim->temp_dir() + "/other-tpm");
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  auto o = check(state, other.tcti());
  CHECK_EQUAL_TEXT(30, o.exit_code, o.describe().c_str());
  STRCMP_CONTAINS("sealed by another TPM", o.out.c_str());
  // ...and the kernel device refuses a file sealed by that other TPM.
  const std::string foreign = sim->temp_dir() + "/foreign";
  auto pf = provision(foreign, other.tcti());
  CHECK_EQUAL_TEXT(0, pf.exit_code, pf.describe().c_str());
  auto f = check(foreign, kDevice);
  CHECK_EQUAL_TEXT(30, f.exit_code, f.describe().c_str());
  STRCMP_CONTAINS("sealed by another TPM", f.out.c_str());
  // The kernel device still opens its own.
  auto again = check(state, kDevice);
  CHECK_EQUAL_TEXT(0, again.exit_code, again.describe().c_str());
  UT_PRINT(("TPM device test: " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                    .count()) +
            " ms")
               .c_str());
}
