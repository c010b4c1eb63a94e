// SPDX-License-Identifier: Apache-2.0
// Fuzz target: opening a credentials.sealed file with arbitrary content. The vault must refuse
// anything it did not seal (unknown format or failed authentication), never crash, and never
// read past the buffer whatever the header's length field says. The key provider is picked
// from the header like ion-agent does, so format-v2 files reach the TPM 2.0 and PKCS#11
// providers' blob parsers (built in when their libraries are): the TPM provider parses and
// unmarshals the blob, then fails to reach the (absent) TPM; the PKCS#11 provider parses the
// blob and its URI, then fails to find a module.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "agent/vault/file_key_provider.hpp"
#include "agent/vault/key_providers.hpp"
#include "agent/vault/vault.hpp"

namespace {

struct Fixture {
  std::string dir;
  Fixture() {
    char tmpl[] = "/tmp/fuzz-vault-XXXXXX";
    dir = ::mkdtemp(tmpl) != nullptr ? tmpl : "/tmp";
    write(dir + "/machine-id", "fuzz-machine\n", 0644);
    write(dir + "/device.key", std::string(32, 'k'), 0600);
  }
  ~Fixture() {  // static: runs at exit, leaves no temp files behind
    for (const char* f : {"/machine-id", "/device.key", "/credentials.sealed"}) {
      ::unlink((dir + f).c_str());
    }
    ::rmdir(dir.c_str());
  }
  static void write(const std::string& path, const std::string& bytes, mode_t mode) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f != nullptr) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    ::chmod(path.c_str(), mode);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  const std::string sealed = fx.dir + "/credentials.sealed";
  Fixture::write(sealed, std::string(reinterpret_cast<const char*>(data), size), 0600);
  agent::FileBoardIdentity board({fx.dir + "/machine-id"}, {});
  agent::FileKeyProvider file_keys(fx.dir + "/device.key");
  std::unique_ptr<agent::KeyProvider> other;
  agent::KeyProvider* keys = &file_keys;
  if (size > 10 && data[10] != agent::FileKeyProvider::kId) {
    agent::KeyProviderSettings ks;
    ks.state_dir = fx.dir;
    ks.tcti = "device:/nonexistent/ion-fuzz-tpmrm0";  // parsing happens; no TPM is ever reached
    auto p = agent::make_key_provider(data[10], ks);
    if (p.ok()) {
      other = std::move(p).value();
      keys = other.get();
    }
  }
  agent::Vault vault(sealed, *keys, board);
  auto c = vault.open();
  if (c.ok()) {
    std::abort();  // only a file sealed with this key could open, and the fuzzer cannot forge GCM
  }
  return 0;
}
