// SPDX-License-Identifier: Apache-2.0
// CurlGraphqlClient + TokenManager against the ION simulator over real HTTPS with its test CA:
// token exchange, renewal (on expiry; none while idle), revoked and wrong keys, TLS trust,
// wrong environment, and the classification of concurrency, 429 and 5xx answers.
#include <CppUTest/TestHarness.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "agent/net/curl_graphql_client.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"
#include "sim_client.hpp"

namespace {

using agent::GraphqlOutcome;
using agent::GraphqlResponse;

constexpr const char* kMe = "query Me { me { id name organization { id } } }";

using ion_test::make_client;  // sim_client.hpp

GraphqlResponse query(agent::CurlGraphqlClient& client, const std::string& doc, agent::Json vars = {}) {
  GraphqlResponse out;
  bool called = false;
  agent::GraphqlRequest req;
  req.document = doc;
  req.variables = std::move(vars);
  client.submit(std::move(req), [&](GraphqlResponse r) {
    CHECK_FALSE(called);  // exactly once
    called = true;
    out = std::move(r);
  });
  CHECK_FALSE(called);  // never from inside submit()
  CHECK_TRUE(client.run_until_idle(std::chrono::seconds(60)));
  CHECK_TRUE(called);
  return out;
}

int me_id(const GraphqlResponse& r) {
  const cJSON* me = cJSON_GetObjectItemCaseSensitive(r.data.get(), "me");
  const cJSON* id = cJSON_GetObjectItemCaseSensitive(me, "id");
  if (cJSON_IsNumber(id)) {
    return id->valueint;
  }
  return cJSON_IsString(id) ? std::atoi(id->valuestring) : -1;
}

std::string etag_of(agent::CurlGraphqlClient& c, int id) {
  agent::Json v(cJSON_CreateObject());
  cJSON_AddStringToObject(v.get(), "id", std::to_string(id).c_str());
  auto r = query(c, "query Get($id: ID!) { partInventory(id: $id) { id _etag } }", std::move(v));
  const cJSON* pi = cJSON_GetObjectItemCaseSensitive(r.data.get(), "partInventory");
  const cJSON* e = cJSON_GetObjectItemCaseSensitive(pi, "_etag");
  return cJSON_IsString(e) ? e->valuestring : "";
}

}  // namespace

TEST_GROUP(GraphqlClient) {
  hal::SystemClock clock;
};

TEST(GraphqlClient, MeQueryOverHttpsWithTheSimulatorCa) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  auto r = query(*client, kMe);
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::ok), static_cast<int>(r.outcome), r.summary().c_str());
  CHECK_EQUAL(200, r.http_status);
  CHECK_EQUAL(42, me_id(r));
  // A second query reuses the token (one exchange in total).
  auto r2 = query(*client, kMe);
  CHECK_TRUE(r2.outcome == GraphqlOutcome::ok);
  CHECK_EQUAL(1, sim.count_requests("token"));
  CHECK_EQUAL(2, sim.count_requests("graphql"));
  // Keep-alive: the token request and both queries shared one TLS connection.
  CHECK_EQUAL(1, static_cast<int>(client->connections_opened()));
  auto ts = client->token_status();
  CHECK_TRUE(ts.state == agent::TokenStatus::State::valid);
  CHECK_EQUAL(300, ts.lifetime.count());
  CHECK_FALSE(ts.credentials_rejected);
}

TEST(GraphqlClient, TokenExpiredMidRunIsRenewedTransparently) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_TRUE_TEXT(sim.admin("/_sim/tokens/expire") != nullptr, sim.last_admin_error().c_str());
  // The server now refuses the token the client still believes valid: 401, renew, retry.
  auto r = query(*client, kMe);
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::ok), static_cast<int>(r.outcome), r.summary().c_str());
  CHECK_EQUAL(42, me_id(r));
  CHECK_EQUAL(2, sim.count_requests("token"));
  CHECK_EQUAL(3, sim.count_requests("graphql"));  // ok, 401, retried ok
  CHECK_EQUAL(2, static_cast<int>(client->token_status().tokens_obtained));
}

