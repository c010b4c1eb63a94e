// SPDX-License-Identifier: Apache-2.0
// The Mbed TLS generation shim. The APIs used here (GCM, HKDF, MD, CTR_DRBG) kept their
// signatures from 2.28 to 3.6; what differs is headers, the version macro and a few
// helpers, and those differences are handled in this file only.
#include "agent/crypto/crypto.hpp"

#include <mbedtls/hkdf.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/version.h>

#include <cstdio>
#include <string>

#include "agent/crypto/secret.hpp"

#if MBEDTLS_VERSION_NUMBER < 0x02100000
#error "ion-agent needs Mbed TLS 2.16 or newer"
#endif

namespace agent {

void secure_zero(void* p, std::size_t n) noexcept {
  mbedtls_platform_zeroize(p, n);
}

}  // namespace agent

namespace agent::crypto {
namespace {

hal::Error mbed_error(const char* what, int rc) {
  return hal::Error(
      hal::Errc::security, std::string("crypto: ") + what + ": Mbed TLS error -0x" + [rc] {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04x", -rc);
        return std::string(buf);
      }());
}

}  // namespace

std::string library_version() {
  return std::string("Mbed TLS ") + MBEDTLS_VERSION_STRING;
}

hal::Status random_bytes(unsigned char* buf, std::size_t n) {
  Entropy entropy;
  CtrDrbg drbg;
  static const unsigned char kPers[] = "ion-agent";
  int rc = mbedtls_ctr_drbg_seed(drbg.get(), mbedtls_entropy_func, entropy.get(), kPers, sizeof kPers - 1);
  if (rc != 0) {
    return mbed_error("seed random generator", rc);
  }
  rc = mbedtls_ctr_drbg_random(drbg.get(), buf, n);
  if (rc != 0) {
    return mbed_error("draw random bytes", rc);
  }
  return {};
}

hal::Status sha256(const unsigned char* data, std::size_t n, unsigned char out[32]) {
  int rc = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, n, out);
  if (rc != 0) {
    return mbed_error("sha256", rc);
  }
  return {};
}

Sha256::Sha256() {
  setup_ = mbedtls_md_setup(md_.get(), mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 0);
  if (setup_ == 0) {
    setup_ = mbedtls_md_starts(md_.get());
  }
}

hal::Status Sha256::update(const unsigned char* data, std::size_t n) {
  if (setup_ != 0) {
    return mbed_error("sha256 setup", setup_);
  }
  int rc = mbedtls_md_update(md_.get(), data, n);
  return rc == 0 ? hal::Status{} : mbed_error("sha256", rc);
}

hal::Result<std::string> Sha256::finish_hex() {
  if (setup_ != 0) {
    return mbed_error("sha256 setup", setup_);
  }
  unsigned char out[32];
  int rc = mbedtls_md_finish(md_.get(), out);
  if (rc != 0) {
    return mbed_error("sha256", rc);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : out) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

hal::Status hkdf_sha256(const unsigned char* salt, std::size_t salt_len, const unsigned char* ikm,
                        std::size_t ikm_len, const unsigned char* info, std::size_t info_len,
                        unsigned char* okm, std::size_t okm_len) {
  int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), salt, salt_len, ikm, ikm_len, info,
                        info_len, okm, okm_len);
  if (rc != 0) {
    return mbed_error("hkdf", rc);
  }
  return {};
}

}  // namespace agent::crypto
