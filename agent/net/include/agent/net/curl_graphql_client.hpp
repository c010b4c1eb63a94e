// SPDX-License-Identifier: Apache-2.0
// CurlGraphqlClient: the GraphqlClient over libcurl's multi interface, with its TokenManager.
// Single-threaded and non-blocking: submit() only queues; the owner's loop drives transfers
// with perform() (which also runs completion callbacks and token renewals) and sleeps in
// wait() / curl_multi_poll on multi() for at most timeout(). CLI commands use
// run_until_idle(). The token is renewed ahead of expiry only while requests are queued or
// running: an idle client has no deadline and fetches a fresh token with its next request.
//
// Each request: POST <api_url>/graphql, JSON {"query","variables"[,"operationName"]} built
// with cJSON, `Authorization: Bearer <token>`. Classification (content first, status second):
//   transport error → network / timeout (tls_failure set for certificate/pin problems);
//   "Etag does not match" / CONCURRENCY_ERROR anywhere in errors[] (or HTTP 409) → concurrency;
//   401, or an UNAUTHORIZED error → token renewed once and the request retried once, then
//   unauthorized (with ION's message, e.g. "Unable to find appropriate RSA key");
//   429 → rate_limited with retry_after from Retry-After; 5xx → server_error;
//   other non-2xx → http_status; errors[] → graphql_errors; bad JSON → malformed; else ok.
// If no token can be had, requests complete with the token failure's outcome
// (credentials / network / timeout / server_error ...) and token_stage = true.
//
// On the wire (DESIGN.md "On the wire"): submit() only queues; the requests submitted in one
// turn of the loop leave together at the next perform()/wait(), queries in one aliased
// document and mutations in another (agent/graphql/batch.hpp), at most `batch_max` requests
// each. Every member gets its own response, classified as if it had been sent alone;
// a batch ION refuses (no data, only errors) is sent again one request at a time; a mutation
// batch answered with `data: null` (or an error naming no member) completes every member as
// `network` ("in doubt"), so each op looks before it acts again. One kept-alive connection
// (HTTP/2 where ALPN offers it) carries everything; mutation bodies cannot be rewound, so
// libcurl's silent resend on a dead reused connection fails (CURLE_SEND_FAIL_REWIND →
// network, in doubt) instead of applying a mutation twice.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/crypto/secret.hpp"
#include "agent/graphql/batch.hpp"
#include "agent/graphql/graphql.hpp"
#include "agent/net/http_multi.hpp"
#include "agent/net/http_settings.hpp"
#include "agent/net/token_manager.hpp"
#include "hal/clock.hpp"

namespace agent {

struct GraphqlClientOptions {
  std::string api_url;    // API base; requests go to api_url + "/graphql"
  std::string token_url;  // token endpoint
  std::string client_id;
  Secret client_secret;
  HttpSettings http;
  TokenPolicy token_policy;
  // Cap for timeout(); HttpMulti::kForever lets an idle client sleep without any deadline.
  std::chrono::milliseconds max_idle_wait{1000};
  // Requests per batched document (each aliased); 1 = every request on its own.
  std::size_t batch_max = 25;
};

class CurlGraphqlClient final : public GraphqlClient {
 public:
  // Validates the URLs (https, or http to loopback). The clock must outlive the client.
  static hal::Result<std::unique_ptr<CurlGraphqlClient>> create(GraphqlClientOptions options,
                                                                const hal::Clock& clock);
  ~CurlGraphqlClient() override;

  void submit(GraphqlRequest request, Callback done) override;
  // PUT of a file to a storage URL (curl_upload.cpp): streamed from disk through libcurl's
  // read callback (memory: libcurl's 64 KiB upload buffer, whatever the file's size), on the
  // same multi handle and loop as the GraphQL requests, with the same TLS policy except the
  // public-key pin (a pin is ION's API key; storage is another host). No total timeout: a
  // transfer that moves less than 1 byte/s for the profile's timeout is cut (timeout).
  void upload(UploadRequest request, UploadCallback done) override;
  std::size_t in_flight() const override;
  std::uint64_t uploads_sent() const { return uploads_; }

  CURLM* multi() const { return multi_.get(); }
  void perform();
  std::chrono::milliseconds timeout() const;
  hal::Status wait(std::vector<curl_waitfd>& extra_fds, std::chrono::milliseconds max_wait);
  // Drives everything until nothing is queued or in flight; false if `limit` passed first.
  bool run_until_idle(std::chrono::milliseconds limit);

  TokenStatus token_status() const { return tokens_.status(); }
  TokenManager& tokens() { return tokens_; }
  std::uint64_t connections_opened() const { return multi_.connections_opened(); }
  std::uint64_t requests_sent() const { return requests_; }  // HTTP requests to /graphql
  std::uint64_t batches_sent() const { return batches_; }    // of which carried >1 request
  std::uint64_t batches_refused() const { return refused_batches_; }
  const std::string& graphql_url() const { return graphql_url_; }

 private:
  struct Queued {
    GraphqlRequest request;
    Callback done;
    bool solo = false;  // never batched (the fallback after ION refused a batch)
  };
  struct Pending;
  CurlGraphqlClient(GraphqlClientOptions options, const hal::Clock& clock);
  void flush();
  void start_single(Queued item);
  void start_batch(std::vector<Queued> members, std::vector<BatchMember> parts);
  void dispatch_waiting();
  void start(std::shared_ptr<Pending> p);
  void finished(std::shared_ptr<Pending> p, CURL* easy, CURLcode rc);
  void finished_batch(Pending& p, long status);
  void retry_after_401(std::shared_ptr<Pending> p, const std::string& why);
  void complete(Pending& p, GraphqlResponse r);
  void complete_all(Pending& p, const std::function<GraphqlResponse()>& make);
  void fail_waiting_with_token_failure();
  bool busy() const { return !waiting_.empty() || active_ > 0; }

  std::string graphql_url_;
  HttpSettings http_;
  std::chrono::milliseconds max_idle_wait_;
  std::size_t batch_max_;
  HttpMulti multi_;
  TokenManager tokens_;
  std::deque<Queued> queued_;                               // submitted, not yet flushed
  std::deque<std::shared_ptr<Pending>> waiting_;            // for a token
  std::size_t active_ = 0;                                  // GraphQL transfers on the multi
  std::deque<std::pair<Callback, GraphqlResponse>> ready_;  // completions not yet delivered
  struct Upload;
  std::size_t uploads_active_ = 0;
  std::deque<std::pair<UploadCallback, UploadResponse>> ready_uploads_;
  std::uint64_t uploads_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t batches_ = 0;
  std::uint64_t refused_batches_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace agent
