// SPDX-License-Identifier: Apache-2.0
#include "agent/net/http_multi.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace agent {

HttpMulti::HttpMulti() : multi_(curl_multi_init()), share_(curl_share_init()) {
  // One connection per host carries everything: HTTP/2 multiplexes on it (ALPN), HTTP/1.1
  // queues requests for it (a batch carries many intents, so the queue stays short), and an
  // idle station holds at most that one connection, for as long as the server keeps it.
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, 4L);
  curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  if (share_) {
    // A new connection (the server closed the last one) resumes the TLS session instead of a
    // full handshake; DNS answers are shared too. One thread: no lock callbacks needed.
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
}

HttpMulti::~HttpMulti() {
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(multi_.get(), easy);
  }
  transfers_.clear();  // the easy handles hold the share: free them before it
  multi_.reset();      // and the cached connections (which may hold SSL sessions)
}

hal::Status HttpMulti::add(CurlEasy easy, Done done) {
  if (!multi_ || !easy) {
    return hal::Error(hal::Errc::internal, "http: libcurl handle allocation failed");
  }
  CURL* raw = easy.get();
  if (share_) {
    curl_easy_setopt(raw, CURLOPT_SHARE, share_.get());
  }
  CURLMcode rc = curl_multi_add_handle(multi_.get(), raw);
  if (rc != CURLM_OK) {
    return hal::Error(hal::Errc::internal, std::string("http: add transfer: ") + curl_multi_strerror(rc));
  }
  transfers_.emplace(raw, Transfer{std::move(easy), std::move(done)});
  return {};
}

void HttpMulti::perform() {
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
  // Collect first, call back after: a callback may add transfers (401 → renew → retry).
  std::vector<std::pair<CURL*, CURLcode>> finished;
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
    if (m->msg == CURLMSG_DONE) {
      finished.emplace_back(m->easy_handle, m->data.result);
    }
  }
  for (auto [easy, result] : finished) {
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) {
      continue;
    }
    long opened = 0;
    if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0) {
      connections_opened_ += static_cast<std::uint64_t>(opened);
    }
    curl_multi_remove_handle(multi_.get(), easy);
    Transfer t = std::move(it->second);
    transfers_.erase(it);
    if (t.done) {
      t.done(easy, result);
    }
  }
}

std::chrono::milliseconds HttpMulti::timeout(std::chrono::milliseconds cap) const {
  long ms = -1;
  curl_multi_timeout(multi_.get(), &ms);
  if (ms < 0) {
    return cap;
  }
  return std::min(cap, std::chrono::milliseconds(ms));
}

hal::Status HttpMulti::wait(std::vector<curl_waitfd>& extra_fds, std::chrono::milliseconds max_wait) {
  if (max_wait == kForever && transfers_.empty()) {
    return wait_forever(extra_fds);
  }
  int numfds = 0;
  auto ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(max_wait.count(), 0, INT_MAX));
  CURLMcode rc = curl_multi_poll(multi_.get(), extra_fds.empty() ? nullptr : extra_fds.data(),
                                 static_cast<unsigned>(extra_fds.size()), ms, &numfds);
  if (rc != CURLM_OK) {
    return hal::Error(hal::Errc::io, std::string("http: poll: ") + curl_multi_strerror(rc));
  }
  return {};
}

hal::Status HttpMulti::wait_forever(std::vector<curl_waitfd>& extra_fds) {
  std::vector<pollfd> p;
  p.reserve(extra_fds.size());
  for (const auto& f : extra_fds) {
    short ev = static_cast<short>(((f.events & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                                  ((f.events & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
                                  ((f.events & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
    p.push_back({f.fd, ev, 0});
  }
  int n = ::poll(p.data(), p.size(), -1);
  if (n < 0 && errno != EINTR) {
    return hal::errno_error(hal::Errc::io, "http: poll", errno);
  }
  for (std::size_t i = 0; i < p.size(); ++i) {
    // As curl_multi_poll reports it: hangups and errors count as readable.
    short r = n > 0 ? p[i].revents : 0;
    extra_fds[i].revents = static_cast<unsigned short>(
        ((r & (POLLIN | POLLHUP | POLLERR)) ? CURL_WAIT_POLLIN : 0) |
        ((r & POLLPRI) ? CURL_WAIT_POLLPRI : 0) | ((r & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
  }
  return {};
}

}  // namespace agent
