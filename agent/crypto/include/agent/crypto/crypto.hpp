// SPDX-License-Identifier: Apache-2.0
// Mbed TLS contexts as RAII value classes, and the single place that knows the difference
// between Mbed TLS 2.28 and 3.6 (see crypto.cpp). Every context is init'ed in its
// constructor and freed in its destructor, on every path; copying is deleted.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

#include <cstddef>
#include <string>

#include "hal/result.hpp"

namespace agent::crypto {

#define ION_MBEDTLS_CONTEXT(Name, type, init, free_fn) \
  class Name {                                         \
   public:                                             \
    Name() noexcept { init(&ctx_); }                   \
    ~Name() { free_fn(&ctx_); }                        \
    Name(const Name&) = delete;                        \
    Name& operator=(const Name&) = delete;             \
    type* get() noexcept { return &ctx_; }             \
                                                       \
   private:                                            \
    type ctx_;                                         \
  }

ION_MBEDTLS_CONTEXT(Gcm, mbedtls_gcm_context, mbedtls_gcm_init, mbedtls_gcm_free);
ION_MBEDTLS_CONTEXT(Entropy, mbedtls_entropy_context, mbedtls_entropy_init, mbedtls_entropy_free);
ION_MBEDTLS_CONTEXT(CtrDrbg, mbedtls_ctr_drbg_context, mbedtls_ctr_drbg_init, mbedtls_ctr_drbg_free);
ION_MBEDTLS_CONTEXT(Md, mbedtls_md_context_t, mbedtls_md_init, mbedtls_md_free);

#undef ION_MBEDTLS_CONTEXT

// "Mbed TLS 2.28.3" / "Mbed TLS 3.6.6".
std::string library_version();

// Fills buf with n bytes from a freshly seeded CTR_DRBG (entropy from getrandom()).
hal::Status random_bytes(unsigned char* buf, std::size_t n);

// SHA-256 of data into out[32].
hal::Status sha256(const unsigned char* data, std::size_t n, unsigned char out[32]);

// SHA-256 over data given in pieces (a file streamed through a small buffer).
class Sha256 {
 public:
  Sha256();
  hal::Status update(const unsigned char* data, std::size_t n);
  // The digest as 64 lower-case hex digits; the object is spent afterwards.
  hal::Result<std::string> finish_hex();

 private:
  Md md_;
  int setup_ = -1;
};

// HKDF-SHA256 (RFC 5869).
hal::Status hkdf_sha256(const unsigned char* salt, std::size_t salt_len, const unsigned char* ikm,
                        std::size_t ikm_len, const unsigned char* info, std::size_t info_len,
                        unsigned char* okm, std::size_t okm_len);

}  // namespace agent::crypto
