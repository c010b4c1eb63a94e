// SPDX-License-Identifier: Apache-2.0
#include "agent/net/token_manager.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <random>

#include "hal/log.hpp"

namespace agent {
namespace {

constexpr const char* kLog = "token";
using TokenReply = SecretBuffer<16384>;  // the whole answer holds the token: keep it wipeable

bool form_escape(std::string_view in, Secret& out) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      char ch = static_cast<char>(c);
      if (!out.append(std::string_view(&ch, 1))) {
        return false;
      }
    } else {
      const char enc[3] = {'%', kHex[c >> 4], kHex[c & 15]};
      if (!out.append(std::string_view(enc, 3))) {
        return false;
      }
    }
  }
  return true;
}

std::string json_str(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) && v->valuestring != nullptr ? v->valuestring : "";
}

// Wipes every string in the tree before it is freed (the reply carries the token).
void wipe_json(cJSON* node) {
  for (; node != nullptr; node = node->next) {
    if (node->valuestring != nullptr) {
      secure_zero(node->valuestring, std::strlen(node->valuestring));
    }
    wipe_json(node->child);
  }
}

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  static std::minstd_rand rng{std::random_device{}()};
  if (d.count() < 2) {
    return d;
  }
  // Equal jitter: half fixed, half random, so a fleet restarting together spreads out.
  std::uniform_int_distribution<long long> dist(0, d.count() / 2);
  return std::chrono::milliseconds(d.count() / 2 + dist(rng));
}

}  // namespace

const char* to_string(TokenStatus::State s) noexcept {
  switch (s) {
    case TokenStatus::State::none:
      return "none";
    case TokenStatus::State::fetching:
      return "fetching";
    case TokenStatus::State::valid:
      return "valid";
    case TokenStatus::State::failed:
      return "failed";
    case TokenStatus::State::rejected:
      return "credentials rejected";
  }
  return "unknown";
}

Json to_json(const TokenStatus& s) {
  Json j(cJSON_CreateObject());
  cJSON_AddStringToObject(j.get(), "state", to_string(s.state));
  if (s.valid_until != hal::Clock::WallTime{}) {
    std::time_t t = std::chrono::system_clock::to_time_t(s.valid_until);
    std::tm tm{};
    char buf[32];
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(j.get(), "valid_until", buf);
  }
  cJSON_AddNumberToObject(j.get(), "lifetime_s", static_cast<double>(s.lifetime.count()));
  if (!s.last_error.empty()) {
    cJSON_AddStringToObject(j.get(), "last_error", s.last_error.c_str());
  }
  cJSON_AddBoolToObject(j.get(), "credentials_rejected", s.credentials_rejected);
  cJSON_AddNumberToObject(j.get(), "consecutive_failures", s.consecutive_failures);
  cJSON_AddNumberToObject(j.get(), "retry_in_ms", static_cast<double>(s.retry_in.count()));
  cJSON_AddNumberToObject(j.get(), "tokens_obtained", static_cast<double>(s.tokens_obtained));
  return j;
}

struct TokenManager::Exchange {
  Secret body;
  TokenReply reply;
  bool overflow = false;
  std::chrono::seconds retry_after{-1};
  CurlSlist headers;
  hal::Clock::MonoTime sent{};
  ~Exchange() {
    for (curl_slist* h = headers.get(); h != nullptr; h = h->next) {
      secure_zero(h->data, std::strlen(h->data));
    }
  }
};

namespace {
std::size_t write_reply(char* p, std::size_t size, std::size_t n, void* user) {
  auto* x = static_cast<TokenReply*>(user);
  if (!x->append(std::string_view(p, size * n))) {
    return 0;  // larger than any token answer: abort (CURLE_WRITE_ERROR)
  }
  return size * n;
}
}  // namespace

TokenManager::TokenManager(HttpMulti& multi, HttpSettings http, std::string token_url, std::string client_id,
                           Secret client_secret, const hal::Clock& clock, TokenPolicy policy)
    : multi_(multi),
      http_(std::move(http)),
      token_url_(std::move(token_url)),
      client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      clock_(clock),
      policy_(policy) {}

TokenManager::~TokenManager() {
  *alive_ = false;  // a transfer still on the multi must not call back into a dead object
}

bool TokenManager::form_body(std::string_view client_id, std::string_view secret, Secret& out) {
  out.clear();
  return out.append("grant_type=client_credentials&client_id=") && form_escape(client_id, out) &&
         out.append("&client_secret=") && form_escape(secret, out);
}

// Never past the renew point: a token sent then could expire on its way (clock skew, a slow
// request), and ION would answer 401.
bool TokenManager::usable(hal::Clock::MonoTime now) const {
  return have_token_ && now < renew_at_;
}

