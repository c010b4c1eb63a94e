// SPDX-License-Identifier: Apache-2.0
// Vault: round trip, tamper detection at every byte, board binding, file modes, format
// errors, and that decrypted secrets do not outlive their owner.
#include "agent/vault/vault.hpp"

#include <CppUTest/TestHarness.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <string>
#include <vector>

#include "agent/vault/file_key_provider.hpp"

namespace {

constexpr const char* kSecret = "s3cr3t-Client-Secret-0123456789";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/vault-test-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    if (!path_.empty() && std::system(cmd.c_str()) != 0) {
      // best effort
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& b) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

agent::Credentials sample() {
  agent::Credentials c;
  c.client_id = "ion-agent-demo";
  CHECK_TRUE(c.client_secret.assign(kSecret));
  c.api_url = "https://api.buildwithion.com";
  c.token_url = "https://auth.buildwithion.com/realms/api-keys/protocol/openid-connect/token";
  c.region = "production";
  c.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  return c;
}

// A board: a machine-id file (and a serial file) in the temp dir.
struct Board {
  Board(const TempDir& d, const std::string& machine_id, const std::string& serial)
      : mid(d.path() + "/machine-id-" + machine_id),
        ser(d.path() + "/serial-" + machine_id),
        identity({mid}, {ser}) {
    write_text(mid, machine_id + "\n");
    write_text(ser, serial + std::string(1, '\0'));
  }
  std::string mid, ser;
  agent::FileBoardIdentity identity;
};

}  // namespace

TEST_GROUP(Vault) {
  TempDir dir;
  std::string sealed() const {
    return dir.path() + "/credentials.sealed";
  }
  std::string key() const {
    return dir.path() + "/device.key";
  }
};

TEST(Vault, RoundTripKeepsEveryField) {
  Board board(dir, "0123456789abcdef0123456789abcdef", "10000000abcd1234");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  auto st = v.seal(sample());
  CHECK_TRUE_TEXT(st.ok(), st.ok() ? "" : st.error().what.c_str());
  auto c = v.open();
  CHECK_TRUE_TEXT(c.ok(), c.ok() ? "" : c.error().what.c_str());
  STRCMP_EQUAL("ion-agent-demo", c->client_id.c_str());
  STRCMP_EQUAL(kSecret, c->client_secret.c_str());
  STRCMP_EQUAL("https://api.buildwithion.com", c->api_url.c_str());
  STRCMP_CONTAINS("/realms/api-keys/", c->token_url.c_str());
  STRCMP_EQUAL("production", c->region.c_str());
  STRCMP_EQUAL("/etc/ssl/certs/ca-certificates.crt", c->ca_file.c_str());
  CHECK_TRUE(c->sealed_at > 1600000000);
  // Files are private and the secret is not in the sealed file in clear.
  struct stat s {};
  CHECK_EQUAL(0, ::stat(sealed().c_str(), &s));
  CHECK_EQUAL(0600, s.st_mode & 0777);
  CHECK_EQUAL(0, ::stat(key().c_str(), &s));
  CHECK_EQUAL(0600, s.st_mode & 0777);
  CHECK_EQUAL(32, s.st_size);
  auto raw = read_bytes(sealed());
  CHECK_TRUE(std::string(raw.begin(), raw.end()).find(kSecret) == std::string::npos);
  CHECK_TRUE(std::string(raw.begin(), raw.end()).find("ion-agent-demo") == std::string::npos);
}

TEST(Vault, ResealingRotatesAndKeepsTheDeviceKey) {
  Board board(dir, "aaaa", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  auto first = read_bytes(sealed());
  auto device_key = read_bytes(key());
  agent::Credentials c2 = sample();
  CHECK_TRUE(c2.client_secret.assign("rotated-secret"));
  CHECK_TRUE(v.seal(c2).ok());
  CHECK_TRUE(first != read_bytes(sealed()));  // fresh salt + nonce + new content
  CHECK_TRUE(device_key == read_bytes(key()));
  auto c = v.open();
  CHECK_TRUE(c.ok());
  STRCMP_EQUAL("rotated-secret", c->client_secret.c_str());
  CHECK_EQUAL(-1, ::access((sealed() + ".tmp").c_str(), F_OK));
}

TEST(Vault, OneFlippedBitAnywhereIsRefused) {
  Board board(dir, "bbbb", "serial-1");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  const auto good = read_bytes(sealed());
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= static_cast<unsigned char>(1u << (i % 8));
    write_bytes(sealed(), bad);
    auto c = v.open();
    if (c.ok()) {
      FAIL(("a flipped bit at byte " + std::to_string(i) + " was accepted").c_str());
    }
    CHECK_TRUE(v.last_failure() == agent::VaultFailure::auth_failed ||
               v.last_failure() == agent::VaultFailure::unknown_format);
  }
  write_bytes(sealed(), good);
  CHECK_TRUE(v.open().ok());
}

