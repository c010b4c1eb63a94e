// SPDX-License-Identifier: Apache-2.0
// The PKCS#11 key provider against SoftHSM2 (a token store of its own per test): the vault
// round trip with the AES key created on the token, and each refusal with its own
// VaultFailure: another token, wrong PIN, tampered blob, token/module absent; PINs only from
// a 0600 file, a service credential or the reader, never from the URI.
#include <CppUTest/TestHarness.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "agent/vault/pkcs11_key_provider.hpp"
#include "agent/vault/vault.hpp"
#include "scratch_dir.hpp"
#include "softhsm.hpp"

namespace {

std::vector<unsigned char> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& p, const std::string& b, mode_t mode = 0600) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
  ::chmod(p.c_str(), mode);
}

agent::Credentials sample() {
  agent::Credentials c;
  c.client_id = "station-9";
  CHECK_TRUE(c.client_secret.assign("p11-test-secret-5e4d3c"));
  c.api_url = "https://api.example.com";
  c.token_url = "https://auth.example.com/token";
  return c;
}

}  // namespace

TEST_GROUP(Pkcs11Vault) {
  testing_support::ScratchDir* dir = nullptr;
  ion_test::SoftHsm* hsm = nullptr;
  agent::FileBoardIdentity* board = nullptr;
  std::string pin_file;
  void setup() override {
    dir = new testing_support::ScratchDir("p11-vault");
    std::ofstream(dir->file("machine-id")) << "p11-test-machine\n";
    board = new agent::FileBoardIdentity({dir->file("machine-id")}, {});
    hsm = new ion_test::SoftHsm(dir->file("hsm-a"), "ion-agent");
    CHECK_TRUE_TEXT(hsm->ok(), hsm->error().c_str());
    hsm->use();
    pin_file = dir->file("token.pin");
    write_all(pin_file, std::string(ion_test::SoftHsm::kUserPin) + "\n");
  }
  void teardown() override {
    ::unsetenv("SOFTHSM2_CONF");
    ::unsetenv("CREDENTIALS_DIRECTORY");
    delete hsm;
    delete board;
    delete dir;
  }
  std::string sealed() const {
    return dir->file("credentials.sealed");
  }
  std::string uri() const {
    return "pkcs11:token=ion-agent;object=vault-key?pin-source=file:" + pin_file +
           "&module-path=" ION_SOFTHSM2_MODULE;
  }
  hal::Status seal(const std::string& u, agent::PinReader reader = nullptr) {
    agent::Pkcs11KeyProvider keys(u, "", std::move(reader));
    agent::Vault v(sealed(), keys, *board);
    return v.seal(sample());
  }
  hal::Result<agent::Credentials> open(agent::VaultFailure & f, std::string & why,
                                       agent::PinReader reader = nullptr) {
    agent::Pkcs11KeyProvider keys("", "", std::move(reader));
    agent::Vault v(sealed(), keys, *board);
    auto c = v.open();
    f = v.last_failure();
    why = c.ok() ? "" : c.error().what;
    return c;
  }
};

TEST(Pkcs11Vault, SealsAndOpensWithTheTokenKeyAndNoKeyFileOnDisk) {
  auto st = seal(uri());
  CHECK_TRUE_TEXT(st.ok(), st.ok() ? "" : st.error().what.c_str());
  agent::VaultFailure f;
  std::string why;
  auto c = open(f, why);
  CHECK_TRUE_TEXT(c.ok(), why.c_str());
  STRCMP_EQUAL("p11-test-secret-5e4d3c", c->client_secret.c_str());
  struct stat sb {};
  CHECK_TRUE(::stat(dir->file("device.key").c_str(), &sb) != 0);
  auto file = read_all(sealed());
  CHECK_EQUAL(4, file[10]);
  // Sealing again reuses the key object on the token.
  CHECK_TRUE(seal(uri()).ok());
  CHECK_TRUE_TEXT(open(f, why).ok(), why.c_str());
}

