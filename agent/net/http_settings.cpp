// SPDX-License-Identifier: Apache-2.0
#include "agent/net/http_settings.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "agent/net/curl.hpp"

namespace agent {
namespace {

using CurlUrl = hal::CHandle<CURLU, curl_url_cleanup>;

// Literal loopback addresses only (and "localhost", which resolvers map to them); a name such
// as "127.0.0.1.example.com" is not loopback.
bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") {
    return true;
  }
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

hal::Status setopt_ok(CURLcode rc, const char* what) {
  if (rc != CURLE_OK) {
    return hal::Error(hal::Errc::config, std::string("http: set ") + what + ": " + curl_easy_strerror(rc));
  }
  return {};
}

}  // namespace

hal::Status check_url_allowed(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return hal::Error(hal::Errc::config, "http: '" + url + "' is not a valid URL");
  }
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  std::string sch = scheme != nullptr ? scheme : "";
  std::string h = host != nullptr ? host : "";
  curl_free(scheme);
  curl_free(host);
  if (sch == "https") {
    return {};
  }
  if (sch == "http" && is_loopback(h)) {
    return {};
  }
  if (sch == "http") {
    return hal::Error(hal::Errc::security,
                      "http: refusing plain http:// to " + h +
                          ": the API key and tokens would travel in clear (use https://)");
  }
  return hal::Error(hal::Errc::config, "http: unsupported scheme '" + sch + "' in " + url);
}

hal::Status configure_easy(CURL* e, const std::string& url, const HttpSettings& s) {
  ION_TRY(check_url_allowed(url), "http");
  ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_URL, url.c_str()), "url"), "http");
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: CURLOPT_PROTOCOLS is deprecated
  ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"), "protocols"), "http");
#else
  ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS), "protocols"),
          "http");
#endif
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  // Verification is never configurable off: a factory proxy that intercepts TLS must have its
  // CA added to ca_file instead.
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!s.ca_file.empty()) {
    ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_CAINFO, s.ca_file.c_str()), "CA file"), "http");
    if (s.ca_path.empty()) {
      // A configured bundle is the whole trust store, not merged with the build's default CA
      // directory; that also lets libcurl (OpenSSL, >= 7.87) parse it once per process and
      // cache it (CURLOPT_CA_CACHE_TIMEOUT) instead of once per connection.
      curl_easy_setopt(e, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    }
  }
  if (!s.ca_path.empty()) {
    ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_CAPATH, s.ca_path.c_str()), "CA directory"), "http");
  }
  if (!s.pinned_public_key.empty()) {
    ION_TRY(
        setopt_ok(curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, s.pinned_public_key.c_str()), "pinned key"),
        "http");
  }
  if (s.proxy == "direct") {
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  } else if (!s.proxy.empty()) {
    ION_TRY(setopt_ok(curl_easy_setopt(e, CURLOPT_PROXY, s.proxy.c_str()), "proxy"), "http");
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(s.total_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  // HTTP/2 where the server offers it in ALPN (a libcurl without nghttp2 refuses the option
  // and speaks HTTP/1.1); wait for the one connection's multiplexing rather than opening a
  // second connection.
  (void)curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700  // 7.87
  curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 24L * 3600);
#endif
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this libcurl decodes (gzip ...)
  curl_easy_setopt(e, CURLOPT_USERAGENT, s.user_agent.c_str());
  return {};
}

std::size_t capture_retry_after(char* data, std::size_t size, std::size_t n, void* seconds_out) {
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    *static_cast<std::chrono::seconds*>(seconds_out) = std::chrono::seconds(-1);  // a new response begins
  }
  parse_retry_after(line, *static_cast<std::chrono::seconds*>(seconds_out));
  return size * n;
}

}  // namespace agent
