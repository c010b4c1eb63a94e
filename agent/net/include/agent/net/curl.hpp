// SPDX-License-Identifier: Apache-2.0
// RAII handles for libcurl: an easy handle, a multi handle and a header list. Only net/ links
// libcurl; every other stage talks to ION through the GraphqlClient interface.
#pragma once

#include <curl/curl.h>

#include "hal/c_handle.hpp"

namespace agent {

namespace detail {
inline void curl_multi_free(CURLM* m) noexcept {
  curl_multi_cleanup(m);
}
inline void curl_share_free(CURLSH* s) noexcept {
  curl_share_cleanup(s);
}
}  // namespace detail

using CurlEasy = hal::CHandle<CURL, curl_easy_cleanup>;
using CurlMulti = hal::CHandle<CURLM, detail::curl_multi_free>;
using CurlShare = hal::CHandle<CURLSH, detail::curl_share_free>;
using CurlSlist = hal::CHandle<curl_slist, curl_slist_free_all>;

}  // namespace agent
