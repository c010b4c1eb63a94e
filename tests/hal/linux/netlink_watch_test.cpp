// SPDX-License-Identifier: Apache-2.0
// classify_netlink: hand-built rtnetlink datagrams (link, address, route; NEW and DEL; loopback,
// host scope, tentative, wireless events), several in one datagram (one summary), and
// truncated or lying lengths at every byte (never a read past the end, never a "came back"
// from garbage). NetlinkWatch: the socket opens, is quiet while nothing changes, and reports
// a real change (a veth brought up in a fresh network namespace, where allowed).
#include "hal/linux/netlink_watch.hpp"

#include <CppUTest/TestHarness.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

using hal::linux_netlink::classify_netlink;
using hal::linux_netlink::NetChange;

namespace {

using Bytes = std::vector<unsigned char>;

void put(Bytes& b, const void* p, std::size_t n) {
  const auto* c = static_cast<const unsigned char*>(p);
  b.insert(b.end(), c, c + n);
  b.resize(NLMSG_ALIGN(b.size()), 0);
}

void attr(Bytes& b, unsigned short type, const void* v, std::size_t n) {
  rtattr a{};
  a.rta_len = static_cast<unsigned short>(RTA_LENGTH(n));
  a.rta_type = type;
  const std::size_t at = b.size();
  b.resize(at + RTA_SPACE(n), 0);
  std::memcpy(b.data() + at, &a, sizeof a);
  std::memcpy(b.data() + at + RTA_LENGTH(0), v, n);
}

// One message: header + fixed payload + attributes, lengths filled in.
template <typename T>
Bytes message(std::uint16_t type, const T& fixed, const Bytes& attrs = {}) {
  Bytes b(NLMSG_HDRLEN, 0);
  put(b, &fixed, sizeof fixed);
  b.insert(b.end(), attrs.begin(), attrs.end());
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(b.size());
  h.nlmsg_type = type;
  std::memcpy(b.data(), &h, sizeof h);
  return b;
}

Bytes link(std::uint16_t type, unsigned flags, int index = 2) {
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = index;
  i.ifi_flags = flags;
  return message(type, i);
}

Bytes addr(std::uint16_t type, unsigned char scope, unsigned char flags = 0, int index = 2) {
  ifaddrmsg a{};
  a.ifa_family = AF_INET;
  a.ifa_prefixlen = 24;
  a.ifa_scope = scope;
  a.ifa_flags = flags;
  a.ifa_index = static_cast<unsigned>(index);
  Bytes attrs;
  const unsigned char ip[4] = {10, 0, 0, 2};
  attr(attrs, IFA_LOCAL, ip, sizeof ip);
  return message(type, a, attrs);
}

Bytes route(std::uint16_t type, unsigned char table, unsigned char rtype = RTN_UNICAST,
            unsigned char scope = RT_SCOPE_UNIVERSE) {
  rtmsg r{};
  r.rtm_family = AF_INET;
  r.rtm_table = table;
  r.rtm_type = rtype;
  r.rtm_scope = scope;
  r.rtm_protocol = RTPROT_BOOT;
  Bytes attrs;
  const std::uint32_t oif = 2;
  attr(attrs, RTA_OIF, &oif, sizeof oif);
  return message(type, r, attrs);
}

NetChange classify(const Bytes& b) {
  NetChange c;
  classify_netlink(b.data(), b.size(), c);
  return c;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

}  // namespace

TEST_GROUP(NetlinkParse){};

TEST(NetlinkParse, LinkUpAndRunningCounts) {
  NetChange c = classify(link(RTM_NEWLINK, IFF_UP | IFF_RUNNING | 0x10000 /* IFF_LOWER_UP */, 3));
  CHECK_TRUE(c.came_back());
  STRCMP_EQUAL("link 3 up", c.reason().c_str());
  CHECK_EQUAL(1u, c.messages);
}

TEST(NetlinkParse, LinkUpWithoutCarrierDownLoopbackOrDeletedDoesNot) {
  CHECK_FALSE(classify(link(RTM_NEWLINK, IFF_UP)).came_back());  // admin up, no carrier
  CHECK_FALSE(classify(link(RTM_NEWLINK, 0)).came_back());
  CHECK_FALSE(classify(link(RTM_NEWLINK, IFF_UP | IFF_RUNNING | IFF_LOOPBACK, 1)).came_back());
  CHECK_FALSE(classify(link(RTM_DELLINK, IFF_UP | IFF_RUNNING)).came_back());
}

TEST(NetlinkParse, WirelessEventsAreNotLinkChanges) {
  ifinfomsg i{};
  i.ifi_index = 4;
  i.ifi_flags = IFF_UP | IFF_RUNNING;
  Bytes attrs;
  const unsigned char ev[8] = {8, 0, 0x15, 0x8b, 0, 0, 0, 0};
  attr(attrs, IFLA_WIRELESS, ev, sizeof ev);
  CHECK_FALSE(classify(message(RTM_NEWLINK, i, attrs)).came_back());
}

TEST(NetlinkParse, NewAddressCountsUnlessHostScopedOrTentative) {
  CHECK_TRUE(classify(addr(RTM_NEWADDR, RT_SCOPE_UNIVERSE)).came_back());
  STRCMP_EQUAL("address on 2", classify(addr(RTM_NEWADDR, RT_SCOPE_UNIVERSE)).reason().c_str());
  CHECK_FALSE(classify(addr(RTM_NEWADDR, RT_SCOPE_HOST, 0, 1)).came_back());  // 127.0.0.1 on lo
  CHECK_FALSE(classify(addr(RTM_NEWADDR, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE)).came_back());
  CHECK_FALSE(classify(addr(RTM_DELADDR, RT_SCOPE_UNIVERSE)).came_back());
}

TEST(NetlinkParse, TentativeInTheFlagsAttributeToo) {
  ifaddrmsg a{};
  a.ifa_family = AF_INET6;
  a.ifa_index = 2;
  Bytes attrs;
  const std::uint32_t flags = IFA_F_TENTATIVE | IFA_F_MANAGETEMPADDR;
  attr(attrs, IFA_FLAGS, &flags, sizeof flags);
  CHECK_FALSE(classify(message(RTM_NEWADDR, a, attrs)).came_back());
}

TEST(NetlinkParse, NewUnicastRouteCountsLocalTableAndOthersDoNot) {
  NetChange c = classify(route(RTM_NEWROUTE, RT_TABLE_MAIN));
  CHECK_TRUE(c.came_back());
  STRCMP_EQUAL("default route", c.reason().c_str());
  CHECK_FALSE(classify(route(RTM_NEWROUTE, RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST)).came_back());
  CHECK_FALSE(classify(route(RTM_NEWROUTE, RT_TABLE_LOCAL)).came_back());
  CHECK_FALSE(classify(route(RTM_NEWROUTE, RT_TABLE_MAIN, RTN_BROADCAST, RT_SCOPE_LINK)).came_back());
  CHECK_FALSE(classify(route(RTM_NEWROUTE, RT_TABLE_MAIN, RTN_UNREACHABLE)).came_back());
  CHECK_FALSE(classify(route(RTM_DELROUTE, RT_TABLE_MAIN)).came_back());
}

TEST(NetlinkParse, LocalTableNamedInTheTableAttribute) {
  rtmsg r{};
  r.rtm_family = AF_INET6;
  r.rtm_table = RT_TABLE_UNSPEC;
  r.rtm_type = RTN_UNICAST;
  Bytes attrs;
  const std::uint32_t table = RT_TABLE_LOCAL;
  attr(attrs, RTA_TABLE, &table, sizeof table);
  CHECK_FALSE(classify(message(RTM_NEWROUTE, r, attrs)).came_back());
}

TEST(NetlinkParse, SeveralMessagesInOneDatagramAreOneSummary) {
  Bytes b = cat({link(RTM_DELLINK, 0), link(RTM_NEWLINK, IFF_UP | IFF_RUNNING, 5),
                 addr(RTM_NEWADDR, RT_SCOPE_UNIVERSE, 0, 5), route(RTM_NEWROUTE, RT_TABLE_MAIN)});
  NetChange c = classify(b);
  CHECK_EQUAL(4u, c.messages);
  CHECK_EQUAL(3u, c.relevant);
  STRCMP_EQUAL("link 5 up", c.reason().c_str());  // the first one names it
  CHECK_FALSE(c.truncated);
}

TEST(NetlinkParse, OverrunMeansLost) {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_HDRLEN;
  h.nlmsg_type = NLMSG_OVERRUN;
  Bytes b(NLMSG_HDRLEN);
  std::memcpy(b.data(), &h, sizeof h);
  NetChange c = classify(b);
  CHECK_TRUE(c.lost);
  CHECK_TRUE(c.came_back());
  STRCMP_EQUAL("netlink messages lost", c.reason().c_str());
}

TEST(NetlinkParse, EveryTruncationIsSafeAndNeverMisread) {
  // A DEL followed by a NEWLINK: every prefix shorter than the whole stops cleanly; a prefix
  // that cuts the NEWLINK never reports it.
  Bytes del = link(RTM_DELLINK, 0);
  Bytes b = cat({del, link(RTM_NEWLINK, IFF_UP | IFF_RUNNING)});
  for (std::size_t n = 0; n < b.size(); ++n) {
    Bytes prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));  // exact size: ASan sees overreads
    NetChange c = classify(prefix);
    CHECK_FALSE(c.came_back());
    CHECK_TRUE(n == 0 || n == del.size() || c.truncated);
  }
  CHECK_TRUE(classify(b).came_back());
}

