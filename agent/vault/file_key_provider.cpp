// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/file_key_provider.hpp"

#include "agent/crypto/crypto.hpp"

namespace agent {

const char* to_string(KeyFailure f) noexcept {
  switch (f) {
    case KeyFailure::none:
      return "none";
    case KeyFailure::missing:
      return "missing";
    case KeyFailure::loose_mode:
      return "loose_mode";
    case KeyFailure::corrupt:
      return "corrupt";
    case KeyFailure::tampered:
      return "tampered";
    case KeyFailure::other_device:
      return "other_device";
    case KeyFailure::policy:
      return "policy";
    case KeyFailure::device_absent:
      return "device_absent";
    case KeyFailure::wrong_pin:
      return "wrong_pin";
    case KeyFailure::pin_locked:
      return "pin_locked";
    case KeyFailure::unavailable:
      return "unavailable";
    case KeyFailure::io:
      return "io";
  }
  return "unknown";
}

hal::Result<KeyBytes> FileKeyProvider::seal_key(std::vector<unsigned char>& blob) {
  blob.clear();
  return device_key(/*create=*/true);
}

hal::Result<KeyBytes> FileKeyProvider::open_key(const unsigned char* /*blob*/, std::size_t n) {
  if (n != 0) {
    return fail(KeyFailure::corrupt, hal::Error(hal::Errc::security,
                                                "device key: the sealed file carries a key blob, "
                                                "but the device key file provider uses none"));
  }
  return device_key(/*create=*/false);
}

hal::Result<KeyBytes> FileKeyProvider::device_key(bool create) {
  failure_ = KeyFailure::none;
  auto bytes = read_private_file(path_, kKeySize, &last_error_);
  if (!bytes.ok() && last_error_ == PrivateFileError::missing && create) {
    KeyBytes fresh;
    ION_TRY(crypto::random_bytes(fresh.bytes(), kKeySize), "device key");
    fresh.set_size(kKeySize);
    hal::Status st = write_private_file_atomic(path_, fresh.bytes(), kKeySize);
    if (!st.ok()) {
      return fail(KeyFailure::io, std::move(st).error().context("device key"));
    }
    last_error_ = PrivateFileError::none;
    return fresh;
  }
  if (!bytes.ok()) {
    KeyFailure f = last_error_ == PrivateFileError::missing      ? KeyFailure::missing
                   : last_error_ == PrivateFileError::loose_mode ? KeyFailure::loose_mode
                   : last_error_ == PrivateFileError::too_large  ? KeyFailure::corrupt
                                                                 : KeyFailure::io;
    return fail(f, std::move(bytes).error().context("device key"));
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
    return fail(
        KeyFailure::corrupt,
        hal::Error(hal::Errc::security, "device key: " + path_ + " is not " + std::to_string(kKeySize) +
                                            " bytes long (corrupt or replaced)"));
  }
  return key;
}

}  // namespace agent
