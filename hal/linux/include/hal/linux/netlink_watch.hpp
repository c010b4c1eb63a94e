// SPDX-License-Identifier: Apache-2.0
// NetlinkWatch: the kernel's routing socket (AF_NETLINK / NETLINK_ROUTE), subscribed to link,
// IPv4/IPv6 address and IPv4/IPv6 route changes, so that the daemon learns at once that the
// network may be back (a cable plugged in, DHCP handing out an address, a default route
// appearing) instead of waiting out its delivery backoff. The fd is readable only when the
// kernel reports a change: an idle station on a quiet network is not woken.
//
// classify_netlink() is the parser: a pure function over the bytes of one datagram, robust
// to truncated and garbage input (netlink payloads are input; it never reads past `len`, never
// assumes alignment and never throws). What counts as "came back":
//   - RTM_NEWLINK of a non-loopback interface that is IFF_UP and IFF_RUNNING (lower up),
//     except wireless events (IFLA_WIRELESS), which say nothing about the link;
//   - RTM_NEWADDR that is not host-scoped (127.0.0.0/8, ::1) and not tentative (IPv6 DAD);
//   - RTM_NEWROUTE of a unicast route outside the local table (not host-scoped, not cloned).
// DEL messages, loopback and everything else are ignored. NLMSG_OVERRUN counts as a change.
//
// drain() reads every pending datagram (at most kMaxReadsPerDrain per call, so a flood cannot
// hold the loop; the rest stays readable for the next pass). ENOBUFS (the kernel dropped
// messages because we read too slowly) and MSG_TRUNC count as "something changed": what was
// lost might have been the link coming back. Datagrams not sent by the kernel are ignored.
// Loop thread only; never blocks or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "hal/c_handle.hpp"
#include "hal/result.hpp"

namespace hal::linux_netlink {

// What one or more datagrams said (classify_netlink adds to it; drain() returns one per call).
struct NetChange {
  std::size_t messages = 0;   // complete netlink messages walked
  std::size_t relevant = 0;   // of which said "came back"
  std::size_t malformed = 0;  // messages too short for their header or payload (ignored)
  bool truncated = false;     // a datagram ended inside a message (the rest was ignored)
  bool lost = false;          // ENOBUFS, MSG_TRUNC or NLMSG_OVERRUN: messages were lost
  std::string first_reason;   // the first "came back" message, e.g. "link 3 up", "address on 2"
  std::string error;          // a read failed unexpectedly ("" if not)

  // Worth a probe: something came back, or messages were lost (it might have).
  bool came_back() const { return relevant > 0 || lost; }
  std::string reason() const;  // first_reason, or "messages lost" / "" when nothing
};

// Walks one datagram's messages (NLMSG_ALIGN'ed, as NLMSG_OK/NLMSG_NEXT would) into `out`.
void classify_netlink(const void* data, std::size_t len, NetChange& out);

class NetlinkWatch {
 public:
  static constexpr int kMaxReadsPerDrain = 64;

  // Opens and binds the socket (SOCK_NONBLOCK | SOCK_CLOEXEC). Errors name the call and errno.
  static hal::Result<NetlinkWatch> open();

  int fd() const { return fd_.get(); }
  NetChange drain();

 private:
  explicit NetlinkWatch(hal::UniqueFd fd) : fd_(std::move(fd)) {}
  hal::UniqueFd fd_;
};

}  // namespace hal::linux_netlink
