// SPDX-License-Identifier: Apache-2.0
// SdNotify speaks systemd's notify protocol: one datagram per message to $NOTIFY_SOCKET, and
// a watchdog interval of half $WATCHDOG_USEC when the watchdog is meant for this process.
#include "sd_notify.hpp"

#include <CppUTest/TestHarness.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "hal/c_handle.hpp"

TEST_GROUP(SdNotify){void teardown() override{::unsetenv("NOTIFY_SOCKET");
::unsetenv("WATCHDOG_USEC");
::unsetenv("WATCHDOG_PID");
}
}
;

TEST(SdNotify, SendsDatagramsToTheNotifySocket) {
  std::string path = "/tmp/ion-sdnotify-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  hal::UniqueFd srv(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  CHECK_EQUAL(0, ::bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  firmware::SdNotify n = firmware::SdNotify::from_environment();
  CHECK_TRUE(n.enabled());
  CHECK_TRUE(n.send("READY=1\nSTATUS=pending 0"));
  CHECK_TRUE(n.send("WATCHDOG=1"));
  char buf[256];
  ssize_t got = ::recv(srv.get(), buf, sizeof buf, 0);
  STRCMP_EQUAL("READY=1\nSTATUS=pending 0", std::string(buf, static_cast<std::size_t>(got)).c_str());
  got = ::recv(srv.get(), buf, sizeof buf, 0);
  STRCMP_EQUAL("WATCHDOG=1", std::string(buf, static_cast<std::size_t>(got)).c_str());
  ::unlink(path.c_str());
}

TEST(SdNotify, WithoutNotifySocketNothingIsSent) {
  firmware::SdNotify n = firmware::SdNotify::from_environment();
  CHECK_FALSE(n.enabled());
  CHECK_FALSE(n.send("READY=1"));
  CHECK_FALSE(n.watchdog_interval().has_value());
}

TEST(SdNotify, WatchdogIsPingedAtHalfTheTimeoutAndOnlyForUs) {
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  auto n = firmware::SdNotify::from_environment();
  CHECK_TRUE(n.watchdog_interval().has_value());
  LONGS_EQUAL(1500, n.watchdog_interval()->count());
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  CHECK_FALSE(firmware::SdNotify::from_environment().watchdog_interval().has_value());
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  CHECK_TRUE(firmware::SdNotify::from_environment().watchdog_interval().has_value());
}
