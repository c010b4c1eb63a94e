// SPDX-License-Identifier: Apache-2.0
// The TPM 2.0 key provider against a real software TPM (swtpm, fresh state per test): the
// vault round trip, and each refusal with its own VaultFailure: another TPM, PCR changed, TPM
// absent, tampered blob.
#include <CppUTest/TestHarness.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "agent/vault/tpm2_key_provider.hpp"
#include "agent/vault/vault.hpp"
#include "scratch_dir.hpp"
#include "swtpm.hpp"

namespace {

std::vector<unsigned char> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& p, const std::vector<unsigned char>& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ::chmod(p.c_str(), 0600);
}

agent::Credentials sample() {
  agent::Credentials c;
  c.client_id = "station-7";
  CHECK_TRUE(c.client_secret.assign("tpm-test-secret-9a8b7c"));
  c.api_url = "https://api.example.com";
  c.token_url = "https://auth.example.com/token";
  return c;
}

}  // namespace

TEST_GROUP(Tpm2Vault) {
  testing_support::ScratchDir* dir = nullptr;
  ion_test::Swtpm* tpm = nullptr;
  agent::FileBoardIdentity* board = nullptr;
  void setup() override {
    dir = new testing_support::ScratchDir("tpm2-vault");
    std::ofstream(dir->file("machine-id")) << "tpm-test-machine\n";
    board = new agent::FileBoardIdentity({dir->file("machine-id")}, {});
    tpm = new ion_test::Swtpm(dir->file("tpm-a"));
    CHECK_TRUE_TEXT(tpm->ok(), tpm->error().c_str());
  }
  void teardown() override {
    delete tpm;
    delete board;
    delete dir;
  }
  std::string sealed() const {
    return dir->file("credentials.sealed");
  }
  void seal(std::vector<unsigned> pcrs = {}) {
    agent::Tpm2KeyProvider keys(tpm->tcti(), std::move(pcrs));
    agent::Vault v(sealed(), keys, *board);
    auto st = v.seal(sample());
    CHECK_TRUE_TEXT(st.ok(), st.ok() ? "" : st.error().what.c_str());
  }
  hal::Result<agent::Credentials> open_with(const std::string& tcti, agent::VaultFailure& f,
                                            std::string& why) {
    agent::Tpm2KeyProvider keys(tcti, {});
    agent::Vault v(sealed(), keys, *board);
    auto c = v.open();
    f = v.last_failure();
    why = c.ok() ? "" : c.error().what;
    return c;
  }
};

TEST(Tpm2Vault, SealsAndOpensOnTheSameTpmWithNoKeyFileOnDisk) {
  seal();
  agent::VaultFailure f;
  std::string why;
  auto c = open_with(tpm->tcti(), f, why);
  CHECK_TRUE_TEXT(c.ok(), why.c_str());
  STRCMP_EQUAL("station-7", c->client_id.c_str());
  STRCMP_EQUAL("tpm-test-secret-9a8b7c", c->client_secret.c_str());
  struct stat st {};
  CHECK_TRUE(::stat(dir->file("device.key").c_str(), &st) != 0);
  auto file = read_all(sealed());
  CHECK_EQUAL(2, file[8]);   // format v2: carries the TPM blob
  CHECK_EQUAL(2, file[10]);  // key provider id: tpm2
  std::string text(file.begin(), file.end());
  CHECK_TRUE(text.find("tpm-test-secret") == std::string::npos);
}

TEST(Tpm2Vault, AnotherTpmCannotOpenItAndSaysSo) {
  seal();
  ion_test::Swtpm other(dir->file("tpm-b"));
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open_with(other.tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_other_device);
  STRCMP_CONTAINS("sealed by another TPM", why.c_str());
}