TEST(NetlinkParse, PayloadShorterThanItsHeaderIsMalformed) {
  for (std::uint16_t type : {RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE}) {
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_HDRLEN + 2;  // claims a 2-byte payload: too short for any fixed part
    h.nlmsg_type = type;
    Bytes b(NLMSG_HDRLEN + 2, 0xff);
    std::memcpy(b.data(), &h, sizeof h);
    NetChange c = classify(b);
    CHECK_FALSE(c.came_back());
    CHECK_EQUAL(1u, c.malformed);
  }
}

TEST(NetlinkParse, LyingLengthsStopTheWalk) {
  Bytes b = link(RTM_NEWLINK, IFF_UP | IFF_RUNNING);
  nlmsghdr h{};
  std::memcpy(&h, b.data(), sizeof h);
  for (std::uint32_t len : {0u, 1u, 15u, static_cast<std::uint32_t>(b.size() + 1), 0xffffffffu}) {
    h.nlmsg_len = len;
    std::memcpy(b.data(), &h, sizeof h);
    NetChange c = classify(b);
    CHECK_FALSE(c.came_back());
    CHECK_TRUE(c.truncated);
  }
}

TEST(NetlinkParse, BrokenAttributesAreIgnoredNotFollowed) {
  ifaddrmsg a{};
  a.ifa_family = AF_INET;
  a.ifa_index = 2;
  Bytes attrs(8, 0);
  rtattr bad{};
  bad.rta_len = 0xfff0;  // far past the message
  bad.rta_type = IFA_FLAGS;
  std::memcpy(attrs.data(), &bad, sizeof bad);
  CHECK_TRUE(classify(message(RTM_NEWADDR, a, attrs)).came_back());  // fixed part decides
}

