// SPDX-License-Identifier: Apache-2.0
// Vault: the ION API key (client id + secret) and its environment (API and token URLs, CA
// file, optional pinned key) sealed in <state-dir>/credentials.sealed.
//
// Crypto: AES-256-GCM (Mbed TLS). key = HKDF-SHA256(ikm = device secret from a KeyProvider,
// salt = 16 random bytes from the header, info = "ion-agent vault v1" + board identity), so
// the file opens only with this board's device key *and* machine-id/serial. A fresh salt and
// nonce are drawn on every seal; the whole header is the GCM associated data, so no header
// byte can be changed undetected.
//
// File format v1 (big-endian):
//   0  "IONVAULT"  8  version=1  9  aead=1 (AES-256-GCM/HKDF-SHA256)  10 key provider id
//   11 flags=0   12 salt[16]   28 nonce[12]   40 u32 ciphertext length   44 ciphertext  ... tag[16]
// Plaintext: records {u8 tag, u16 length, bytes}; unknown tags are skipped.
// Version 2 (written for key providers that keep a blob, e.g. TPM 2.0 and PKCS#11) inserts
// after byte 44: u32 blob length B (<= kMaxKeyBlob), blob[B]; the ciphertext follows at 48 + B
// and the associated data is everything before it, blob included. Version 1 is still written
// for the file provider (no blob), so older agents keep reading those vaults.
//
// Failures each have their own VaultFailure (and CLI exit code): missing (not provisioned),
// loose_mode (file or key file group/other-accessible), unknown_format (magic, version,
// algorithm or key provider not understood), auth_failed (altered, truncated, another board,
// another device key), board_identity (no machine-id), device_key (key file missing/corrupt),
// io, and the key providers' refusals (key_*: see KeyFailure). Secrets only ever live in zeroizing
// SecretBuffers; the plaintext buffer is wiped.
#pragma once

#include <cstdint>
#include <string>

#include "agent/crypto/secret.hpp"
#include "agent/vault/board_identity.hpp"
#include "agent/vault/key_provider.hpp"
#include "hal/result.hpp"

// The build's -DION_AGENT_STATE_DIR (agent/CMakeLists.txt defines this for every user of
// the vault stage); a string literal, so help texts can concatenate it.
#ifndef ION_AGENT_DEFAULT_STATE_DIR
#define ION_AGENT_DEFAULT_STATE_DIR "/var/lib/ion-agent"
#endif

namespace agent {

inline constexpr const char* kDefaultStateDir = ION_AGENT_DEFAULT_STATE_DIR;
inline constexpr const char* kSealedFileName = "credentials.sealed";
inline constexpr const char* kDeviceKeyFileName = "device.key";

struct Credentials {
  std::string client_id;
  Secret client_secret;
  std::string api_url;            // API base; GraphQL at api_url + "/graphql"
  std::string token_url;          // full token endpoint URL
  std::string region;             // region name used at provisioning, "" for explicit URLs
  std::string ca_file;            // CA bundle given at provisioning, "" = system default
  std::string pinned_public_key;  // CURLOPT_PINNEDPUBLICKEY value, "" = none
  std::int64_t sealed_at = 0;     // unix seconds
};

enum class VaultFailure {
  none,
  missing,
  loose_mode,
  unknown_format,
  auth_failed,
  board_identity,
  device_key,
  io,
  key_tampered,       // the TPM / token refused the stored key blob as altered
  key_other_device,   // sealed by another TPM, or the key object is not on this token
  key_policy,         // PCR values changed since sealing
  key_device_absent,  // TPM / token / PKCS#11 module not reachable
  key_wrong_pin,      // token PIN incorrect
  key_pin_locked,     // token PIN locked / TPM in dictionary-attack lockout
  key_unavailable,    // sealed by a key provider this build does not include
};
const char* to_string(VaultFailure f) noexcept;

class Vault {
 public:
  Vault(std::string sealed_path, KeyProvider& keys, const BoardIdentity& board)
      : path_(std::move(sealed_path)), keys_(keys), board_(board) {}

  // Seals and writes atomically (replacing any earlier credentials: key rotation).
  hal::Status seal(const Credentials& creds);
  hal::Result<Credentials> open();

  VaultFailure last_failure() const { return failure_; }
  // The key provider id in a sealed file's header (to pick the provider before open()); on
  // failure *why says missing / loose_mode / unknown_format / io.
  static hal::Result<std::uint8_t> sealed_provider(const std::string& sealed_path, VaultFailure* why);
  const std::string& path() const { return path_; }

  static constexpr std::size_t kHeaderSize = 44;
  static constexpr std::size_t kTagSize = 16;
  static constexpr std::size_t kMaxPlaintext = 8192;
  static constexpr std::size_t kMaxKeyBlob = 4096;

 private:
  hal::Result<KeyBytes> derive_key(const unsigned char* salt, const KeyBytes& ikm);
  hal::Error fail(VaultFailure f, hal::Error e);

  std::string path_;
  KeyProvider& keys_;
  const BoardIdentity& board_;
  VaultFailure failure_ = VaultFailure::none;
};

}  // namespace agent
