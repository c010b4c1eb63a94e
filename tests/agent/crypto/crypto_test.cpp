// SPDX-License-Identifier: Apache-2.0
#include "agent/crypto/crypto.hpp"

#include <CppUTest/TestHarness.h>

#include <cstring>
#include <string>

namespace {

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

}  // namespace

TEST_GROUP(Crypto){};

TEST(Crypto, Sha256MatchesFips180Vector) {
  unsigned char out[32];
  const unsigned char abc[] = {'a', 'b', 'c'};
  CHECK_TRUE(agent::crypto::sha256(abc, 3, out).ok());
  STRCMP_EQUAL("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(out, 32).c_str());
}

TEST(Crypto, HkdfMatchesRfc5869TestCase1) {
  unsigned char ikm[22];
  std::memset(ikm, 0x0b, sizeof ikm);
  const unsigned char salt[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
  const unsigned char info[] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9};
  unsigned char okm[42];
  CHECK_TRUE(
      agent::crypto::hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, okm, sizeof okm)
          .ok());
  STRCMP_EQUAL("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
               hex(okm, sizeof okm).c_str());
}

TEST(Crypto, RandomBytesDifferBetweenDraws) {
  unsigned char a[32] = {};
  unsigned char b[32] = {};
  CHECK_TRUE(agent::crypto::random_bytes(a, sizeof a).ok());
  CHECK_TRUE(agent::crypto::random_bytes(b, sizeof b).ok());
  CHECK(std::memcmp(a, b, sizeof a) != 0);
}

TEST(Crypto, GcmContextRoundTripsThroughRaii) {
  // Encrypt then decrypt with two independent RAII contexts; the sanitizer build checks
  // that init/free pair up on every path.
  unsigned char key[32];
  std::memset(key, 7, sizeof key);
  unsigned char iv[12] = {1};
  const unsigned char msg[] = "station 4 pass";
  unsigned char ct[sizeof msg];
  unsigned char tag[16];
  {
    agent::crypto::Gcm gcm;
    LONGS_EQUAL(0, mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key, 256));
    LONGS_EQUAL(0, mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, sizeof msg, iv, sizeof iv,
                                             nullptr, 0, msg, ct, sizeof tag, tag));
  }
  unsigned char back[sizeof msg];
  agent::crypto::Gcm gcm;
  LONGS_EQUAL(0, mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key, 256));
  LONGS_EQUAL(0, mbedtls_gcm_auth_decrypt(gcm.get(), sizeof msg, iv, sizeof iv, nullptr, 0, tag, sizeof tag,
                                          ct, back));
  STRCMP_EQUAL(reinterpret_cast<const char*>(msg), reinterpret_cast<const char*>(back));
  tag[0] ^= 1;
  CHECK(mbedtls_gcm_auth_decrypt(gcm.get(), sizeof msg, iv, sizeof iv, nullptr, 0, tag, sizeof tag, ct,
                                 back) != 0);
}

TEST(Crypto, ReportsLibraryGeneration) {
  std::string v = agent::crypto::library_version();
  CHECK_TRUE(v.rfind("Mbed TLS 2.", 0) == 0 || v.rfind("Mbed TLS 3.", 0) == 0);
}
