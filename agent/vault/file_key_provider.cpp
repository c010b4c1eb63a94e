// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/file_key_provider.hpp"

#include "agent/crypto/crypto.hpp"

namespace agent {

hal::Result<KeyBytes> FileKeyProvider::device_key(bool create) {
  auto bytes = read_private_file(path_, kKeySize, &last_error_);
  if (!bytes.ok() && last_error_ == PrivateFileError::missing && create) {
    KeyBytes fresh;
    ION_TRY(crypto::random_bytes(fresh.bytes(), kKeySize), "device key");
    fresh.set_size(kKeySize);
    ION_TRY(write_private_file_atomic(path_, fresh.bytes(), kKeySize), "device key");
    last_error_ = PrivateFileError::none;
    return fresh;
  }
  if (!bytes.ok()) {
    return std::move(bytes).error().context("device key");
  }
  KeyBytes key;
  bool right_size = bytes->size() == kKeySize;
  if (right_size) {
    key.set_size(kKeySize);
    std::copy(bytes->begin(), bytes->end(), key.bytes());
  }
  secure_zero(bytes->data(), bytes->size());
  if (!right_size) {
    last_error_ = PrivateFileError::io;
    return hal::Error(hal::Errc::security, "device key: " + path_ + " is not " + std::to_string(kKeySize) +
                                               " bytes long (corrupt or replaced)");
  }
  return key;
}

}  // namespace agent