TokenManager::Ready TokenManager::ensure() {
  const auto now = clock_.mono();
  if (usable(now)) {
    return Ready::yes;
  }
  if (fetching_) {
    return Ready::pending;
  }
  if (now < next_attempt_) {
    return Ready::failed;
  }
  return start_exchange() ? Ready::pending : Ready::failed;
}

void TokenManager::tick() {
  const auto now = clock_.mono();
  if (have_token_ && !fetching_ && now >= refresh_at_ && now >= next_attempt_) {
    hal::log::debug(kLog, "renewing access token ahead of expiry");
    start_exchange();
  }
}

void TokenManager::network_changed(hal::Clock::MonoTime at) {
  const bool link_failure =
      failure_.outcome == GraphqlOutcome::network || failure_.outcome == GraphqlOutcome::timeout;
  if (failures_ == 0 || rejected_ || fetching_ || !link_failure || failure_.retry_after.count() >= 0 ||
      failure_.http_status != 0) {
    return;
  }
  if (next_attempt_ > at) {
    next_attempt_ = at;
    hal::log::debug(kLog, "network changed: the token endpoint's backoff ends now");
  }
}

std::chrono::milliseconds TokenManager::next_due(std::chrono::milliseconds cap) const {
  if (!have_token_ || fetching_) {
    return cap;
  }
  auto due = std::max(refresh_at_, next_attempt_) - clock_.mono();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(due);
  return std::clamp(ms, std::chrono::milliseconds(0), cap);
}

void TokenManager::invalidate(std::uint64_t generation) {
  if (generation == generation_ && have_token_) {
    have_token_ = false;
    token_.clear();
  }
}

bool TokenManager::start_exchange() {
  auto x = std::make_shared<Exchange>();
  CurlEasy easy(curl_easy_init());
  TokenFailure f;
  if (!easy || !form_body(client_id_, client_secret_.reveal(), x->body)) {
    f.outcome = GraphqlOutcome::malformed;
    f.messages.push_back("token endpoint: cannot build the request (credentials too long?)");
    record_failure(std::move(f));
    return false;
  }
  hal::Status st = configure_easy(easy.get(), token_url_, http_);
  if (!st.ok()) {
    f.outcome = GraphqlOutcome::http_status;
    f.messages.push_back("token endpoint: " + st.error().what);
    record_failure(std::move(f));
    return false;
  }
  x->headers.reset(curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded"));
  x->headers.reset(curl_slist_append(x->headers.release(), "Accept: application/json"));
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, x->headers.get());
  // POSTFIELDS does not copy: the body stays in our wipeable buffer for the transfer's life.
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, x->body.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(x->body.size()));
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, write_reply);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &x->reply);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, capture_retry_after);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &x->retry_after);
  x->sent = clock_.mono();
  std::weak_ptr<bool> alive = alive_;
  st = multi_.add(std::move(easy), [this, x, alive](CURL* e, CURLcode rc) {
    if (auto a = alive.lock(); a && *a) {
      finish(*x, e, rc);
    }
  });
  if (!st.ok()) {
    f.messages.push_back("token endpoint: " + st.error().what);
    record_failure(std::move(f));
    return false;
  }
  fetching_ = true;
  return true;
}

void TokenManager::finish(Exchange& x, CURL* easy, CURLcode rc) {
  fetching_ = false;
  TokenFailure f;
  f.retry_after = x.retry_after;
  if (rc != CURLE_OK) {
    f.outcome = rc == CURLE_OPERATION_TIMEDOUT ? GraphqlOutcome::timeout : GraphqlOutcome::network;
    f.tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
            rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
    f.messages.push_back(std::string("token endpoint: ") + curl_easy_strerror(rc));
    record_failure(std::move(f));
  } else {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &f.http_status);
    Json j(cJSON_Parse(x.reply.c_str()));
    std::string token = j ? json_str(j.get(), "access_token") : "";
    const cJSON* exp = j ? cJSON_GetObjectItemCaseSensitive(j.get(), "expires_in") : nullptr;
    if (f.http_status == 200 && !token.empty()) {
      // A day at most: a bogus expires_in must not overflow the clock arithmetic or pin a
      // token for ever; a 401 still forces renewal.
      auto life = cJSON_IsNumber(exp) && exp->valuedouble >= 1
                      ? std::chrono::seconds(static_cast<long long>(std::min(exp->valuedouble, 86400.0)))
                      : policy_.default_lifetime;
      record_success(token, life, x.sent);
      secure_zero(token.data(), token.size());
    } else {
      std::string error = j ? json_str(j.get(), "error") : "";
      std::string desc = j ? json_str(j.get(), "error_description") : "";
      if (error == "invalid_client" || error == "unauthorized_client") {
        f.outcome = GraphqlOutcome::credentials;
        f.messages.push_back("token endpoint: credentials rejected (" + error +
                             (desc.empty() ? "" : ": " + desc) +
                             "): the client id/secret is wrong, revoked, or for another ION environment");
      } else if (f.http_status == 429) {
        f.outcome = GraphqlOutcome::rate_limited;
      } else if (f.http_status >= 500) {
        f.outcome = GraphqlOutcome::server_error;
      } else if (f.http_status == 200 || !j) {
        f.outcome = GraphqlOutcome::malformed;
      } else {
        f.outcome = GraphqlOutcome::http_status;
      }
      if (f.messages.empty()) {
        f.messages.push_back("token endpoint: HTTP " + std::to_string(f.http_status) +
                             (error.empty() ? "" : ": " + error) + (desc.empty() ? "" : ": " + desc));
      }
      record_failure(std::move(f));
    }
    if (j) {
      wipe_json(j.get());
    }
  }
  x.reply.clear();
  x.body.clear();
  if (on_change_) {
    on_change_();
  }
}

