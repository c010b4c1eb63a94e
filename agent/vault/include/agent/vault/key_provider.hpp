// SPDX-License-Identifier: Apache-2.0
// KeyProvider: where the vault's device secret (the HKDF input key material) comes from, and
// what has to be stored next to the ciphertext to get it back. The provider id is stored in the
// sealed file's header; a provider that needs state of its own (a TPM's sealed-object blobs, a
// token-wrapped secret) returns it from seal_key() and the vault stores it inside
// credentials.sealed, authenticated as associated data, so key and credentials are replaced
// by one atomic rename.
//  - FileKeyProvider (id 1): 32 random bytes in <state-dir>/device.key, 0600; no blob.
//  - Tpm2KeyProvider (id 2, ION_AGENT_TPM2): the secret is drawn from and sealed by the TPM
//    under its storage hierarchy, optionally to PCR values; the blob is the TPM's public and
//    private parts, useless without that TPM.
//  - (id 3 is reserved for NXP i.MX CAAM black keys.)
//  - Pkcs11KeyProvider (id 4, ION_AGENT_PKCS11): the secret is wrapped (AES-GCM) by an AES key
//    object that never leaves a PKCS#11 token; the blob is the token URI and the wrapped secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/crypto/secret.hpp"
#include "hal/result.hpp"

namespace agent {

// Why the last seal_key()/open_key() failed, so the CLI can give each refusal its own exit code.
enum class KeyFailure {
  none,
  missing,        // no key (file provider: device.key absent)
  loose_mode,     // key file group/other-accessible
  corrupt,        // key material malformed (wrong size, unparsable blob)
  tampered,       // the blob was altered: the TPM/token refused it as not its own
  other_device,   // sealed by another TPM / key object not on this token
  policy,         // the TPM's PCR policy no longer holds (PCR values changed)
  device_absent,  // no TPM / token / module reachable
  wrong_pin,      // token PIN incorrect
  pin_locked,     // token PIN locked, or the TPM in dictionary-attack lockout
  unavailable,    // provider not compiled into this build
  io,             // anything else
};
const char* to_string(KeyFailure f) noexcept;

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual std::uint8_t id() const = 0;   // stored in the vault header
  virtual const char* name() const = 0;  // for messages and `status` ("TPM 2.0 (device:/dev/tpmrm0)")
  // Sealing: the device secret, and in `blob` what the vault must store so that open_key() can
  // return the same secret later (empty for providers that keep their own state). May create
  // the secret (provisioning).
  virtual hal::Result<KeyBytes> seal_key(std::vector<unsigned char>& blob) = 0;
  // Opening: the device secret from the stored blob. Never creates anything.
  virtual hal::Result<KeyBytes> open_key(const unsigned char* blob, std::size_t n) = 0;
  KeyFailure last_failure() const { return failure_; }

 protected:
  hal::Error fail(KeyFailure f, hal::Error e) {
    failure_ = f;
    return e;
  }
  KeyFailure failure_ = KeyFailure::none;
};

}  // namespace agent
