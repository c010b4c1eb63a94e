// SPDX-License-Identifier: Apache-2.0
// FileKeyProvider: the device secret in a 0600 file of exactly 32 random bytes (from Mbed
// TLS CTR_DRBG seeded by getrandom()). Created once, on first provisioning; kept across
// re-provisioning so a crash between writing the key and the sealed file cannot strand the
// credentials. A key file that is group/other-accessible, or not 32 bytes, is refused.
// Under systemd the same 32 bytes can come from an encrypted service credential instead
// (LoadCredentialEncrypted=ion-agent.devkey:..., sealed by `systemd-creds encrypt
// --with-key=host+tpm2`): make_key_provider() then points this provider at
// $CREDENTIALS_DIRECTORY/ion-agent.devkey, which systemd decrypted into non-swappable memory
// visible to this service only; nothing decrypted is ever written to disk.
#pragma once

#include <string>

#include "agent/vault/key_provider.hpp"
#include "agent/vault/secure_file.hpp"

namespace agent {

class FileKeyProvider final : public KeyProvider {
 public:
  static constexpr std::uint8_t kId = 1;
  static constexpr std::size_t kKeySize = 32;

  explicit FileKeyProvider(std::string path, std::string name = "device key file")
      : path_(std::move(path)), name_(std::move(name)) {}
  std::uint8_t id() const override { return kId; }
  const char* name() const override { return name_.c_str(); }
  hal::Result<KeyBytes> seal_key(std::vector<unsigned char>& blob) override;
  hal::Result<KeyBytes> open_key(const unsigned char* blob, std::size_t n) override;
  // The key file itself; with create=true a missing one is generated and stored first.
  hal::Result<KeyBytes> device_key(bool create);
  const std::string& path() const { return path_; }
  // Why the last device_key() failed (none / missing / loose_mode / io / too_large).
  PrivateFileError last_error() const { return last_error_; }

 private:
  std::string path_;
  std::string name_;
  PrivateFileError last_error_ = PrivateFileError::none;
};

}  // namespace agent
