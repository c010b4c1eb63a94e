// SPDX-License-Identifier: Apache-2.0
// CHandle<T, Free>: std::unique_ptr that releases a C library object with its own free
// function (after libgpiod's bindings/cxx deleter). Each library's aliases live beside the
// code that uses it (agent/common/json.hpp, agent/net/curl.hpp, agent/outbox/sqlite.hpp,
// hal/linux/gpiod_handles.hpp).
#pragma once

#include <memory>

namespace hal {

template <class T, auto Free>
struct CFree {
  void operator()(T* p) const noexcept {
    if (p != nullptr) {
      Free(p);
    }
  }
};

template <class T, auto Free>
using CHandle = std::unique_ptr<T, CFree<T, Free>>;

// Closes a file descriptor on destruction; -1 means empty.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset(o.release());
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

}  // namespace hal
