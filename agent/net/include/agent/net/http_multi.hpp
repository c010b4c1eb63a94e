// SPDX-License-Identifier: Apache-2.0
// HttpMulti: one libcurl multi handle and the transfers running on it, for a single-threaded
// event loop. add() never blocks; perform() advances every transfer and runs the completion
// callback of each finished one (callbacks may add() new transfers). Connections are kept in
// the multi's cache and reused (keep-alive) across requests to the same host: at most one
// per host (HTTP/2 multiplexed where ALPN offers it), TLS sessions resumed across
// reconnects through a curl share handle.
//
// Loop integration: either call wait() (curl_multi_poll with the caller's extra fds, e.g.
// scanner and GPIO fds) or put multi() into your own poll via curl_multi_fdset/socket
// callbacks; then perform(). timeout() is how long the loop may sleep.
// Idle costs nothing: wait(fds, kForever) with no transfer running is a plain poll(2) on the
// caller's fds with no timeout (curl_multi_poll takes no infinite timeout), so a daemon with
// nothing to send sleeps in the kernel until one of its own fds is ready.
// Transfers use CURLOPT_NOSIGNAL (no alarm-based DNS timeouts in a daemon), so the process
// must ignore SIGPIPE (firmware/cli/main.cpp does).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "agent/net/curl.hpp"
#include "hal/result.hpp"

namespace agent {

class HttpMulti {
 public:
  // Called once with the finished easy handle (still valid during the call) and its result.
  using Done = std::function<void(CURL* easy, CURLcode result)>;
  // For timeout() caps and wait(): no deadline at all.
  static constexpr std::chrono::milliseconds kForever = std::chrono::milliseconds::max();

  HttpMulti();
  ~HttpMulti();
  HttpMulti(const HttpMulti&) = delete;
  HttpMulti& operator=(const HttpMulti&) = delete;

  hal::Status add(CurlEasy easy, Done done);
  void perform();
  // Time until libcurl needs perform() again, capped at `cap`; 0 = now.
  std::chrono::milliseconds timeout(std::chrono::milliseconds cap) const;
  // Sleeps in curl_multi_poll until a transfer or one of `extra_fds` is ready, max `max_wait`
  // (kForever: no limit; then, with no transfer running, poll(2) on `extra_fds` alone).
  hal::Status wait(std::vector<curl_waitfd>& extra_fds, std::chrono::milliseconds max_wait);
  std::size_t active() const { return transfers_.size(); }
  // New connections opened by finished transfers so far (CURLINFO_NUM_CONNECTS): with
  // keep-alive working, far fewer than the number of requests.
  std::uint64_t connections_opened() const { return connections_opened_; }
  CURLM* get() const { return multi_.get(); }

 private:
  hal::Status wait_forever(std::vector<curl_waitfd>& extra_fds);
  struct Transfer {
    CurlEasy easy;
    Done done;
  };
  CurlMulti multi_;
  CurlShare share_;  // SSL sessions and DNS, for every transfer on this multi
  std::map<CURL*, Transfer> transfers_;
  std::uint64_t connections_opened_ = 0;
};

}  // namespace agent
