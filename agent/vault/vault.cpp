// SPDX-License-Identifier: Apache-2.0
#include "agent/vault/vault.hpp"

#include <mbedtls/gcm.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "agent/crypto/crypto.hpp"
#include "agent/vault/secure_file.hpp"

namespace agent {
namespace {

constexpr unsigned char kMagic[8] = {'I', 'O', 'N', 'V', 'A', 'U', 'L', 'T'};
constexpr unsigned char kVersion = 1;
constexpr unsigned char kVersionBlob = 2;  // v1 + key provider blob (vault.hpp)
constexpr unsigned char kAeadAesGcmHkdf = 1;
constexpr std::size_t kSaltOff = 12, kSaltLen = 16, kNonceOff = 28, kNonceLen = 12, kLenOff = 40;
constexpr char kInfoPrefix[] = "ion-agent vault v1\n";

enum Tag : unsigned char {
  kClientId = 1,
  kClientSecret = 2,
  kApiUrl = 3,
  kTokenUrl = 4,
  kRegion = 5,
  kCaFile = 6,
  kPinnedKey = 7,
  kSealedAt = 8,
};

using Plaintext = SecretBuffer<Vault::kMaxPlaintext>;

bool put(Plaintext& p, Tag tag, std::string_view v) {
  if (v.size() > 0xffff) {
    return false;
  }
  const char hdr[3] = {static_cast<char>(tag), static_cast<char>(v.size() >> 8),
                       static_cast<char>(v.size() & 0xff)};
  return p.append(std::string_view(hdr, 3)) && p.append(v);
}

// Walks the records; false if they do not tile the plaintext exactly.
bool parse(const Plaintext& p, Credentials& c) {
  std::string_view rest = p.reveal();
  while (!rest.empty()) {
    if (rest.size() < 3) {
      return false;
    }
    auto tag = static_cast<unsigned char>(rest[0]);
    std::size_t len = (static_cast<unsigned char>(rest[1]) << 8) | static_cast<unsigned char>(rest[2]);
    if (rest.size() - 3 < len) {
      return false;
    }
    std::string_view v = rest.substr(3, len);
    switch (tag) {
      case kClientId:
        c.client_id = std::string(v);
        break;
      case kClientSecret:
        if (!c.client_secret.assign(v)) {
          return false;
        }
        break;
      case kApiUrl:
        c.api_url = std::string(v);
        break;
      case kTokenUrl:
        c.token_url = std::string(v);
        break;
      case kRegion:
        c.region = std::string(v);
        break;
      case kCaFile:
        c.ca_file = std::string(v);
        break;
      case kPinnedKey:
        c.pinned_public_key = std::string(v);
        break;
      case kSealedAt:
        c.sealed_at = std::strtoll(std::string(v).c_str(), nullptr, 10);
        break;
      default:
        break;  // a newer writer's optional field: skip it
    }
    rest.remove_prefix(3 + len);
  }
  return true;
}

std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void store_be32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

VaultFailure vault_failure(KeyFailure f) {
  switch (f) {
    case KeyFailure::loose_mode:
      return VaultFailure::loose_mode;
    case KeyFailure::tampered:
      return VaultFailure::key_tampered;
    case KeyFailure::other_device:
      return VaultFailure::key_other_device;
    case KeyFailure::policy:
      return VaultFailure::key_policy;
    case KeyFailure::device_absent:
      return VaultFailure::key_device_absent;
    case KeyFailure::wrong_pin:
      return VaultFailure::key_wrong_pin;
    case KeyFailure::pin_locked:
      return VaultFailure::key_pin_locked;
    case KeyFailure::unavailable:
      return VaultFailure::key_unavailable;
    case KeyFailure::none:
    case KeyFailure::missing:
    case KeyFailure::corrupt:
    case KeyFailure::io:
      break;
  }
  return VaultFailure::device_key;
}

}  // namespace

const char* to_string(VaultFailure f) noexcept {
  switch (f) {
    case VaultFailure::none:
      return "none";
    case VaultFailure::missing:
      return "missing";
    case VaultFailure::loose_mode:
      return "loose_mode";
    case VaultFailure::unknown_format:
      return "unknown_format";
    case VaultFailure::auth_failed:
      return "auth_failed";
    case VaultFailure::board_identity:
      return "board_identity";
    case VaultFailure::device_key:
      return "device_key";
    case VaultFailure::io:
      return "io";
    case VaultFailure::key_tampered:
      return "key_tampered";
    case VaultFailure::key_other_device:
      return "key_other_device";
    case VaultFailure::key_policy:
      return "key_policy";
    case VaultFailure::key_device_absent:
      return "key_device_absent";
    case VaultFailure::key_wrong_pin:
      return "key_wrong_pin";
    case VaultFailure::key_pin_locked:
      return "key_pin_locked";
    case VaultFailure::key_unavailable:
      return "key_unavailable";
  }
  return "unknown";
}

hal::Error Vault::fail(VaultFailure f, hal::Error e) {
  failure_ = f;
  return std::move(e).context("vault");
}

hal::Result<KeyBytes> Vault::derive_key(const unsigned char* salt, const KeyBytes& ikm) {
  auto board = board_.identity();
  if (!board.ok()) {
    return fail(VaultFailure::board_identity, std::move(board).error());
  }
  std::string info = std::string(kInfoPrefix) + *board;
  KeyBytes key;
  hal::Status st =
      crypto::hkdf_sha256(salt, kSaltLen, ikm.bytes(), ikm.size(),
                          reinterpret_cast<const unsigned char*>(info.data()), info.size(), key.bytes(), 32);
  if (!st.ok()) {
    return fail(VaultFailure::io, std::move(st).error());
  }
  key.set_size(32);
  return key;
}

hal::Result<std::uint8_t> Vault::sealed_provider(const std::string& sealed_path, VaultFailure* why) {
  PrivateFileError pf = PrivateFileError::none;
  auto file = read_private_file(sealed_path, kHeaderSize + 4 + kMaxKeyBlob + kMaxPlaintext + kTagSize, &pf);
  auto set = [&](VaultFailure f) {
    if (why != nullptr) {
      *why = f;
    }
  };
  if (!file.ok()) {
    set(pf == PrivateFileError::missing      ? VaultFailure::missing
        : pf == PrivateFileError::loose_mode ? VaultFailure::loose_mode
        : pf == PrivateFileError::too_large  ? VaultFailure::unknown_format
                                             : VaultFailure::io);
    if (pf == PrivateFileError::missing) {
      return hal::Error(hal::Errc::not_found, "vault: " + sealed_path +
                                                  " not found: this board is not provisioned "
                                                  "(run 'ion-agent provision')");
    }
    return std::move(file).error().context("vault");
  }
  if (file->size() < kHeaderSize || std::memcmp(file->data(), kMagic, sizeof kMagic) != 0) {
    set(VaultFailure::unknown_format);
    return hal::Error(hal::Errc::security,
                      "vault: " + sealed_path + ": not an ion-agent credentials file (bad magic)");
  }
  set(VaultFailure::none);
  return (*file)[10];
}

hal::Status Vault::seal(const Credentials& c) {
  failure_ = VaultFailure::none;
  Plaintext plain;
  std::string sealed_at =
      std::to_string(c.sealed_at != 0 ? c.sealed_at : static_cast<std::int64_t>(std::time(nullptr)));
  bool fits = put(plain, kClientId, c.client_id) && put(plain, kClientSecret, c.client_secret.reveal()) &&
              put(plain, kApiUrl, c.api_url) && put(plain, kTokenUrl, c.token_url) &&
              put(plain, kRegion, c.region) && put(plain, kCaFile, c.ca_file) &&
              put(plain, kPinnedKey, c.pinned_public_key) && put(plain, kSealedAt, sealed_at);
  if (!fits) {
    return fail(VaultFailure::io, hal::Error(hal::Errc::config, "seal: credentials too large"));
  }
  std::vector<unsigned char> blob;
  auto ikm = keys_.seal_key(blob);
  if (!ikm.ok()) {
    return fail(vault_failure(keys_.last_failure()), std::move(ikm).error());
  }
  if (blob.size() > kMaxKeyBlob) {
    return fail(VaultFailure::io, hal::Error(hal::Errc::config, "seal: key provider blob too large"));
  }
  // v2 when the provider keeps a blob: it sits between the header and the ciphertext.
  const std::size_t ad = blob.empty() ? kHeaderSize : kHeaderSize + 4 + blob.size();
  std::vector<unsigned char> file(ad + plain.size() + kTagSize);
  std::memcpy(file.data(), kMagic, sizeof kMagic);
  file[8] = blob.empty() ? kVersion : kVersionBlob;
  if (!blob.empty()) {
    store_be32(file.data() + kHeaderSize, static_cast<std::uint32_t>(blob.size()));
    std::memcpy(file.data() + kHeaderSize + 4, blob.data(), blob.size());
  }
  file[9] = kAeadAesGcmHkdf;
  file[10] = keys_.id();
  file[11] = 0;
  ION_TRY(crypto::random_bytes(file.data() + kSaltOff, kSaltLen + kNonceLen), "vault: seal");
  const auto n = static_cast<std::uint32_t>(plain.size());
  const unsigned char len[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  std::memcpy(file.data() + kLenOff, len, 4);
  auto key = derive_key(file.data() + kSaltOff, *ikm);
  if (!key.ok()) {
    return std::move(key).error();
  }
  crypto::Gcm gcm;
  int rc = mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key->bytes(), 256);
  if (rc == 0) {
    rc = mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, plain.size(), file.data() + kNonceOff,
                                   kNonceLen, file.data(), ad, plain.bytes(), file.data() + ad, kTagSize,
                                   file.data() + ad + plain.size());
  }
  if (rc != 0) {
    return fail(VaultFailure::io,
                hal::Error(hal::Errc::security, "seal: AES-GCM failed (" + std::to_string(rc) + ")"));
  }
  hal::Status st = write_private_file_atomic(path_, file.data(), file.size());
  if (!st.ok()) {
    return fail(VaultFailure::io, std::move(st).error());
  }
  return {};
}

