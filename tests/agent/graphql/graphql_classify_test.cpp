// SPDX-License-Identifier: Apache-2.0
// classify_graphql_response: content first, status second (agent/ion/README.md §3), and the transport
// policy helpers (URL rule, Retry-After parsing).
#include <CppUTest/TestHarness.h>

#include <ctime>
#include <string>

#include "agent/ion/regions.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/net/http_settings.hpp"

using agent::classify_graphql_response;
using agent::GraphqlOutcome;

namespace {

GraphqlOutcome outcome(long status, const std::string& body) {
  return classify_graphql_response(status, body, std::chrono::seconds(-1)).outcome;
}

}  // namespace

TEST_GROUP(GraphqlClassify){};

TEST(GraphqlClassify, DataWithoutErrorsIsOk) {
  auto r = classify_graphql_response(200, R"({"data": {"me": {"id": 42}}})", std::chrono::seconds(-1));
  CHECK_TRUE(r.outcome == GraphqlOutcome::ok);
  const cJSON* me = cJSON_GetObjectItemCaseSensitive(r.data.get(), "me");
  CHECK_EQUAL(42, cJSON_GetObjectItemCaseSensitive(me, "id")->valueint);
  CHECK_TRUE(r.messages.empty());
}

TEST(GraphqlClassify, EtagMismatchIsConcurrencyWhateverTheStatus) {
  const char* by_message = R"({"data": null, "errors": [{"message": "Etag does not match"}]})";
  const char* by_code =
      R"({"errors": [{"message": "conflict", "extensions": {"code": "CONCURRENCY_ERROR"}}]})";
  CHECK_TRUE(outcome(200, by_message) == GraphqlOutcome::concurrency);
  CHECK_TRUE(outcome(409, by_message) == GraphqlOutcome::concurrency);
  CHECK_TRUE(outcome(400, by_code) == GraphqlOutcome::concurrency);
  CHECK_TRUE(outcome(409, "") == GraphqlOutcome::concurrency);
  auto r = classify_graphql_response(200, by_message, std::chrono::seconds(-1));
  CHECK_EQUAL(1u, r.messages.size());
  STRCMP_EQUAL("Etag does not match", r.messages[0].c_str());
}

TEST(GraphqlClassify, AuthFailuresAreUnauthorized) {
  CHECK_TRUE(outcome(401, R"({"errors": [{"message": "Unable to find appropriate RSA key"}]})") ==
             GraphqlOutcome::unauthorized);
  CHECK_TRUE(outcome(401, "") == GraphqlOutcome::unauthorized);
  CHECK_TRUE(outcome(200, R"({"errors": [{"message": "x", "extensions": {"code": "UNAUTHORIZED"}}]})") ==
             GraphqlOutcome::unauthorized);
}

TEST(GraphqlClassify, StatusDecidesWhenTheBodySaysNothing) {
  auto r = classify_graphql_response(429, "Too Many Requests", std::chrono::seconds(30));
  CHECK_TRUE(r.outcome == GraphqlOutcome::rate_limited);
  CHECK_EQUAL(30, r.retry_after.count());
  CHECK_TRUE(outcome(502, "<html>Bad Gateway</html>") == GraphqlOutcome::server_error);
  CHECK_TRUE(outcome(503, R"({"errors": [{"message": "maintenance"}]})") == GraphqlOutcome::server_error);
  CHECK_TRUE(outcome(403, R"({"errors": [{"message": "User does not have permission"}]})") ==
             GraphqlOutcome::http_status);
  CHECK_TRUE(outcome(404, "") == GraphqlOutcome::http_status);
}

TEST(GraphqlClassify, ErrorsOnA200ArePermanentGraphqlErrors) {
  auto r = classify_graphql_response(
      200, R"({"data": null, "errors": [{"message": "Rejected by rule"}, {"path": ["a"]}]})",
      std::chrono::seconds(-1));
  CHECK_TRUE(r.outcome == GraphqlOutcome::graphql_errors);
  CHECK_EQUAL(2u, r.messages.size());
  STRCMP_EQUAL("(error without message)", r.messages[1].c_str());
  CHECK_FALSE(agent::is_transient(r.outcome));
}