TEST(GraphqlClient, IdleClientLetsTheTokenLapseAndFetchesOneForTheNextRequest) {
  ion_test::IonSim sim({"--token-ttl", "3"});
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_EQUAL(3, client->token_status().lifetime.count());
  // Idle: no deadline for a renewal (it would wake an idle daemon for nothing) ...
  CHECK_TRUE(client->timeout() == std::chrono::milliseconds(1000));  // just the max_idle_wait cap
  std::vector<curl_waitfd> none;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(3500);
  while (std::chrono::steady_clock::now() < end) {
    CHECK_TRUE(client->wait(none, std::chrono::milliseconds(200)).ok());
    client->perform();
  }
  CHECK_EQUAL(1, static_cast<int>(client->token_status().tokens_obtained));
  // ... and the next request, past the token's lifetime, fetches a fresh one first: no 401.
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_EQUAL(2, static_cast<int>(client->token_status().tokens_obtained));
  CHECK_EQUAL(2, sim.count_requests("graphql"));
}

TEST(GraphqlClient, TokenIsNeverUsedPastItsRenewPoint) {
  // 5 s tokens: margin min(30 s, 20 %) = 1 s, so the renew point is 4 s after the exchange
  // (the token still has 1 s to live). A request at 4.4 s must get a new token first; it
  // used to go out with the old one, which a skewed server clock or a slow hop turns into
  // a 401 (one per run in the 50-station fleet test).
  ion_test::IonSim sim({"--token-ttl", "5"});
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_EQUAL(1, static_cast<int>(client->token_status().tokens_obtained));
  std::this_thread::sleep_for(std::chrono::milliseconds(4400));
  CHECK_TRUE(client->token_status().state != agent::TokenStatus::State::valid);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_EQUAL(2, static_cast<int>(client->token_status().tokens_obtained));
  CHECK_EQUAL(2, sim.count_requests("token"));
  CHECK_EQUAL(2, sim.count_requests("graphql"));  // no 401 and retry
}

TEST(GraphqlClient, WrongSecretIsCredentialsRejectedWithoutHotLoop) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock, "not-the-secret");
  auto r = query(*client, kMe);
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::credentials), static_cast<int>(r.outcome),
                   r.summary().c_str());
  CHECK_TRUE(r.token_stage);
  STRCMP_CONTAINS("credentials rejected", r.summary().c_str());
  auto ts = client->token_status();
  CHECK_TRUE(ts.credentials_rejected);
  CHECK_TRUE(ts.state == agent::TokenStatus::State::rejected);
  CHECK_TRUE(ts.retry_in > std::chrono::minutes(10));
  // More requests fail fast with the same reason and do not hit the token endpoint again.
  for (int i = 0; i < 5; ++i) {
    CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::credentials);
  }
  CHECK_EQUAL(1, sim.count_requests("token"));
  CHECK_EQUAL(0, sim.count_requests("graphql"));
}

TEST(GraphqlClient, RevokedKeyGivesAClearCredentialsError) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_TRUE(sim.admin(std::string("/_sim/clients/") + ion_test::kSimClientId + "/revoke") != nullptr);
  auto r = query(*client, kMe);
  // The old token is refused (401), the renewal is refused (invalid_client).
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::credentials), static_cast<int>(r.outcome),
                   r.summary().c_str());
  STRCMP_CONTAINS("revoked", r.summary().c_str());
  CHECK_TRUE(client->token_status().credentials_rejected);
}

TEST(GraphqlClient, WrongCaIsRefused) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  ion_test::IonSim other;  // its own, different test CA
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  for (const std::string& ca : {other.ca(), std::string("/etc/ssl/certs/ca-certificates.crt")}) {
    auto client = make_client(sim, clock, ion_test::kSimClientSecret, ca);
    auto r = query(*client, kMe);
    CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::network), static_cast<int>(r.outcome),
                     r.summary().c_str());
    CHECK_TRUE(r.tls_failure);
    CHECK_TRUE(r.token_stage);
  }
  CHECK_EQUAL(0, sim.count_requests("token"));  // nothing got past the handshake
}

