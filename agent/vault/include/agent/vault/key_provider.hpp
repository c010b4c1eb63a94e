// SPDX-License-Identifier: Apache-2.0
// KeyProvider: where the vault's device secret (the HKDF input key material) comes from. The
// seam exists so stronger providers can replace the key file without touching the vault
// format (the provider id is stored in the sealed file's header):
//  - FileKeyProvider (id 1, implemented): 32 random bytes in <state-dir>/device.key, 0600.
//  - TPM2 via `systemd-creds encrypt --with-key=tpm2` (planned id 2): the device secret is a
//    systemd credential sealed to the board's TPM, handed to the service by LoadCredential=.
//  - NXP i.MX CAAM black keys (planned id 3): the secret is wrapped by the SoC's CAAM and only
//    usable on that SoC.
#pragma once

#include <cstdint>

#include "agent/crypto/secret.hpp"
#include "hal/result.hpp"

namespace agent {

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual std::uint8_t id() const = 0;   // stored in the vault header
  virtual const char* name() const = 0;  // for messages ("device key file /var/lib/...")
  // The device secret. With create=true a missing secret is generated and stored first
  // (provisioning); with create=false a missing one is an error (loading).
  virtual hal::Result<KeyBytes> device_key(bool create) = 0;
};

}  // namespace agent
