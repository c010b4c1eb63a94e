// SPDX-License-Identifier: Apache-2.0
// The GraphQL client contract shared by the ION operations, the dispatcher and the CLI.
// Asynchronous and single-threaded: submit() never blocks; completion callbacks run from the
// owner's event loop (see the concrete client for how transfers are driven). Scanned text
// travels only in `variables`, never inside `document`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/json.hpp"

namespace agent {

struct GraphqlRequest {
  std::string document;        // the operation text (fixed by the program or the profile)
  Json variables;              // may be null: sent as {}
  std::string operation_name;  // optional
};

// How a request ended, classified once, by error content first and HTTP status second
// (agent/ion/README.md §3).
enum class GraphqlOutcome {
  ok,              // HTTP 200 and no errors[]
  network,         // DNS, connect, TLS or a dropped connection: retry later
  timeout,         // connect or total timeout: retry later
  unauthorized,    // 401 after the one renewal + retry, or token endpoint refused: auth problem
  rate_limited,    // 429: retry after `retry_after` (if the server gave one)
  server_error,    // 5xx: retry later
  concurrency,     // "Etag does not match" / CONCURRENCY_ERROR: re-read and retry
  graphql_errors,  // errors[] on an otherwise good response: permanent (dead letter)
  http_status,     // another non-2xx status (403, 404, 422 ...): permanent
  malformed,       // the body was not the JSON we expected: retry later (proxy pages etc.)
  credentials,     // the token endpoint rejected the client (invalid_client): needs an operator
};

const char* to_string(GraphqlOutcome o) noexcept;

// True for the outcomes that may succeed if the same request is sent again later.
bool is_transient(GraphqlOutcome o) noexcept;

struct GraphqlResponse {
  GraphqlOutcome outcome = GraphqlOutcome::network;
  long http_status = 0;
  Json data;                             // the "data" member (may be null)
  std::vector<std::string> messages;     // errors[].message, or a transport description
  std::chrono::seconds retry_after{-1};  // from Retry-After; -1 when absent
  bool token_stage = false;              // failed while obtaining a token (not at /graphql)
  bool tls_failure = false;              // certificate, CA or pin verification failed
  std::string summary() const;           // one line for logs and dead letters (no secrets)
};

// A file sent to a storage URL ION handed out (createFileAttachment's uploadUrl, a stand-in
// for an S3 presigned URL): `PUT url` with the bytes of `file`, streamed from disk, and
// `Content-Type: content_type`. No Authorization header: the URL itself is the permission.
struct UploadRequest {
  std::string url;
  std::string content_type;
  std::string file;        // path of the bytes
  std::uint64_t size = 0;  // Content-Length; the file must hold exactly this many bytes
};

struct UploadResponse {
  enum class Outcome {
    ok,            // 2xx: storage holds the bytes
    network,       // DNS, connect, TLS or a connection cut mid-PUT: send again (PUT is idempotent)
    timeout,       // no progress for too long: send again
    refused,       // 4xx (400/403: the URL expired or was used; 404): ask ION for a new URL
    server_error,  // 5xx: send again later
    file_error,    // the local file could not be read (or changed size): nothing to send
  };
  Outcome outcome = Outcome::network;
  long http_status = 0;
  std::string message;  // one line for logs and dead letters (no URL query: it is a credential)
};

const char* to_string(UploadResponse::Outcome o) noexcept;

class GraphqlClient {
 public:
  using Callback = std::function<void(GraphqlResponse)>;
  using UploadCallback = std::function<void(UploadResponse)>;
  virtual ~GraphqlClient() = default;
  // Queues a request; `done` is called exactly once, later, from the loop thread.
  virtual void submit(GraphqlRequest request, Callback done) = 0;
  // Starts an upload; `done` is called exactly once, from the loop thread. The default (a
  // client without a transport for it) answers network at once.
  virtual void upload(UploadRequest request, UploadCallback done) {
    (void)request;
    UploadResponse r;
    r.message = "upload: this client cannot upload files";
    done(std::move(r));
  }
  virtual std::size_t in_flight() const = 0;
};

// Classifies a finished HTTP exchange: by error content first, HTTP status second. `body` is
// the response text. Pure (no transport), so unit tests and the fuzzer call it directly.
GraphqlResponse classify_graphql_response(long http_status, const std::string& body,
                                          std::chrono::seconds retry_after);

// Parses one header line "Retry-After: 120" / "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT".
bool parse_retry_after(std::string_view line, std::chrono::seconds& out);

}  // namespace agent