// A CA directory (CURLOPT_CAPATH) instead of a file, as OpenSSL reads it (<subject hash>.0
// links, what c_rehash/update-ca-certificates make) and Mbed TLS reads it (every file): the
// embedded build's libcurl on Mbed TLS must trust and refuse exactly like Debian's on OpenSSL.
TEST(GraphqlClient, CaDirectoryIsTrustedAndADirectoryWithoutTheCaIsRefused) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  ion_test::IonSim other;
  CHECK_TRUE_TEXT(other.ok(), other.error().c_str());
  for (const ion_test::IonSim* trusted : {&sim, &other}) {
    const std::string dir = trusted->temp_dir() + "/ca-dir";
    const std::string cmd = "mkdir -p '" + dir + "' && cp '" + trusted->ca() + "' '" + dir +
                            "/ca.pem' && ln -sf ca.pem \"" + dir + "/$(openssl x509 -hash -noout -in '" +
                            trusted->ca() + "').0\"";
    CHECK_EQUAL_TEXT(0, std::system(cmd.c_str()), cmd.c_str());
    agent::GraphqlClientOptions o;
    o.api_url = sim.api_url();
    o.token_url = sim.token_url();
    o.client_id = ion_test::kSimClientId;
    CHECK_TRUE(o.client_secret.assign(ion_test::kSimClientSecret));
    o.http.ca_path = dir;  // no CA file: libcurl's default bundle, which lacks the test CA
    o.http.proxy = "direct";
    auto c = agent::CurlGraphqlClient::create(std::move(o), clock);
    CHECK_TRUE_TEXT(c.ok(), c.ok() ? "" : c.error().what.c_str());
    auto r = query(**c, kMe);
    if (trusted == &sim) {
      CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::ok), static_cast<int>(r.outcome),
                       r.summary().c_str());
      CHECK_EQUAL(42, me_id(r));
    } else {
      CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::network), static_cast<int>(r.outcome),
                       r.summary().c_str());
      CHECK_TRUE(r.tls_failure);
    }
  }
}

TEST(GraphqlClient, PinnedPublicKeyMismatchIsRefused) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  agent::GraphqlClientOptions o;
  o.api_url = sim.api_url();
  o.token_url = sim.token_url();
  o.client_id = ion_test::kSimClientId;
  CHECK_TRUE(o.client_secret.assign(ion_test::kSimClientSecret));
  o.http.ca_file = sim.ca();
  o.http.pinned_public_key = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  CHECK_TRUE(client.ok());
  auto r = query(**client, kMe);
  CHECK_TRUE(r.outcome == GraphqlOutcome::network);
  CHECK_TRUE(r.tls_failure);
}

TEST(GraphqlClient, TokenFromAnotherEnvironmentIsUnauthorizedWithIonsMessage) {
  ion_test::IonSim api;
  ion_test::IonSim auth;  // another "environment": its own token signing key
  CHECK_TRUE_TEXT(api.ok() && auth.ok(), (api.error() + auth.error()).c_str());
  agent::GraphqlClientOptions o;
  o.api_url = api.api_url();
  o.token_url = auth.token_url();
  o.client_id = ion_test::kSimClientId;
  CHECK_TRUE(o.client_secret.assign(ion_test::kSimClientSecret));
  o.http.ca_file = api.ca();
  // Both sims' CAs must be trusted: put them in one bundle.
  std::string bundle = api.temp_dir() + "/both.pem";
  {
    std::string pem = ion_test::read_text_file(api.ca()) + ion_test::read_text_file(auth.ca());
    FILE* f = std::fopen(bundle.c_str(), "w");
    CHECK_TRUE(f != nullptr);
    std::fwrite(pem.data(), 1, pem.size(), f);
    std::fclose(f);
  }
  o.http.ca_file = bundle;
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  auto r = query(**client, kMe);
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::unauthorized), static_cast<int>(r.outcome),
                   r.summary().c_str());
  CHECK_FALSE(r.token_stage);
  CHECK_EQUAL(401, r.http_status);
  STRCMP_CONTAINS("Unable to find appropriate RSA key", r.summary().c_str());
  CHECK_EQUAL(2, auth.count_requests("token"));   // renewed once ...
  CHECK_EQUAL(2, api.count_requests("graphql"));  // ... and retried once, no more
}

