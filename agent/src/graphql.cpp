// SPDX-License-Identifier: Apache-2.0
#include "agent/graphql.hpp"

namespace agent {

const char* to_string(GraphqlOutcome o) noexcept {
  switch (o) {
    case GraphqlOutcome::ok:
      return "ok";
    case GraphqlOutcome::network:
      return "network";
    case GraphqlOutcome::timeout:
      return "timeout";
    case GraphqlOutcome::unauthorized:
      return "unauthorized";
    case GraphqlOutcome::rate_limited:
      return "rate_limited";
    case GraphqlOutcome::server_error:
      return "server_error";
    case GraphqlOutcome::concurrency:
      return "concurrency";
    case GraphqlOutcome::graphql_errors:
      return "graphql_errors";
    case GraphqlOutcome::http_status:
      return "http_status";
    case GraphqlOutcome::malformed:
      return "malformed";
    case GraphqlOutcome::credentials:
      return "credentials";
  }
  return "unknown";
}

bool is_transient(GraphqlOutcome o) noexcept {
  switch (o) {
    case GraphqlOutcome::network:
    case GraphqlOutcome::timeout:
    case GraphqlOutcome::rate_limited:
    case GraphqlOutcome::server_error:
    case GraphqlOutcome::concurrency:
    case GraphqlOutcome::malformed:
    case GraphqlOutcome::unauthorized:
    case GraphqlOutcome::credentials:
      return true;  // auth problems wait for an operator or a renewed token, never drop events
    case GraphqlOutcome::ok:
    case GraphqlOutcome::graphql_errors:
    case GraphqlOutcome::http_status:
      return false;
  }
  return false;
}

std::string GraphqlResponse::summary() const {
  std::string s = to_string(outcome);
  if (http_status != 0) {
    s += " (HTTP " + std::to_string(http_status) + ")";
  }
  for (const auto& m : messages) {
    s += ": ";
    s += m;
  }
  return s;
}

}  // namespace agent
