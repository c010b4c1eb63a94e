// SPDX-License-Identifier: Apache-2.0
// Fuzz target: one netlink datagram through classify_netlink (the NetlinkWatch's parser).
// Netlink payloads are input: whatever the bytes, the parser returns, reads nothing past the
// end, and counts no more messages than the buffer could hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "hal/linux/netlink_watch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size copy, so ASan catches a read one byte past the end.
  std::vector<std::uint8_t> copy(data, data + size);
  hal::linux_netlink::NetChange c;
  hal::linux_netlink::classify_netlink(copy.data(), copy.size(), c);
  if (c.messages > size / 16 || c.relevant > c.messages) {
    std::abort();
  }
  return 0;
}
