// SPDX-License-Identifier: Apache-2.0
// Pkcs11KeyProvider (key provider id 4): the vault's device secret (32 bytes from the token's
// RNG) is wrapped with AES-256-GCM by an AES key object that lives on a PKCS#11 token (a
// secure element, a TPM-backed or USB HSM, SoftHSM2 in tests) and is created there,
// sensitive and non-extractable, on first provisioning. Only the wrapped secret and the
// token's address are stored (inside credentials.sealed); without that token, logged in,
// they are useless.
//
// Addressing: an RFC 7512 URI parsed by p11-kit, e.g.
//   pkcs11:token=ion-agent;object=ion-agent-vault?module-path=/usr/lib/softhsm/libsofthsm2.so
// The token attributes select the token, object= names the key (default "ion-agent-vault"),
// module-path= (or the separate module argument) the PKCS#11 module, loaded with p11-kit.
//
// The user PIN is never taken from argv or the environment: a pin-value= in the URI is
// refused. It comes from, in order: the URI's pin-source= (a file, 0600, like the sealed
// file), $CREDENTIALS_DIRECTORY/ion-agent.pkcs11-pin (a systemd credential), or the PinReader (the CLI
// reads it like the client secret: a no-echo prompt or one stdin line). It is held in a
// zeroizing buffer and wiped after C_Login.
//
// Refusals (last_failure()): device_absent (module will not load, or no token matches),
// wrong_pin (CKR_PIN_INCORRECT), pin_locked (CKR_PIN_LOCKED), other_device (the key object is
// not on this token: another token, or it was deleted), tampered (GCM authentication of the
// wrapped secret failed, or the blob does not parse), io (anything else).
//
// Blob (big-endian): "IP11" u8 version=1, u16+URI, u16+module path, iv[12], wrapped[48].
#pragma once

#include <string>
#include <vector>

#include "agent/vault/key_providers.hpp"

namespace agent {

class Pkcs11KeyProvider final : public KeyProvider {
 public:
  static constexpr std::uint8_t kId = 4;
  static constexpr const char* kDefaultObject = "ion-agent-vault";

  // uri/module: used when sealing (opening uses the ones stored in the blob).
  Pkcs11KeyProvider(std::string uri, std::string module, PinReader pin_reader);
  std::uint8_t id() const override { return kId; }
  const char* name() const override { return name_.c_str(); }
  hal::Result<KeyBytes> seal_key(std::vector<unsigned char>& blob) override;
  hal::Result<KeyBytes> open_key(const unsigned char* blob, std::size_t n) override;

 private:
  struct Token;
  hal::Result<KeyBytes> run(bool sealing, const std::string& uri, const std::string& module,
                            std::vector<unsigned char>* blob, const unsigned char* iv,
                            const unsigned char* wrapped);
  void set_name(const std::string& uri);
  std::string uri_, module_;
  PinReader pin_reader_;
  std::string name_;
};

}  // namespace agent
