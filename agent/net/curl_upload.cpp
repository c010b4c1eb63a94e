// SPDX-License-Identifier: Apache-2.0
// CurlGraphqlClient::upload: a file PUT to a storage URL, streamed from disk.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/net/curl_graphql_client.hpp"
#include "hal/c_handle.hpp"
#include "hal/log.hpp"

namespace agent {
namespace {

constexpr std::size_t kMaxReply = 4096;  // storage's answer is small (XML/JSON error or empty)

// The URL without its query: a presigned URL's query is the credential; never log it.
std::string redacted(const std::string& url) {
  return url.substr(0, url.find('?'));
}

}  // namespace

struct CurlGraphqlClient::Upload {
  hal::UniqueFd fd;
  std::uint64_t size = 0;
  std::uint64_t sent = 0;
  bool read_failed = false;
  std::string reply;
  CurlSlist headers;
  UploadCallback done;
  std::string where;

  static std::size_t read(char* buf, std::size_t size, std::size_t n, void* user) {
    auto* u = static_cast<Upload*>(user);
    for (;;) {
      ssize_t k = ::read(u->fd.get(), buf, size * n);
      if (k < 0 && errno == EINTR) {
        continue;
      }
      if (k < 0 || (k == 0 && u->sent < u->size) || u->sent + static_cast<std::uint64_t>(k) > u->size) {
        u->read_failed = true;
        return CURL_READFUNC_ABORT;
      }
      u->sent += static_cast<std::uint64_t>(k);
      return static_cast<std::size_t>(k);
    }
  }
  // libcurl rewinds when it sends the body again (a reused connection found dead): a PUT of
  // the same bytes is harmless, so allow it.
  static int seek(void* user, curl_off_t offset, int origin) {
    auto* u = static_cast<Upload*>(user);
    if (origin != SEEK_SET || ::lseek(u->fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    u->sent = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
  }
  static std::size_t write(char* p, std::size_t size, std::size_t n, void* user) {
    auto* u = static_cast<Upload*>(user);
    std::size_t k = size * n;
    u->reply.append(p, std::min(k, kMaxReply - std::min(kMaxReply, u->reply.size())));
    return k;
  }
};

void CurlGraphqlClient::upload(UploadRequest request, UploadCallback done) {
  auto u = std::make_shared<Upload>();
  u->done = std::move(done);
  u->size = request.size;
  u->where = "upload " + redacted(request.url);
  auto fail_now = [&](UploadResponse::Outcome o, const std::string& why) {
    UploadResponse r;
    r.outcome = o;
    r.message = u->where + ": " + why;
    ready_uploads_.emplace_back(std::move(u->done), std::move(r));
  };
  u->fd.reset(::open(request.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!u->fd.valid() || ::fstat(u->fd.get(), &st) != 0) {
    fail_now(UploadResponse::Outcome::file_error, request.file + ": " + std::strerror(errno));
    return;
  }
  if (static_cast<std::uint64_t>(st.st_size) != request.size) {
    fail_now(UploadResponse::Outcome::file_error, request.file + ": holds " + std::to_string(st.st_size) +
                                                      " bytes, expected " + std::to_string(request.size));
    return;
  }
  CurlEasy easy(curl_easy_init());
  HttpSettings s = http_;
  s.pinned_public_key.clear();
  s.total_timeout = std::chrono::milliseconds(0);
  hal::Status ok = easy ? configure_easy(easy.get(), request.url, s)
                        : hal::Status(hal::Error(hal::Errc::internal, "curl_easy_init failed"));
  if (!ok.ok()) {
    fail_now(UploadResponse::Outcome::refused, ok.error().what);
    return;
  }
  CURL* e = easy.get();
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
  // Cut a transfer that stalls (a dead link mid-PUT) after the profile's request timeout.
  long stall_s = std::max<long>(1, static_cast<long>(http_.total_timeout.count() / 1000));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_s);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.size));
  curl_easy_setopt(e, CURLOPT_READFUNCTION, &Upload::read);
  curl_easy_setopt(e, CURLOPT_READDATA, u.get());
  curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &Upload::seek);
  curl_easy_setopt(e, CURLOPT_SEEKDATA, u.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Upload::write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, u.get());
  const std::string type = "Content-Type: " + request.content_type;
  u->headers.reset(curl_slist_append(nullptr, type.c_str()));
  u->headers.reset(curl_slist_append(u->headers.release(), "Expect:"));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, u->headers.get());
  std::weak_ptr<bool> alive = alive_;
  auto added = multi_.add(std::move(easy), [this, alive, u](CURL* h, CURLcode rc) {
    auto a = alive.lock();
    if (!a || !*a) {
      return;
    }
    --uploads_active_;
    UploadResponse r;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.http_status);
    if (u->read_failed) {
      r.outcome = UploadResponse::Outcome::file_error;
      r.message = u->where + ": the local file could not be read to its end";
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
      r.outcome = UploadResponse::Outcome::timeout;
      r.message = u->where + ": " + curl_easy_strerror(rc);
    } else if (rc != CURLE_OK) {
      r.outcome = UploadResponse::Outcome::network;
      r.message = u->where + ": " + curl_easy_strerror(rc) + " after " + std::to_string(u->sent) + " of " +
                  std::to_string(u->size) + " bytes";
    } else if (r.http_status >= 200 && r.http_status < 300) {
      r.outcome = UploadResponse::Outcome::ok;
      r.message = u->where + ": HTTP " + std::to_string(r.http_status);
    } else {
      r.outcome =
          r.http_status >= 500 ? UploadResponse::Outcome::server_error : UploadResponse::Outcome::refused;
      std::string body = u->reply.substr(0, 200);
      for (char& c : body) {
        c = (c == '\n' || c == '\r' || static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
      }
      r.message = u->where + ": HTTP " + std::to_string(r.http_status) + (body.empty() ? "" : ": " + body);
    }
    hal::log::debug("upload", r.message);
    ready_uploads_.emplace_back(std::move(u->done), std::move(r));
  });
  if (!added.ok()) {
    fail_now(UploadResponse::Outcome::network, added.error().what);
    return;
  }
  ++uploads_active_;
  ++uploads_;
}

}  // namespace agent
