// SPDX-License-Identifier: Apache-2.0
// The GraphQL client contract shared by the ION operations, the dispatcher and the CLI.
// Asynchronous and single-threaded: submit() never blocks; completion callbacks run from the
// owner's event loop (see the concrete client for how transfers are driven). Scanned text
// travels only in `variables`, never inside `document`.
#pragma once

#include <chrono>
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

class GraphqlClient {
 public:
  using Callback = std::function<void(GraphqlResponse)>;
  virtual ~GraphqlClient() = default;
  // Queues a request; `done` is called exactly once, later, from the loop thread.
  virtual void submit(GraphqlRequest request, Callback done) = 0;
  virtual std::size_t in_flight() const = 0;
};

// Classifies a finished HTTP exchange: by error content first, HTTP status second. `body` is
// the response text. Pure (no transport), so unit tests and the fuzzer call it directly.
GraphqlResponse classify_graphql_response(long http_status, const std::string& body,
                                          std::chrono::seconds retry_after);

// Parses one header line "Retry-After: 120" / "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT".
bool parse_retry_after(std::string_view line, std::chrono::seconds& out);

}  // namespace agent
