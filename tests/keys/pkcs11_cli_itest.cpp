// SPDX-License-Identifier: Apache-2.0
// `ion-agent provision --key-provider pkcs11` and `check` against SoftHSM2 and the ION
// simulator: the same checks as for the TPM (tpm2_cli_itest.cpp), plus the PIN: read from
// stdin after the secret like the secret, or from the URI's pin-source file; never in argv,
// the environment or any output.
#include <CppUTest/TestHarness.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "ion_sim.hpp"
#include "softhsm.hpp"
#include "subprocess.hpp"

namespace {

using ion_test::ProcessResult;

const std::string kIdAndSecret =
    std::string(ion_test::kSimClientId) + "\n" + ion_test::kSimClientSecret + "\n";

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_GROUP(Pkcs11Cli) {
  ion_test::IonSim* sim = nullptr;
  ion_test::SoftHsm* hsm = nullptr;
  std::string state, pin_file;
  void setup() override {
    sim = new ion_test::IonSim();
    CHECK_TRUE_TEXT(sim->ok(), sim->error().c_str());
    state = sim->temp_dir() + "/state";
    hsm = new ion_test::SoftHsm(sim->temp_dir() + "/hsm", "station-token");
    CHECK_TRUE_TEXT(hsm->ok(), hsm->error().c_str());
    pin_file = sim->temp_dir() + "/token.pin";
    std::ofstream(pin_file) << ion_test::SoftHsm::kUserPin << "\n";
    ::chmod(pin_file.c_str(), 0600);
  }
  void teardown() override {
    delete hsm;
    delete sim;
  }
  std::string uri(bool with_pin_source) const {
    return "pkcs11:token=station-token;object=ion-vault" +
           (with_pin_source ? "?pin-source=file:" + pin_file : std::string());
  }
  ProcessResult provision(std::vector<std::string> extra, const std::string& input, const std::string& env) {
    std::vector<std::string> v = {ION_AGENT_EXE,  "provision",   "--state-dir",    state,       "--api-url",
                                  sim->api_url(), "--token-url", sim->token_url(), "--ca-file", sim->ca()};
    v.insert(v.end(), extra.begin(), extra.end());
    return ion_test::run_process(v, input, std::chrono::seconds(60), {env});
  }
  ProcessResult agent(std::vector<std::string> v, const std::string& env, const std::string& input = "") {
    v.insert(v.begin(), ION_AGENT_EXE);
    return ion_test::run_process(v, input, std::chrono::seconds(60), {env});
  }
};

TEST(Pkcs11Cli, ProvisionWithThePinOnStdinThenCheckWithThePinFile) {
  // PIN as the third stdin line, after the id and the secret.
  auto p = provision({"--key-provider", "pkcs11", "--pkcs11-uri", uri(false), "--pkcs11-module",
                      ION_SOFTHSM2_MODULE, "--verify"},
                     kIdAndSecret + ion_test::SoftHsm::kUserPin + "\n", hsm->env());
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  STRCMP_CONTAINS("key protected by PKCS#11 token key (pkcs11:token=station-token;object=ion-vault)",
                  p.out.c_str());
  CHECK_FALSE(exists(state + "/device.key"));
  CHECK_TRUE(p.out.find(ion_test::SoftHsm::kUserPin) == std::string::npos);
  CHECK_TRUE(p.err.find(ion_test::SoftHsm::kUserPin) == std::string::npos);
  // check asks for the PIN the same way.
  auto c =
      agent({"check", "--state-dir", state}, hsm->env(), std::string(ion_test::SoftHsm::kUserPin) + "\n");
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  STRCMP_CONTAINS("key protected by PKCS#11", c.out.c_str());
  auto s = agent({"status", "--state-dir", state}, hsm->env());
  STRCMP_CONTAINS("key:           pkcs11: PKCS#11 token key", s.out.c_str());
  // Re-provisioned with a pin-source: check needs no input at all.
  auto p2 = provision(
      {"--key-provider", "pkcs11", "--pkcs11-uri", uri(true) + "&module-path=" + ION_SOFTHSM2_MODULE},
      kIdAndSecret, hsm->env());
  CHECK_EQUAL_TEXT(0, p2.exit_code, p2.describe().c_str());
  auto c2 = agent({"check", "--state-dir", state}, hsm->env());
  CHECK_EQUAL_TEXT(0, c2.exit_code, c2.describe().c_str());
}

TEST(Pkcs11Cli, AnotherTokenWrongPinAndTamperingEachHaveTheirExitCode) {
  auto p = provision(
      {"--key-provider", "pkcs11", "--pkcs11-uri", uri(true), "--pkcs11-module", ION_SOFTHSM2_MODULE},
      kIdAndSecret, hsm->env());
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  // The state directory on another board: a token with the same label, without the key.
  ion_test::SoftHsm other(sim->temp_dir() + "/hsm-other-board", "station-token");
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  auto o = agent({"check", "--state-dir", state}, other.env());
  CHECK_EQUAL_TEXT(30, o.exit_code, o.describe().c_str());
  STRCMP_CONTAINS("has no AES key 'ion-vault'", o.out.c_str());
  // No token at all.
  ion_test::SoftHsm none(sim->temp_dir() + "/hsm-none", "unrelated");
  auto a = agent({"check", "--state-dir", state}, none.env());
  CHECK_EQUAL_TEXT(32, a.exit_code, a.describe().c_str());
  // Wrong PIN.
  std::ofstream(pin_file, std::ios::trunc) << "9999-wrong\n";
  auto w = agent({"check", "--state-dir", state}, hsm->env());
  CHECK_EQUAL_TEXT(33, w.exit_code, w.describe().c_str());
  STRCMP_CONTAINS("refused the PIN", w.out.c_str());
  std::ofstream(pin_file, std::ios::trunc) << ion_test::SoftHsm::kUserPin << "\n";
  // Tampered wrapped key.
  std::string f = state + "/credentials.sealed";
  std::string bytes = ion_test::read_text_file(f);
  const std::size_t blob_len =
      (std::size_t{static_cast<unsigned char>(bytes[46])} << 8) | static_cast<unsigned char>(bytes[47]);
  bytes[48 + blob_len - 1] = static_cast<char>(bytes[48 + blob_len - 1] ^ 0x01);
  std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes;
  auto t = agent({"check", "--state-dir", state}, hsm->env());
  CHECK_EQUAL_TEXT(35, t.exit_code, t.describe().c_str());
}

TEST(Pkcs11Cli, RekeyMovesAFileKeyVaultToTheToken) {
  auto p = provision({}, kIdAndSecret, hsm->env());
  CHECK_EQUAL_TEXT(0, p.exit_code, p.describe().c_str());
  auto r = agent({"provision", "--rekey", "--state-dir", state, "--key-provider", "pkcs11", "--pkcs11-uri",
                  uri(true), "--pkcs11-module", ION_SOFTHSM2_MODULE},
                 hsm->env());
  CHECK_EQUAL_TEXT(0, r.exit_code, r.describe().c_str());
  CHECK_FALSE(exists(state + "/device.key"));
  auto c = agent({"check", "--state-dir", state}, hsm->env());
  CHECK_EQUAL_TEXT(0, c.exit_code, c.describe().c_str());
  // A PIN in the URI is refused, and nothing is written.
  auto bad = provision({"--key-provider", "pkcs11", "--pkcs11-uri",
                        "pkcs11:token=station-token?pin-value=1234", "--pkcs11-module", ION_SOFTHSM2_MODULE},
                       kIdAndSecret, hsm->env());
  CHECK_TRUE(bad.exit_code != 0);
  STRCMP_CONTAINS("pin-value=", bad.err.c_str());
  auto still = agent({"check", "--state-dir", state}, hsm->env());
  CHECK_EQUAL_TEXT(0, still.exit_code, still.describe().c_str());
}