TEST(Vault, TruncatedOrExtendedFileIsRefused) {
  Board board(dir, "cccc", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  auto good = read_bytes(sealed());
  auto shorter = good;
  shorter.pop_back();
  write_bytes(sealed(), shorter);
  CHECK_FALSE(v.open().ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::auth_failed);
  auto longer = good;
  longer.push_back(0);
  write_bytes(sealed(), longer);
  CHECK_FALSE(v.open().ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::auth_failed);
}

TEST(Vault, AnotherBoardCannotOpenIt) {
  Board board(dir, "1111", "serial-A");
  agent::FileKeyProvider keys(key());
  CHECK_TRUE(agent::Vault(sealed(), keys, board.identity).seal(sample()).ok());

  Board other_machine(dir, "2222", "serial-A");
  agent::Vault v2(sealed(), keys, other_machine.identity);
  CHECK_FALSE(v2.open().ok());
  CHECK_TRUE(v2.last_failure() == agent::VaultFailure::auth_failed);
  STRCMP_CONTAINS("another board", v2.open().error().what.c_str());

  // Same machine-id, different SoC serial: also refused.
  write_text(board.ser, "serial-B");
  agent::Vault v3(sealed(), keys, board.identity);
  CHECK_FALSE(v3.open().ok());
  CHECK_TRUE(v3.last_failure() == agent::VaultFailure::auth_failed);
}

TEST(Vault, AnotherDeviceKeyCannotOpenIt) {
  Board board(dir, "3333", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  auto k = read_bytes(key());
  k[5] ^= 0x40;
  write_bytes(key(), k);
  CHECK_FALSE(v.open().ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::auth_failed);
  CHECK_EQUAL(0, ::unlink(key().c_str()));
  CHECK_FALSE(v.open().ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::device_key);
}

TEST(Vault, LooseModesAreRefused) {
  Board board(dir, "4444", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  for (mode_t m : {0640, 0604, 0660, 0602, 0610}) {
    CHECK_EQUAL(0, ::chmod(sealed().c_str(), m));
    auto c = v.open();
    CHECK_FALSE(c.ok());
    CHECK_TRUE(v.last_failure() == agent::VaultFailure::loose_mode);
    STRCMP_CONTAINS("group/others", c.error().what.c_str());
  }
  CHECK_EQUAL(0, ::chmod(sealed().c_str(), 0600));
  CHECK_TRUE(v.open().ok());
  CHECK_EQUAL(0, ::chmod(key().c_str(), 0644));
  CHECK_FALSE(v.open().ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::loose_mode);
}

TEST(Vault, UnknownHeaderIsRefusedWithItsOwnMessage) {
  Board board(dir, "5555", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  auto good = read_bytes(sealed());
  auto newer = good;
  newer[8] = 3;  // version (2 is the format with a key provider blob)
  write_bytes(sealed(), newer);
  auto c = v.open();
  CHECK_FALSE(c.ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::unknown_format);
  STRCMP_CONTAINS("unknown format (version 3", c.error().what.c_str());
  write_text(sealed(), "{\"client_secret\": \"plain\"} and some more text to pass the size check......");
  CHECK_EQUAL(0, ::chmod(sealed().c_str(), 0600));
  c = v.open();
  CHECK_FALSE(c.ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::unknown_format);
  STRCMP_CONTAINS("not an ion-agent credentials file", c.error().what.c_str());
}

TEST(Vault, MissingFileMeansNotProvisioned) {
  Board board(dir, "6666", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  auto c = v.open();
  CHECK_FALSE(c.ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::missing);
  STRCMP_CONTAINS("ion-agent provision", c.error().what.c_str());
}

TEST(Vault, MissingMachineIdIsItsOwnError) {
  agent::FileBoardIdentity nowhere({dir.path() + "/no-such-machine-id"}, {});
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, nowhere);
  CHECK_FALSE(v.seal(sample()).ok());
  CHECK_TRUE(v.last_failure() == agent::VaultFailure::board_identity);
  CHECK_EQUAL(-1, ::access(sealed().c_str(), F_OK));
}

TEST(Vault, OpenedCredentialsWipeTheSecretWhenDestroyed) {
  Board board(dir, "7777", "");
  agent::FileKeyProvider keys(key());
  agent::Vault v(sealed(), keys, board.identity);
  CHECK_TRUE(v.seal(sample()).ok());
  alignas(agent::Credentials) unsigned char storage[sizeof(agent::Credentials)];
  auto* c = new (storage) agent::Credentials(std::move(v.open().value()));
  const std::string view(reinterpret_cast<const char*>(storage), sizeof storage);
  CHECK_TRUE(view.find(kSecret) != std::string::npos);
  c->~Credentials();
  const std::string after(reinterpret_cast<const char*>(storage), sizeof storage);
  CHECK_TRUE(after.find(kSecret) == std::string::npos);
}