hal::Result<Credentials> Vault::open() {
  failure_ = VaultFailure::none;
  PrivateFileError why = PrivateFileError::none;
  auto file = read_private_file(path_, kHeaderSize + 4 + kMaxKeyBlob + kMaxPlaintext + kTagSize, &why);
  if (!file.ok()) {
    if (why == PrivateFileError::missing) {
      return fail(VaultFailure::missing,
                  hal::Error(hal::Errc::not_found, path_ + " not found: this board is not provisioned "
                                                           "(run 'ion-agent provision')"));
    }
    if (why == PrivateFileError::too_large) {
      return fail(VaultFailure::unknown_format, std::move(file).error());
    }
    return fail(why == PrivateFileError::loose_mode ? VaultFailure::loose_mode : VaultFailure::io,
                std::move(file).error());
  }
  const std::vector<unsigned char>& f = *file;
  if (f.size() < kHeaderSize + kTagSize || std::memcmp(f.data(), kMagic, sizeof kMagic) != 0) {
    return fail(VaultFailure::unknown_format,
                hal::Error(hal::Errc::security, path_ + ": not an ion-agent credentials file (bad magic)"));
  }
  if ((f[8] != kVersion && f[8] != kVersionBlob) || f[9] != kAeadAesGcmHkdf || f[11] != 0) {
    return fail(VaultFailure::unknown_format,
                hal::Error(hal::Errc::security, path_ + ": unknown format (version " + std::to_string(f[8]) +
                                                    ", algorithm " + std::to_string(f[9]) + ", flags " +
                                                    std::to_string(f[11]) +
                                                    "); written by a newer ion-agent? provision again"));
  }
  if (f[10] != keys_.id()) {
    return fail(VaultFailure::unknown_format,
                hal::Error(hal::Errc::security, path_ + ": sealed with key provider " +
                                                    std::to_string(f[10]) + ", but this agent uses " +
                                                    keys_.name() + " (" + std::to_string(keys_.id()) + ")"));
  }
  const std::size_t n = load_be32(f.data() + kLenOff);
  const hal::Error tampered(hal::Errc::security,
                            path_ +
                                ": authentication failed: the file was altered or truncated, or it was "
                                "sealed on another board or with another device key; provision again");
  std::size_t ad = kHeaderSize, blob_len = 0;
  if (f[8] == kVersionBlob) {
    if (f.size() < kHeaderSize + 4) {
      return fail(VaultFailure::auth_failed, tampered);
    }
    blob_len = load_be32(f.data() + kHeaderSize);
    if (blob_len == 0 || blob_len > kMaxKeyBlob || f.size() - kHeaderSize - 4 < blob_len) {
      return fail(VaultFailure::auth_failed, tampered);
    }
    ad = kHeaderSize + 4 + blob_len;
  }
  if (n > kMaxPlaintext || f.size() != ad + n + kTagSize) {
    return fail(VaultFailure::auth_failed, tampered);
  }
  auto ikm = keys_.open_key(blob_len == 0 ? nullptr : f.data() + kHeaderSize + 4, blob_len);
  if (!ikm.ok()) {
    return fail(vault_failure(keys_.last_failure()), std::move(ikm).error());
  }
  auto key = derive_key(f.data() + kSaltOff, *ikm);
  if (!key.ok()) {
    return std::move(key).error();
  }
  Plaintext plain;
  crypto::Gcm gcm;
  int rc = mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key->bytes(), 256);
  if (rc == 0) {
    rc = mbedtls_gcm_auth_decrypt(gcm.get(), n, f.data() + kNonceOff, kNonceLen, f.data(), ad,
                                  f.data() + ad + n, kTagSize, f.data() + ad, plain.bytes());
  }
  if (rc != 0) {
    plain.set_size(n);  // clear() wipes size_+1 bytes: make sure any partial output is covered
    plain.clear();
    return fail(VaultFailure::auth_failed, tampered);
  }
  plain.set_size(n);
  Credentials c;
  if (!parse(plain, c) || c.client_id.empty() || c.client_secret.empty() || c.token_url.empty() ||
      c.api_url.empty()) {
    return fail(VaultFailure::unknown_format,
                hal::Error(hal::Errc::security, path_ + ": authenticated but its records are incomplete"));
  }
  return c;
}

}  // namespace agent