TEST(GraphqlClient, StaleEtagIsConcurrencyWith200And409) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  const char* update =
      "mutation Move($input: UpdatePartInventoryInput!) { updatePartInventory(input: $input) { partInventory "
      "{ id "
      "_etag locationId } } }";
  for (int status : {200, 409}) {
    CHECK_TRUE(sim.admin("/_sim/config", "{\"etag_conflict_status\": " + std::to_string(status) + "}") !=
               nullptr);
    std::string etag = etag_of(*client, 1004);
    CHECK_EQUAL(32u, etag.size());
    // Someone else edits the unit: our etag is now stale.
    CHECK_TRUE_TEXT(sim.admin("/_sim/touch", R"({"table": "part_inventories", "id": 1004})") != nullptr,
                    sim.last_admin_error().c_str());
    agent::Json v(cJSON_Parse(
        ("{\"input\": {\"id\": \"1004\", \"etag\": \"" + etag + "\", \"locationId\": \"2\"}}").c_str()));
    auto r = query(*client, update, std::move(v));
    CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::concurrency), static_cast<int>(r.outcome),
                     r.summary().c_str());
    CHECK_EQUAL(status, r.http_status);
    CHECK_TRUE(agent::is_transient(r.outcome));
  }
}

TEST(GraphqlClient, RateLimitSurfacesRetryAfter) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind": "rate_limit", "retry_after": 7, "count": 1})") != nullptr);
  auto r = query(*client, kMe);
  CHECK_EQUAL_TEXT(static_cast<int>(GraphqlOutcome::rate_limited), static_cast<int>(r.outcome),
                   r.summary().c_str());
  CHECK_EQUAL(429, r.http_status);
  CHECK_EQUAL(7, r.retry_after.count());
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind": "rate_limit", "count": 1})") != nullptr);
  r = query(*client, kMe);
  CHECK_TRUE(r.outcome == GraphqlOutcome::rate_limited);
  CHECK_EQUAL(-1, r.retry_after.count());  // none given
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
}

TEST(GraphqlClient, ServerErrorsAndDroppedConnectionsAreTransient) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind": "status", "status": 503, "count": 1})") != nullptr);
  auto r = query(*client, kMe);
  CHECK_TRUE_TEXT(r.outcome == GraphqlOutcome::server_error, r.summary().c_str());
  CHECK_EQUAL(503, r.http_status);
  // libcurl re-sends once by itself when a reused keep-alive connection turns out dead before
  // any answer byte, so close twice; the second close is on a fresh connection.
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind": "close", "count": 2})") != nullptr);
  r = query(*client, kMe);
  CHECK_TRUE_TEXT(r.outcome == GraphqlOutcome::network, r.summary().c_str());
  CHECK_FALSE(r.tls_failure);
  CHECK_TRUE(sim.admin_delete("/_sim/faults") != nullptr);
  CHECK_TRUE(sim.admin("/_sim/faults",
                       R"({"kind": "graphql_error", "message": "Rejected by rule", "count": 1})") != nullptr);
  r = query(*client, kMe);
  CHECK_TRUE_TEXT(r.outcome == GraphqlOutcome::graphql_errors, r.summary().c_str());
  CHECK_FALSE(agent::is_transient(r.outcome));
}

TEST(GraphqlClient, SubmitAndPerformNeverWaitForTheServer) {
  ion_test::IonSim sim;
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  auto client = make_client(sim, clock);
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  CHECK_TRUE(sim.admin("/_sim/faults", R"({"kind": "delay", "seconds": 2, "count": 1})") != nullptr);
  bool done = false;
  agent::GraphqlRequest req;
  req.document = kMe;
  client->submit(std::move(req), [&](GraphqlResponse) { done = true; });
  for (int i = 0; i < 5; ++i) {
    client->perform();  // returns while the server sits on the request
  }
  CHECK_FALSE(done);
  CHECK_EQUAL(1u, client->in_flight());
  CHECK_TRUE(client->timeout() <= std::chrono::milliseconds(1000));
  CHECK_TRUE(client->run_until_idle(std::chrono::seconds(30)));
  CHECK_TRUE(done);
  CHECK_EQUAL(0u, client->in_flight());
}

TEST(GraphqlClient, PlainHttpWorksOnlyToLoopback) {
  ion_test::IonSim sim({"--http"});
  CHECK_TRUE_TEXT(sim.ok(), sim.error().c_str());
  STRCMP_CONTAINS("http://127.0.0.1:", sim.api_url().c_str());
  auto client = make_client(sim, clock, ion_test::kSimClientSecret, "");
  CHECK_TRUE(query(*client, kMe).outcome == GraphqlOutcome::ok);
  agent::GraphqlClientOptions o;
  o.api_url = "http://ion.example.com";
  o.token_url = sim.token_url();
  CHECK_FALSE(agent::CurlGraphqlClient::create(std::move(o), clock).ok());
}
