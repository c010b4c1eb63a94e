// SPDX-License-Identifier: Apache-2.0
// HttpSettings: the transport policy every ION request follows, applied to a libcurl easy
// handle in one place (configure_easy) so no caller can forget a security option:
//  - TLS peer and host verification always on; CA bundle file and/or directory configurable;
//    optional public-key pin (CURLOPT_PINNEDPUBLICKEY, "sha256//<base64>;..." or a PEM/DER file).
//  - Only http and https; plain http:// only to loopback hosts (the simulator, a local proxy
//    test), because a bearer token must never cross a network in clear.
//  - Proxy: `proxy` if set ("" = libcurl's usual https_proxy/HTTPS_PROXY/no_proxy environment
//    variables, which factory networks rely on); "direct" disables proxies.
//  - Connect and total timeouts; TCP keep-alive; any compression libcurl supports (gzip).
// Times are milliseconds. No redirects are followed. There is deliberately no "verbose"
// switch: libcurl's debug output would print the Authorization header.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <string_view>

#include "agent/graphql/graphql.hpp"  // parse_retry_after
#include "hal/result.hpp"

namespace agent {

struct HttpSettings {
  std::string ca_file;            // PEM bundle; "" = libcurl's built-in default
  std::string ca_path;            // hashed CA directory; "" = default
  std::string pinned_public_key;  // "" = no pinning
  std::string proxy;              // "" = environment, "direct" = none, else proxy URL
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{30000};
  std::string user_agent = "ion-agent";
};

// OK for https:// URLs, and for http:// whose host is loopback (127.0.0.0/8, ::1, localhost).
hal::Status check_url_allowed(const std::string& url);

// Applies the settings and the URL; fails (without touching the network) if the URL is not
// allowed or an option is refused by this libcurl.
hal::Status configure_easy(CURL* easy, const std::string& url, const HttpSettings& s);

// A CURLOPT_HEADERFUNCTION that records a Retry-After header (delta seconds or HTTP date) into
// the std::chrono::seconds passed as CURLOPT_HEADERDATA; it stays -1 when there is none.
std::size_t capture_retry_after(char* data, std::size_t size, std::size_t n, void* seconds_out);

}  // namespace agent
