// SPDX-License-Identifier: Apache-2.0
// SecretBuffer: fixed-capacity storage for a secret (client secret, access token, derived
// key). It never reallocates, so no stale copy is left behind on the heap; it is wiped with
// mbedtls_platform_zeroize (which the optimiser may not remove) when cleared, moved from or
// destroyed. It has no conversion to std::string on purpose: reveal() is explicit and
// greppable. Copying is deleted.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace agent {

void secure_zero(void* p, std::size_t n) noexcept;

template <std::size_t Capacity>
class SecretBuffer {
 public:
  static constexpr std::size_t kCapacity = Capacity;

  SecretBuffer() noexcept = default;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;
  SecretBuffer(SecretBuffer&& o) noexcept { take(o); }
  SecretBuffer& operator=(SecretBuffer&& o) noexcept {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  ~SecretBuffer() { secure_zero(data_, sizeof data_); }

  // Appends bytes; returns false (and changes nothing) if they would not fit.
  [[nodiscard]] bool append(std::string_view bytes) noexcept {
    if (bytes.size() > Capacity - size_) {
      return false;
    }
    std::memcpy(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
    data_[size_] = '\0';
    return true;
  }
  [[nodiscard]] bool assign(std::string_view bytes) noexcept {
    clear();
    return append(bytes);
  }
  // Drops the last n bytes (wiping them), e.g. a trailing newline read from stdin.
  void truncate(std::size_t n) noexcept {
    if (n < size_) {
      secure_zero(data_ + n, size_ - n);
      size_ = n;
    }
  }
  void clear() noexcept {
    secure_zero(data_, size_ + 1);
    size_ = 0;
  }

  std::string_view reveal() const noexcept { return {data_, size_}; }
  const char* c_str() const noexcept { return data_; }
  unsigned char* bytes() noexcept { return reinterpret_cast<unsigned char*>(data_); }
  const unsigned char* bytes() const noexcept { return reinterpret_cast<const unsigned char*>(data_); }
  // For filling in place (e.g. a KDF output): sets the size after writing through bytes().
  void set_size(std::size_t n) noexcept {
    size_ = n <= Capacity ? n : Capacity;
    data_[size_] = '\0';
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  void take(SecretBuffer& o) noexcept {
    std::memcpy(data_, o.data_, o.size_ + 1);
    size_ = o.size_;
    o.clear();
  }

  char data_[Capacity + 1] = {};  // +1: always NUL-terminated for C APIs (curl, mbedtls)
  std::size_t size_ = 0;
};

using Secret = SecretBuffer<4096>;  // tokens (JWTs) are the largest secrets we hold
using KeyBytes = SecretBuffer<64>;  // symmetric keys and key material

}  // namespace agent
