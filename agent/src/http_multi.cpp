// SPDX-License-Identifier: Apache-2.0
#include "agent/http_multi.hpp"

#include <algorithm>

namespace agent {

HttpMulti::HttpMulti() : multi_(curl_multi_init()) {
  // Reuse connections; a handful is plenty for one station talking to one API host.
  curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, 8L);
}

HttpMulti::~HttpMulti() {
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(multi_.get(), easy);
  }
}

hal::Status HttpMulti::add(CurlEasy easy, Done done) {
  if (!multi_ || !easy) {
    return hal::Error(hal::Errc::internal, "http: libcurl handle allocation failed");
  }
  CURL* raw = easy.get();
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
  int numfds = 0;
  auto ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, max_wait.count()));
  CURLMcode rc = curl_multi_poll(multi_.get(), extra_fds.empty() ? nullptr : extra_fds.data(),
                                 static_cast<unsigned>(extra_fds.size()), ms, &numfds);
  if (rc != CURLM_OK) {
    return hal::Error(hal::Errc::io, std::string("http: poll: ") + curl_multi_strerror(rc));
  }
  return {};
}

}  // namespace agent
