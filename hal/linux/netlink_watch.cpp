// SPDX-License-Identifier: Apache-2.0
#include "hal/linux/netlink_watch.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hal::linux_netlink {
namespace {

// Copies a T out of the buffer: the input may be unaligned (a fuzzer's, a test's), so nothing
// is read through a cast pointer.
template <typename T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Attribute walk (RTA_OK / RTA_NEXT semantics, alignment-safe): calls fn(type, payload, size)
// for every complete attribute; stops at the first one that does not fit.
template <typename Fn>
void each_attr(const unsigned char* p, std::size_t len, Fn fn) {
  while (len >= sizeof(rtattr)) {
    const auto a = load<rtattr>(p);
    if (a.rta_len < sizeof(rtattr) || a.rta_len > len) {
      return;
    }
    fn(static_cast<unsigned>(a.rta_type), p + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0));
    const std::size_t step = RTA_ALIGN(a.rta_len);
    if (step >= len) {
      return;
    }
    p += step;
    len -= step;
  }
}

// One message's payload (after the nlmsghdr). Returns the reason it counts, "" if it does not,
// nullptr-equivalent through `malformed` when the payload is too short for its fixed part.
std::string classify(std::uint16_t type, const unsigned char* p, std::size_t len, bool& malformed) {
  switch (type) {
    case RTM_NEWLINK: {
      if (len < sizeof(ifinfomsg)) {
        malformed = true;
        return {};
      }
      const auto ifi = load<ifinfomsg>(p);
      const unsigned up = IFF_UP | IFF_RUNNING;
      if ((ifi.ifi_flags & IFF_LOOPBACK) != 0 || (ifi.ifi_flags & up) != up) {
        return {};
      }
      bool wireless = false;
      const std::size_t off = NLMSG_ALIGN(sizeof(ifinfomsg));
      if (len > off) {
        each_attr(p + off, len - off, [&](unsigned t, const unsigned char*, std::size_t) {
          wireless = wireless || t == IFLA_WIRELESS;
        });
      }
      return wireless ? std::string() : "link " + std::to_string(ifi.ifi_index) + " up";
    }
    case RTM_NEWADDR: {
      if (len < sizeof(ifaddrmsg)) {
        malformed = true;
        return {};
      }
      const auto ifa = load<ifaddrmsg>(p);
      if (ifa.ifa_scope == RT_SCOPE_HOST || (ifa.ifa_flags & IFA_F_TENTATIVE) != 0) {
        return {};
      }
      std::uint32_t flags = ifa.ifa_flags;
      const std::size_t off = NLMSG_ALIGN(sizeof(ifaddrmsg));
      if (len > off) {
        each_attr(p + off, len - off, [&](unsigned t, const unsigned char* v, std::size_t n) {
          if (t == IFA_FLAGS && n >= sizeof(std::uint32_t)) {
            flags = load<std::uint32_t>(v);
          }
        });
      }
      if ((flags & IFA_F_TENTATIVE) != 0) {
        return {};
      }
      return "address on " + std::to_string(ifa.ifa_index);
    }
    case RTM_NEWROUTE: {
      if (len < sizeof(rtmsg)) {
        malformed = true;
        return {};
      }
      const auto rt = load<rtmsg>(p);
      std::uint32_t table = rt.rtm_table;
      const std::size_t off = NLMSG_ALIGN(sizeof(rtmsg));
      if (len > off) {
        each_attr(p + off, len - off, [&](unsigned t, const unsigned char* v, std::size_t n) {
          if (t == RTA_TABLE && n >= sizeof(std::uint32_t)) {
            table = load<std::uint32_t>(v);
          }
        });
      }
      if (rt.rtm_type != RTN_UNICAST || rt.rtm_scope == RT_SCOPE_HOST || table == RT_TABLE_LOCAL ||
          (rt.rtm_flags & RTM_F_CLONED) != 0) {
        return {};
      }
      return rt.rtm_dst_len == 0 ? "default route" : "route";
    }
    default:
      return {};  // DEL messages, NLMSG_DONE/ERROR/NOOP and anything else
  }
}

}  // namespace

std::string NetChange::reason() const {
  if (!first_reason.empty()) {
    return first_reason;
  }
  return lost ? "netlink messages lost" : std::string();
}

void classify_netlink(const void* data, std::size_t len, NetChange& out) {
  const auto* p = static_cast<const unsigned char*>(data);
  if (p == nullptr) {
    return;
  }
  // The walk of NLMSG_OK / NLMSG_NEXT, with sizes kept unsigned and every read bounded.
  while (len > 0) {
    if (len < sizeof(nlmsghdr)) {
      out.truncated = true;
      return;
    }
    const auto h = load<nlmsghdr>(p);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len) {
      out.truncated = true;  // a length that lies: nothing after it can be trusted
      return;
    }
    ++out.messages;
    if (h.nlmsg_type == NLMSG_OVERRUN) {
      out.lost = true;
    } else {
      bool malformed = false;
      std::string why = classify(h.nlmsg_type, p + NLMSG_HDRLEN,
                                 h.nlmsg_len > NLMSG_HDRLEN ? h.nlmsg_len - NLMSG_HDRLEN : 0, malformed);
      if (malformed) {
        ++out.malformed;
      } else if (!why.empty()) {
        if (out.relevant++ == 0) {
          out.first_reason = std::move(why);
        }
      }
    }
    const std::size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= len) {
      return;
    }
    p += step;
    len -= step;
  }
}

hal::Result<NetlinkWatch> NetlinkWatch::open() {
  hal::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) {
    return hal::errno_error(hal::Errc::io, "network watch: socket(AF_NETLINK, NETLINK_ROUTE)", errno);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups =
      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    return hal::errno_error(hal::Errc::io, "network watch: bind to the link/address/route groups", errno);
  }
  return NetlinkWatch(std::move(fd));
}

NetChange NetlinkWatch::drain() {
  NetChange out;
  alignas(nlmsghdr) unsigned char buf[32768];
  for (int i = 0; i < kMaxReadsPerDrain; ++i) {
    sockaddr_nl from{};
    iovec iov{buf, sizeof buf};
    msghdr m{};
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    const ssize_t r = ::recvmsg(fd_.get(), &m, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == ENOBUFS) {
        out.lost = true;  // the kernel dropped some: they might have said "came back"
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        out.error = std::string("network watch: recvmsg: ") + std::strerror(errno);
      }
      return out;
    }
    if (r == 0) {
      return out;
    }
    if (m.msg_namelen < sizeof from || from.nl_pid != 0) {
      continue;  // not from the kernel
    }
    if ((m.msg_flags & MSG_TRUNC) != 0) {
      out.lost = true;
    }
    classify_netlink(buf, static_cast<std::size_t>(r), out);
  }
  return out;
}

}  // namespace hal::linux_netlink