void TokenManager::record_success(std::string_view token, std::chrono::seconds lifetime,
                                  hal::Clock::MonoTime sent) {
  if (!token_.assign(token)) {
    TokenFailure f;
    f.outcome = GraphqlOutcome::malformed;
    f.messages.push_back("token endpoint: access token longer than " + std::to_string(Secret::kCapacity) +
                         " bytes");
    record_failure(std::move(f));
    return;
  }
  have_token_ = true;
  rejected_ = false;
  failures_ = 0;
  failure_ = TokenFailure{};
  last_error_.clear();
  ++generation_;
  ++obtained_;
  lifetime_ = lifetime;
  // Measured from when the request was sent, so network delay only makes us renew earlier.
  auto margin = std::min<std::chrono::milliseconds>(
      policy_.renew_margin, std::chrono::milliseconds(static_cast<long long>(lifetime.count() * 1000 *
                                                                             policy_.renew_margin_fraction)));
  expires_at_ = sent + lifetime;
  set_renewal_points(margin);
  next_attempt_ = {};
  valid_until_ = clock_.wall() + (expires_at_ - clock_.mono());
  hal::log::info(kLog, "access token obtained, valid for " + std::to_string(lifetime.count()) + " s");
}

// renew_at_: the last moment the token is used (one margin before expiry); refresh_at_: when
// a busy client starts renewing (one more margin earlier), so the new token is normally in
// hand before the old one stops being used.
void TokenManager::set_renewal_points(std::chrono::milliseconds margin) {
  renew_at_ = expires_at_ - margin;
  refresh_at_ = renew_at_ - margin;
}

void TokenManager::record_failure(TokenFailure f) {
  ++failures_;
  std::chrono::milliseconds delay;
  if (f.outcome == GraphqlOutcome::credentials) {
    rejected_ = true;
    have_token_ = false;
    token_.clear();
    delay = policy_.rejected_backoff;
  } else {
    auto exp = policy_.min_backoff * (1LL << std::min(failures_ - 1, 20u));
    delay = jittered(std::min<std::chrono::milliseconds>(exp, policy_.max_backoff));
    if (f.retry_after.count() >= 0) {
      delay = std::max<std::chrono::milliseconds>(delay, f.retry_after);
    }
  }
  next_attempt_ = clock_.mono() + delay;
  last_error_ = f.messages.empty() ? to_string(f.outcome) : f.messages.front();
  hal::log::warning(kLog, last_error_ + " (next attempt in " + std::to_string(delay.count() / 1000) + " s)");
  failure_ = std::move(f);
}

TokenStatus TokenManager::status() const {
  TokenStatus s;
  const auto now = clock_.mono();
  if (fetching_) {
    s.state = TokenStatus::State::fetching;
  } else if (usable(now)) {
    s.state = TokenStatus::State::valid;
  } else if (rejected_) {
    s.state = TokenStatus::State::rejected;
  } else if (failures_ > 0) {
    s.state = TokenStatus::State::failed;
  }
  if (usable(now)) {
    s.valid_until = valid_until_;
  }
  s.lifetime = lifetime_;
  s.last_error = last_error_;
  s.credentials_rejected = rejected_;
  s.consecutive_failures = failures_;
  s.retry_in = now < next_attempt_
                   ? std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now)
                   : std::chrono::milliseconds(0);
  s.tokens_obtained = obtained_;
  return s;
}

}  // namespace agent