TEST(NetlinkParse, UnalignedAndGarbageBuffers) {
  Bytes b = cat({{0}, link(RTM_NEWLINK, IFF_UP | IFF_RUNNING)});
  NetChange c;
  classify_netlink(b.data() + 1, b.size() - 1, c);  // unaligned start
  CHECK_TRUE(c.came_back());
  unsigned seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    Bytes g(static_cast<std::size_t>(rand_r(&seed) % 200));
    for (auto& x : g) {
      x = static_cast<unsigned char>(rand_r(&seed));
    }
    NetChange r;
    classify_netlink(g.data(), g.size(), r);  // must simply return
  }
  NetChange none;
  classify_netlink(nullptr, 10, none);
  CHECK_EQUAL(0u, none.messages);
}

TEST_GROUP(NetlinkWatchKernel){};

TEST(NetlinkWatchKernel, OpensAndIsQuietWhileNothingChanges) {
  auto w = hal::linux_netlink::NetlinkWatch::open();
  CHECK_TRUE_TEXT(w.ok(), w.ok() ? "" : w.error().what.c_str());
  pollfd p{w->fd(), POLLIN, 0};
  // Nothing is asked of the kernel: the socket stays silent unless the host's network changes.
  (void)::poll(&p, 1, 50);
  NetChange c = w->drain();
  CHECK_TRUE(c.error.empty());
}

// In a private network namespace (root only; skipped elsewhere): a veth brought up
// with an address and a route is seen; taking it down is not "came back".
TEST(NetlinkWatchKernel, SeesALinkComingUpInAFreshNamespace) {
  if (::geteuid() != 0 || std::system("command -v ip >/dev/null 2>&1") != 0) {
    return;  // needs CAP_SYS_ADMIN for unshare(CLONE_NEWNET) and iproute2
  }
  pid_t pid = ::fork();
  CHECK_TRUE(pid >= 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0 ||
        std::system("ip link add nlw0 type veth peer name nlw1 && ip link set nlw1 up") != 0) {
      ::_exit(77);  // no namespaces or no veth here
    }
    auto w = hal::linux_netlink::NetlinkWatch::open();
    if (!w.ok()) {
      ::_exit(2);
    }
    (void)w->drain();
    if (std::system("ip link set nlw0 down") != 0) {
      ::_exit(3);
    }
    if (w->drain().came_back()) {
      ::_exit(4);  // down is not "came back"
    }
    if (std::system("ip link set nlw0 up && ip addr add 10.99.0.2/24 dev nlw0") != 0) {
      ::_exit(5);
    }
    pollfd p{w->fd(), POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) {
      ::_exit(6);
    }
    NetChange c = w->drain();
    ::_exit(c.came_back() && c.messages >= 2 ? 0 : 7);
  }
  int status = 0;
  CHECK_EQUAL(pid, ::waitpid(pid, &status, 0));
  CHECK_TRUE(WIFEXITED(status));
  const int code = WEXITSTATUS(status);
  CHECK_TRUE_TEXT(code == 0 || code == 77, ("child exit " + std::to_string(code)).c_str());
}