TEST(GraphqlClassify, NonJsonOrShapelessAnswersAreMalformed) {
  auto r = classify_graphql_response(200, "<html>captive portal</html>", std::chrono::seconds(-1));
  CHECK_TRUE(r.outcome == GraphqlOutcome::malformed);
  STRCMP_CONTAINS("captive portal", r.summary().c_str());
  CHECK_TRUE(outcome(200, R"({"hello": 1})") == GraphqlOutcome::malformed);
  CHECK_TRUE(outcome(200, R"([1, 2])") == GraphqlOutcome::malformed);
  CHECK_TRUE(outcome(200, "") == GraphqlOutcome::malformed);
  CHECK_TRUE(agent::is_transient(GraphqlOutcome::malformed));
}

TEST_GROUP(HttpPolicy){};

TEST(HttpPolicy, PlainHttpOnlyToLoopback) {
  CHECK_TRUE(agent::check_url_allowed("https://api.buildwithion.com").ok());
  CHECK_TRUE(agent::check_url_allowed("http://127.0.0.1:8080/graphql").ok());
  CHECK_TRUE(agent::check_url_allowed("http://localhost:1").ok());
  CHECK_TRUE(agent::check_url_allowed("http://[::1]:99/").ok());
  auto st = agent::check_url_allowed("http://api.buildwithion.com/graphql");
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("refusing plain http://", st.error().what.c_str());
  CHECK_TRUE(agent::check_url_allowed("http://127.1.2.3/").ok());
  CHECK_FALSE(agent::check_url_allowed("http://127.0.0.1.evil.example/").ok());  // a name, not an address
  CHECK_FALSE(agent::check_url_allowed("http://localhost.evil.example/").ok());
  CHECK_FALSE(agent::check_url_allowed("ftp://127.0.0.1/").ok());
  CHECK_FALSE(agent::check_url_allowed("not a url").ok());
}

TEST(HttpPolicy, RetryAfterSecondsAndDates) {
  std::chrono::seconds s{-1};
  CHECK_TRUE(agent::parse_retry_after("Retry-After: 120\r\n", s));
  CHECK_EQUAL(120, s.count());
  CHECK_TRUE(agent::parse_retry_after("retry-after:7", s));
  CHECK_EQUAL(7, s.count());
  std::time_t later = std::time(nullptr) + 90;
  char date[64];
  std::strftime(date, sizeof date, "Retry-After: %a, %d %b %Y %H:%M:%S GMT", std::gmtime(&later));
  CHECK_TRUE(agent::parse_retry_after(date, s));
  CHECK_TRUE(s.count() >= 85 && s.count() <= 90);
  s = std::chrono::seconds(-1);
  CHECK_FALSE(agent::parse_retry_after("Retry-After: soon", s));
  CHECK_FALSE(agent::parse_retry_after("Content-Type: text/plain", s));
  CHECK_FALSE(agent::parse_retry_after("Retry-After: -5", s));
  CHECK_EQUAL(-1, s.count());
}

TEST(HttpPolicy, RegionTableMatchesIonApiReference) {
  const char* names[] = {"production", "staging", "gov", "gov-staging", "aus", "aus-staging"};
  for (const char* n : names) {
    const agent::IonRegion* r = agent::find_ion_region(n);
    CHECK_TRUE(r != nullptr);
    CHECK_TRUE(agent::check_url_allowed(std::string(r->api_url)).ok());
    STRCMP_CONTAINS("/realms/api-keys/protocol/openid-connect/token", std::string(r->token_url).c_str());
  }
  STRCMP_EQUAL("https://api.buildwithion.com",
               std::string(agent::find_ion_region("production")->api_url).c_str());
  STRCMP_EQUAL("https://auth-staging-gov.buildwithion.com/realms/api-keys/protocol/openid-connect/token",
               std::string(agent::find_ion_region("gov-staging")->token_url).c_str());
  STRCMP_EQUAL("https://api-production-aus.buildwithion.com",
               std::string(agent::find_ion_region("aus")->api_url).c_str());
  CHECK_TRUE(agent::find_ion_region("mars") == nullptr);
}
