// SPDX-License-Identifier: Apache-2.0
// TokenManager: OAuth client-credentials tokens for one ION API key, kept in memory only.
//  - Exchange: form-encoded POST grant_type=client_credentials&client_id=..&client_secret=..
//    to the token URL (agent/ion/README.md §2); the answer's access_token and expires_in are used.
//  - Renewal ahead of expiry: at lifetime - min(30 s, 20 % of lifetime) after the request was
//    sent (270 s of a 300 s token), while the old token stays usable until it expires.
//  - A 401 from /graphql invalidates the token it was sent with (the client renews once and
//    retries once).
//  - Token-endpoint failures back off exponentially (1 s doubling to 5 min, equal jitter);
//    429 uses at least its Retry-After. invalid_client / unauthorized_client mean the key is
//    wrong or revoked: "credentials rejected", retried only every 15 min so a daemon never
//    hammers the auth server; provisioning a new key is the fix.
// The secret, the request body and the token live only in zeroizing SecretBuffers; libcurl's
// internal copies of headers are outside our reach (the process is non-dumpable).
// Single-threaded: call from the loop thread only. Times use hal::Clock::mono().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/crypto/secret.hpp"
#include "agent/graphql/graphql.hpp"
#include "agent/net/http_multi.hpp"
#include "agent/net/http_settings.hpp"
#include "hal/clock.hpp"

namespace agent {

struct TokenPolicy {
  std::chrono::seconds renew_margin{30};  // renew this long before expiry ...
  double renew_margin_fraction = 0.2;     // ... or this fraction of the lifetime, if shorter
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{300000};
  std::chrono::milliseconds rejected_backoff{900000};
  std::chrono::seconds default_lifetime{300};  // when the server omits expires_in (Keycloak default)
};

// For `ion-agent status` and logs. No secret material.
struct TokenStatus {
  enum class State { none, fetching, valid, failed, rejected };
  State state = State::none;
  hal::Clock::WallTime valid_until{};  // wall-clock expiry of the current token
  std::chrono::seconds lifetime{0};    // expires_in of the current token
  std::string last_error;              // last token-endpoint failure, "" if none since success
  bool credentials_rejected = false;   // invalid_client: re-provision needed
  unsigned consecutive_failures = 0;
  std::chrono::milliseconds retry_in{0};  // until the next attempt is allowed (0 = now)
  std::uint64_t tokens_obtained = 0;
};
const char* to_string(TokenStatus::State s) noexcept;
// {"state": "valid", "valid_until": "2026-11-28T01:02:03Z" (omitted when none), "lifetime_s",
//  "last_error" (omitted when none), "credentials_rejected", "consecutive_failures",
//  "retry_in_ms", "tokens_obtained"} for `ion-agent status`.
Json to_json(const TokenStatus& s);

// Why the last exchange failed, in GraphqlResponse terms (outcome, HTTP status, messages).
struct TokenFailure {
  GraphqlOutcome outcome = GraphqlOutcome::network;
  long http_status = 0;
  bool tls = false;
  std::vector<std::string> messages;
  std::chrono::seconds retry_after{-1};
};

class TokenManager {
 public:
  enum class Ready { yes, pending, failed };

  TokenManager(HttpMulti& multi, HttpSettings http, std::string token_url, std::string client_id,
               Secret client_secret, const hal::Clock& clock, TokenPolicy policy = {});
  ~TokenManager();
  TokenManager(const TokenManager&) = delete;
  TokenManager& operator=(const TokenManager&) = delete;

  // yes: token() is usable now. pending: an exchange is running (on_change fires when it
  // ends). failed: in backoff after a failure; last_failure() says why.
  Ready ensure();
  // Starts a proactive renewal when one is due; call from the loop (the client's perform()).
  void tick();
  // Time until tick() has work (renewal due or backoff over); capped at `cap`.
  std::chrono::milliseconds next_due(std::chrono::milliseconds cap) const;

  const Secret& token() const { return token_; }
  std::uint64_t generation() const { return generation_; }
  // The server refused a token of this generation (401): drop it so ensure() fetches anew.
  void invalidate(std::uint64_t generation);
  bool fetching() const { return fetching_; }
  // The network may be back (the daemon's netlink watch): a backoff after a network failure
  // (not a refused key, not a Retry-After, not an HTTP answer) ends at `at` at the latest, so
  // the next request that needs a token fetches one instead of failing on the old backoff.
  void network_changed(hal::Clock::MonoTime at);

  TokenStatus status() const;
  const TokenFailure& last_failure() const { return failure_; }
  // Called after every exchange ends (success or failure).
  void set_on_change(std::function<void()> cb) { on_change_ = std::move(cb); }

  // Builds the form body (exposed for tests). Returns false if it does not fit.
  static bool form_body(std::string_view client_id, std::string_view secret, Secret& out);

 private:
  struct Exchange;
  bool start_exchange();
  void finish(Exchange& x, CURL* easy, CURLcode rc);
  void record_failure(TokenFailure f);
  void record_success(std::string_view token, std::chrono::seconds lifetime, hal::Clock::MonoTime sent);
  bool usable(hal::Clock::MonoTime now) const;
  void set_renewal_points(std::chrono::milliseconds margin);

  HttpMulti& multi_;
  HttpSettings http_;
  std::string token_url_, client_id_;
  Secret client_secret_;
  const hal::Clock& clock_;
  TokenPolicy policy_;

  Secret token_;
  std::uint64_t generation_ = 0;
  hal::Clock::MonoTime expires_at_{}, renew_at_{}, refresh_at_{}, next_attempt_{};
  hal::Clock::WallTime valid_until_{};
  std::chrono::seconds lifetime_{0};
  bool fetching_ = false;
  bool have_token_ = false;
  bool rejected_ = false;
  unsigned failures_ = 0;
  std::uint64_t obtained_ = 0;
  TokenFailure failure_;
  std::string last_error_;
  std::function<void()> on_change_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace agent
