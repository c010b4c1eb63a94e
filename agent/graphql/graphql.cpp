// SPDX-License-Identifier: Apache-2.0
#include "agent/graphql/graphql.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <string_view>

namespace agent {
namespace {

// A short, printable excerpt of a non-JSON body (proxy error pages) for messages.
std::string excerpt(const std::string& body) {
  std::string s;
  for (char c : body.substr(0, 160)) {
    s += (c >= 0x20 && c < 0x7f) ? c : ' ';
  }
  return s;
}

// An HTTP-date in any of the three forms a recipient must accept (RFC 9110 §5.6.7):
// IMF-fixdate, the obsolete RFC 850 form and asctime(). -1 when it is none of them.
time_t parse_http_date(const std::string& v) {
  static const char* const kForms[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                       "%a %b %d %H:%M:%S %Y"};
  for (const char* form : kForms) {
    std::tm tm{};
    const char* end = strptime(v.c_str(), form, &tm);
    if (end != nullptr && *end == '\0') {
      return timegm(&tm);
    }
  }
  return -1;
}

}  // namespace

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

GraphqlResponse classify_graphql_response(long status, const std::string& body,
                                          std::chrono::seconds retry_after) {
  GraphqlResponse r;
  r.http_status = status;
  r.retry_after = retry_after;
  Json j(cJSON_Parse(body.c_str()));
  const bool is_obj = j && cJSON_IsObject(j.get());
  const cJSON* errors = is_obj ? cJSON_GetObjectItemCaseSensitive(j.get(), "errors") : nullptr;
  std::string errors_text;
  if (cJSON_IsArray(errors) && cJSON_GetArraySize(errors) > 0) {
    JsonText t(cJSON_PrintUnformatted(errors));
    errors_text = t ? t.get() : "";
    const cJSON* e = nullptr;
    cJSON_ArrayForEach(e, errors) {
      const cJSON* m = cJSON_GetObjectItemCaseSensitive(e, "message");
      r.messages.push_back(cJSON_IsString(m) ? m->valuestring : "(error without message)");
    }
  }
  const bool ok_status = status >= 200 && status < 300;
  auto by_status = [&]() {
    if (status == 401) {
      return GraphqlOutcome::unauthorized;
    }
    if (status == 429) {
      return GraphqlOutcome::rate_limited;
    }
    if (status == 409) {
      return GraphqlOutcome::concurrency;  // ION documents 409 for _etag conflicts
    }
    if (status >= 500) {
      return GraphqlOutcome::server_error;
    }
    return GraphqlOutcome::http_status;
  };
  if (!errors_text.empty()) {
    // Content first: the concurrency and auth markers win over whatever status came with them.
    if (errors_text.find("Etag does not match") != std::string::npos ||
        errors_text.find("CONCURRENCY_ERROR") != std::string::npos) {
      r.outcome = GraphqlOutcome::concurrency;
    } else if (errors_text.find("UNAUTHORIZED") != std::string::npos ||
               errors_text.find("Unable to validate authentication token") != std::string::npos) {
      r.outcome = GraphqlOutcome::unauthorized;
    } else {
      r.outcome = ok_status ? GraphqlOutcome::graphql_errors : by_status();
    }
  } else if (!ok_status) {
    r.outcome = by_status();
    r.messages.push_back("HTTP " + std::to_string(status) +
                         (is_obj || body.empty() ? "" : ": " + excerpt(body)));
  } else if (!is_obj || !cJSON_HasObjectItem(j.get(), "data")) {
    r.outcome = GraphqlOutcome::malformed;
    r.messages.push_back(is_obj ? "response has neither data nor errors"
                                : "response is not JSON: " + excerpt(body));
  } else {
    r.outcome = GraphqlOutcome::ok;
  }
  if (is_obj) {
    r.data = Json(cJSON_DetachItemFromObjectCaseSensitive(j.get(), "data"));
  }
  return r;
}

bool parse_retry_after(std::string_view line, std::chrono::seconds& out) {
  constexpr std::string_view kName = "retry-after:";
  if (line.size() < kName.size()) {
    return false;
  }
  for (std::size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
      return false;
    }
  }
  std::string v(line.substr(kName.size()));
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) {
    v.pop_back();
  }
  std::size_t start = v.find_first_not_of(" \t");
  if (start == std::string::npos) {
    return false;
  }
  v = v.substr(start);
  if (std::isdigit(static_cast<unsigned char>(v[0]))) {
    char* end = nullptr;
    long long secs = std::strtoll(v.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || secs < 0) {
      return false;
    }
    out = std::chrono::seconds(std::min<long long>(secs, 86400));
    return true;
  }
  time_t when = parse_http_date(v);
  if (when < 0) {
    return false;
  }
  time_t now = std::time(nullptr);
  out = std::chrono::seconds(when > now ? std::min<long long>(when - now, 86400) : 0);
  return true;
}

const char* to_string(UploadResponse::Outcome o) noexcept {
  switch (o) {
    case UploadResponse::Outcome::ok:
      return "ok";
    case UploadResponse::Outcome::network:
      return "network";
    case UploadResponse::Outcome::timeout:
      return "timeout";
    case UploadResponse::Outcome::refused:
      return "refused";
    case UploadResponse::Outcome::server_error:
      return "server_error";
    case UploadResponse::Outcome::file_error:
      return "file_error";
  }
  return "?";
}

}  // namespace agent
