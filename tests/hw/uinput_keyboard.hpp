// SPDX-License-Identifier: Apache-2.0
// UinputKeyboard: a virtual USB keyboard made through /dev/uinput that identifies as a barcode
// scanner (vendor kVendor, the given product id) and types text the way a US-layout scanner
// does. Destroying it is an unplug. Shared by the hw tests that need a scanner in the kernel
// (the evdev reader's tests and the daemon's end-to-end test). Needs root and /dev/uinput.
#pragma once

#include <CppUTest/TestHarness.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace hw {

inline constexpr std::uint16_t kVendor = 0x1209;  // pid.codes test vendor: never a real scanner here

// A virtual USB keyboard. Destroying it is an unplug.
class UinputKeyboard {
 public:
  explicit UinputKeyboard(std::uint16_t product) {
    fd_ = ::open("/dev/uinput", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      FAIL(("cannot open /dev/uinput: " + std::string(std::strerror(errno))).c_str());
    }
    ::ioctl(fd_, UI_SET_EVBIT, EV_KEY);
    ::ioctl(fd_, UI_SET_EVBIT, EV_SYN);
    for (int k = KEY_ESC; k <= KEY_KPDOT; ++k) {
      ::ioctl(fd_, UI_SET_KEYBIT, k);
    }
    ::ioctl(fd_, UI_SET_KEYBIT, KEY_102ND);
    ::ioctl(fd_, UI_SET_KEYBIT, KEY_KPENTER);
    ::ioctl(fd_, UI_SET_KEYBIT, KEY_RIGHTCTRL);
    ::ioctl(fd_, UI_SET_KEYBIT, KEY_RIGHTALT);
    uinput_setup setup{};
    setup.id.bustype = BUS_USB;
    setup.id.vendor = kVendor;
    setup.id.product = product;
    std::snprintf(setup.name, sizeof setup.name, "ion-agent test scanner %04x", product);
    CHECK_EQUAL(0, ::ioctl(fd_, UI_DEV_SETUP, &setup));
    CHECK_EQUAL(0, ::ioctl(fd_, UI_DEV_CREATE));
  }
  ~UinputKeyboard() { destroy(); }
  UinputKeyboard(const UinputKeyboard&) = delete;
  UinputKeyboard& operator=(const UinputKeyboard&) = delete;

  void destroy() {
    if (fd_ >= 0) {
      ::ioctl(fd_, UI_DEV_DESTROY);
      ::close(fd_);
      fd_ = -1;
    }
  }
  void emit(std::uint16_t type, std::uint16_t code, int value) {
    input_event ev{};
    ev.type = type;
    ev.code = code;
    ev.value = value;
    CHECK_EQUAL(static_cast<ssize_t>(sizeof ev), ::write(fd_, &ev, sizeof ev));
  }
  void key(std::uint16_t code, int value) {
    emit(EV_KEY, code, value);
    emit(EV_SYN, SYN_REPORT, 0);
  }
  void tap(std::uint16_t code, std::uint16_t modifier = 0) {
    if (modifier != 0) {
      key(modifier, 1);
    }
    key(code, 1);
    key(code, 0);
    if (modifier != 0) {
      key(modifier, 0);
    }
    if (after_tap) {
      after_tap();
    }
  }
  // Called after every key, as the event loop would run between a real scanner's USB reports.
  // evdev keeps only 64 events per reader; a long scan typed at once would overflow it.
  std::function<void()> after_tap;
  // Types ASCII text the way a US-layout scanner does (letters, digits, '-', ']').
  void type_us(std::string_view text) {
    static const std::uint16_t kDigits[] = {KEY_0, KEY_1, KEY_2, KEY_3, KEY_4,
                                            KEY_5, KEY_6, KEY_7, KEY_8, KEY_9};
    static const std::uint16_t kLetters[] = {KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I,
                                             KEY_J, KEY_K, KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R,
                                             KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z};
    for (char c : text) {
      if (c >= '0' && c <= '9') {
        tap(kDigits[c - '0']);
      } else if (c >= 'a' && c <= 'z') {
        tap(kLetters[c - 'a']);
      } else if (c >= 'A' && c <= 'Z') {
        tap(kLetters[c - 'A'], KEY_LEFTSHIFT);
      } else if (c == '-') {
        tap(KEY_MINUS);
      } else if (c == ']') {
        tap(KEY_RIGHTBRACE);
      } else {
        FAIL("type_us: character not in the test's table");
      }
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace hw