TEST(Pkcs11Vault, AnotherTokenCannotOpenItAndSaysSo) {
  CHECK_TRUE(seal(uri()).ok());
  ion_test::SoftHsm other(dir->file("hsm-b"), "ion-agent");  // same label, another token
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  other.use();
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open(f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_other_device);
  STRCMP_CONTAINS("has no AES key 'vault-key'", why.c_str());
}

TEST(Pkcs11Vault, WrongPinIsItsOwnFailure) {
  CHECK_TRUE(seal(uri()).ok());
  write_all(pin_file, "0000-wrong\n");
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open(f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_wrong_pin);
  STRCMP_CONTAINS("refused the PIN", why.c_str());
  CHECK_TRUE(why.find("0000-wrong") == std::string::npos);
}

TEST(Pkcs11Vault, TamperedWrappedKeyIsRefused) {
  CHECK_TRUE(seal(uri()).ok());
  auto good = read_all(sealed());
  const std::size_t blob_len = (std::size_t{good[46]} << 8) | good[47];
  auto bad = good;
  bad[48 + blob_len - 3] ^= 0x08;  // inside the GCM tag of the wrapped secret
  write_all(sealed(), std::string(bad.begin(), bad.end()));
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open(f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_tampered);
  STRCMP_CONTAINS("failed authentication", why.c_str());
}

TEST(Pkcs11Vault, AbsentTokenOrModuleIsItsOwnFailure) {
  CHECK_TRUE(seal(uri()).ok());
  ion_test::SoftHsm empty(dir->file("hsm-c"), "some-other-label");
  empty.use();
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open(f, why).ok());
  CHECK_TRUE(f == agent::VaultFailure::key_device_absent);
  STRCMP_CONTAINS("no token matching pkcs11:token=ion-agent", why.c_str());
  auto st = seal("pkcs11:token=ion-agent?module-path=/nonexistent/libnope.so&pin-source=file:" + pin_file);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("is not an absolute path to an existing file", st.error().what.c_str());
  // A module anyone could have replaced is never loaded.
  write_all(dir->file("evil.so"), "not a module", 0666);
  ::chmod(dir->file("evil.so").c_str(), 0666);
  st = seal("pkcs11:token=ion-agent?module-path=" + dir->file("evil.so") + "&pin-source=file:" + pin_file);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("writable by others", st.error().what.c_str());
}

TEST(Pkcs11Vault, PinNeverFromTheUriButFromAFileACredentialOrTheReader) {
  auto st = seal("pkcs11:token=ion-agent?pin-value=1234&module-path=" ION_SOFTHSM2_MODULE);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("pin-value=", st.error().what.c_str());
  // A PIN file others can read is refused.
  write_all(pin_file, ion_test::SoftHsm::kUserPin, 0644);
  CHECK_FALSE(seal(uri()).ok());
  write_all(pin_file, ion_test::SoftHsm::kUserPin, 0600);
  // Without pin-source: the reader (provision's prompt), then the service credential.
  const std::string bare = "pkcs11:token=ion-agent?module-path=" ION_SOFTHSM2_MODULE;
  int asked = 0;
  auto reader = [&](const std::string& prompt, agent::Secret& pin) -> hal::Status {
    ++asked;
    STRCMP_CONTAINS("PIN for token 'ion-agent'", prompt.c_str());
    CHECK_TRUE(pin.assign(ion_test::SoftHsm::kUserPin));
    return hal::ok();
  };
  st = seal(bare, reader);
  CHECK_TRUE_TEXT(st.ok(), st.ok() ? "" : st.error().what.c_str());
  CHECK_EQUAL(1, asked);
  agent::VaultFailure f;
  std::string why;
  CHECK_FALSE(open(f, why).ok());  // no reader (the daemon), no credential
  STRCMP_CONTAINS("no PIN for token", why.c_str());
  ::mkdir(dir->file("creds").c_str(), 0700);
  write_all(dir->file("creds/ion-agent.pkcs11-pin"), ion_test::SoftHsm::kUserPin);
  ::setenv("CREDENTIALS_DIRECTORY", dir->file("creds").c_str(), 1);
  CHECK_TRUE_TEXT(open(f, why).ok(), why.c_str());
}