TEST(Tpm2Vault, ExtendingABoundPcrRefusesWithAPolicyFailure) {
  seal({7, 7});  // a repeated index binds once
  agent::VaultFailure f;
  std::string why;
  CHECK_TRUE(open_with(tpm->tcti(), f, why).ok());
  STRCMP_EQUAL("", tpm->extend_pcr(8, "an unbound PCR changes nothing").c_str());
  CHECK_TRUE_TEXT(open_with(tpm->tcti(), f, why).ok(), why.c_str());
  STRCMP_EQUAL("", tpm->extend_pcr(7, "secure boot state changed").c_str());
  CHECK_FALSE(open_with(tpm->tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_policy);
  STRCMP_CONTAINS("PCR 7 no longer holds the value it had at provisioning", why.c_str());
}

TEST(Tpm2Vault, AbsentTpmIsItsOwnFailure) {
  seal();
  tpm->stop();
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open_with(tpm->tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_device_absent);
  STRCMP_CONTAINS("no TPM reachable", why.c_str());
  CHECK_FALSE(open_with("device:/nonexistent/tpmrm0", f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_device_absent);
}

TEST(Tpm2Vault, TamperedBlobIsRefusedByTheTpm) {
  seal();
  const auto good = read_all(sealed());
  const std::size_t blob_len = (std::size_t{good[44]} << 24) | (good[45] << 16) | (good[46] << 8) | good[47];
  // The last bytes of the blob are the TPM2B_PRIVATE (encrypted, HMAC-protected by the SRK).
  auto bad = good;
  bad[48 + blob_len - 5] ^= 0x40;
  write_all(sealed(), bad);
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open_with(tpm->tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_tampered);
  STRCMP_CONTAINS("refused the sealed key blob as altered", why.c_str());
  // Garbage in the blob's framing is also "tampered", caught before the TPM sees it.
  bad = good;
  bad[48] ^= 0xff;
  write_all(sealed(), bad);
  CHECK_FALSE(open_with(tpm->tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_tampered);
  // A changed ciphertext byte: the key unseals, GCM refuses.
  bad = good;
  bad[bad.size() - 20] ^= 1;
  write_all(sealed(), bad);
  CHECK_FALSE(open_with(tpm->tcti(), f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::auth_failed);
  write_all(sealed(), good);
  CHECK_TRUE(open_with(tpm->tcti(), f, why).ok());
}

TEST(Tpm2Vault, TctiFollowsTheTssEnvironmentConventions) {
  ::unsetenv("TPM2TOOLS_TCTI");
  ::unsetenv("TSS2_TCTI");
  STRCMP_EQUAL("device:/dev/tpmrm0", agent::Tpm2KeyProvider::resolve_tcti("").c_str());
  ::setenv("TSS2_TCTI", "mssim:port=1", 1);
  STRCMP_EQUAL("mssim:port=1", agent::Tpm2KeyProvider::resolve_tcti("").c_str());
  ::setenv("TPM2TOOLS_TCTI", tpm->tcti().c_str(), 1);
  STRCMP_EQUAL(tpm->tcti().c_str(), agent::Tpm2KeyProvider::resolve_tcti("").c_str());
  STRCMP_EQUAL("device:/dev/tpm0", agent::Tpm2KeyProvider::resolve_tcti("device:/dev/tpm0").c_str());
  seal();
  agent::VaultFailure f;
  std::string why;
  bool opened = open_with("", f, why).ok();
  ::unsetenv("TPM2TOOLS_TCTI");
  ::unsetenv("TSS2_TCTI");
  CHECK_TRUE_TEXT(opened, why.c_str());
}

// swtpm's socket TCTI talks to the TPM directly: no resource manager flushes what a client
// leaves loaded, and the TPM has room for only 3 transient objects (and 3 sessions). Each seal
// and open loads the SRK, the sealed object and sessions; the provider flushes them when done.
// Without that the second open in a process fails with TPM_RC_OBJECT_MEMORY.
TEST(Tpm2Vault, TenOpensInOneProcessLeaveNothingLoadedInATpmWithoutAResourceManager) {
  agent::VaultFailure f;
  std::string why;
  for (int i = 0; i < 10; ++i) {
    if (i % 4 == 0) {
      seal(i == 4 ? std::vector<unsigned>{7} : std::vector<unsigned>{});  // a policy session too
    }
    auto c = open_with(tpm->tcti(), f, why);
    CHECK_TRUE_TEXT(c.ok(), ("open " + std::to_string(i + 1) + " of 10: " + why).c_str());
    STRCMP_EQUAL("tpm-test-secret-9a8b7c", c->client_secret.c_str());
  }
  // Nothing left behind (flush_all flushes and counts what it found), and the key still opens.
  CHECK_EQUAL(0, tpm->flush_all());
  CHECK_TRUE_TEXT(open_with(tpm->tcti(), f, why).ok(), why.c_str());
}
