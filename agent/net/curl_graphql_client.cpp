// SPDX-License-Identifier: Apache-2.0
#include "agent/net/curl_graphql_client.hpp"

#include <algorithm>
#include <cstring>

#include "hal/log.hpp"

namespace agent {
namespace {

constexpr const char* kLog = "graphql";

std::size_t append_reply(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

bool is_tls_error(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_CERTPROBLEM;
}

std::string strip_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

}  // namespace

struct CurlGraphqlClient::Pending {
  std::string body;
  Callback done;
  bool retried = false;           // the one retry after a 401 has been used
  bool fresh_connection = false;  // a mutation: never on a reused connection (see start())
  std::uint64_t token_generation = 0;
  std::string reply;
  std::chrono::seconds retry_after{-1};
  CurlSlist headers;
  ~Pending() { wipe_headers(); }
  void wipe_headers() {
    for (curl_slist* h = headers.get(); h != nullptr; h = h->next) {
      secure_zero(h->data, std::strlen(h->data));  // the Authorization line holds the token
    }
    headers.reset();
  }
};

hal::Result<std::unique_ptr<CurlGraphqlClient>> CurlGraphqlClient::create(GraphqlClientOptions o,
                                                                          const hal::Clock& clock) {
  ION_TRY(check_url_allowed(o.api_url), "graphql: API URL");
  ION_TRY(check_url_allowed(o.token_url), "graphql: token URL");
  return std::unique_ptr<CurlGraphqlClient>(new CurlGraphqlClient(std::move(o), clock));
}

CurlGraphqlClient::CurlGraphqlClient(GraphqlClientOptions o, const hal::Clock& clock)
    : graphql_url_(strip_slash(o.api_url) + "/graphql"),
      http_(o.http),
      max_idle_wait_(o.max_idle_wait),
      tokens_(multi_, o.http, o.token_url, o.client_id, std::move(o.client_secret), clock, o.token_policy) {
  std::weak_ptr<bool> alive = alive_;
  tokens_.set_on_change([this, alive] {
    if (auto a = alive.lock(); a && *a) {
      dispatch_waiting();
    }
  });
}

CurlGraphqlClient::~CurlGraphqlClient() {
  *alive_ = false;
}

void CurlGraphqlClient::submit(GraphqlRequest request, Callback done) {
  auto p = std::make_shared<Pending>();
  p->done = std::move(done);
  Json root(cJSON_CreateObject());
  cJSON_AddStringToObject(root.get(), "query", request.document.c_str());
  cJSON* vars = request.variables ? request.variables.release() : cJSON_CreateObject();
  cJSON_AddItemToObject(root.get(), "variables", vars);
  if (!request.operation_name.empty()) {
    cJSON_AddStringToObject(root.get(), "operationName", request.operation_name.c_str());
  }
  JsonText text(cJSON_PrintUnformatted(root.get()));
  if (!text) {
    GraphqlResponse r;
    r.outcome = GraphqlOutcome::malformed;
    r.messages.push_back("graphql: cannot serialise the request");
    complete(*p, std::move(r));
    return;
  }
  p->body = text.get();
  // Conservative: any document that may hold a mutation.
  p->fresh_connection = request.document.find("mutation") != std::string::npos;
  waiting_.push_back(std::move(p));
  dispatch_waiting();
}

std::size_t CurlGraphqlClient::in_flight() const {
  return waiting_.size() + active_ + ready_.size();
}

void CurlGraphqlClient::dispatch_waiting() {
  while (!waiting_.empty()) {
    switch (tokens_.ensure()) {
      case TokenManager::Ready::yes: {
        auto p = std::move(waiting_.front());
        waiting_.pop_front();
        start(std::move(p));
        break;
      }
      case TokenManager::Ready::pending:
        return;
      case TokenManager::Ready::failed:
        fail_waiting_with_token_failure();
        return;
    }
  }
}

void CurlGraphqlClient::fail_waiting_with_token_failure() {
  const TokenFailure& f = tokens_.last_failure();
  while (!waiting_.empty()) {
    auto p = std::move(waiting_.front());
    waiting_.pop_front();
    GraphqlResponse r;
    r.outcome = f.outcome;
    r.http_status = f.http_status;
    r.messages = f.messages;
    r.retry_after = f.retry_after;
    r.token_stage = true;
    r.tls_failure = f.tls;
    complete(*p, std::move(r));
  }
}

void CurlGraphqlClient::start(std::shared_ptr<Pending> p) {
  CurlEasy easy(curl_easy_init());
  hal::Status st = easy ? configure_easy(easy.get(), graphql_url_, http_)
                        : hal::Status(hal::Error(hal::Errc::internal, "curl_easy_init failed"));
  Secret auth;
  if (st.ok() && !(auth.append("Authorization: Bearer ") && auth.append(tokens_.token().reveal()))) {
    st = hal::Error(hal::Errc::internal, "token too long for the header buffer");
  }
  if (!st.ok()) {
    GraphqlResponse r;
    r.outcome = GraphqlOutcome::http_status;
    r.messages.push_back("graphql: " + st.error().what);
    complete(*p, std::move(r));
    return;
  }
  p->token_generation = tokens_.generation();
  p->reply.clear();
  p->retry_after = std::chrono::seconds(-1);
  p->wipe_headers();
  p->headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
  p->headers.reset(curl_slist_append(p->headers.release(), "Accept: application/json"));
  p->headers.reset(curl_slist_append(p->headers.release(), auth.c_str()));
  auth.clear();
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, p->headers.get());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, p->body.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(p->body.size()));
  if (p->fresh_connection) {
    // libcurl silently re-sends a request whose *reused* connection died before any byte of
    // the reply (Curl_retry_request, up to 5 times). A mutation's connection can die after ION
    // applied it, so that resend would apply it twice behind the caller's back. On a fresh
    // connection curl does not retry: the failure reaches the caller, whose operation looks
    // before it acts again (exactly-once in effect; outbox_itest proves it with the
    // simulator's drop-after-apply fault). The connection joins the pool afterwards.
    curl_easy_setopt(easy.get(), CURLOPT_FRESH_CONNECT, 1L);
  }
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append_reply);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &p->reply);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, capture_retry_after);
  curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &p->retry_after);
  std::weak_ptr<bool> alive = alive_;
  st = multi_.add(std::move(easy), [this, alive, p](CURL* e, CURLcode rc) {
    if (auto a = alive.lock(); a && *a) {
      --active_;
      finished(p, e, rc);
    }
  });
  if (!st.ok()) {
    GraphqlResponse r;
    r.outcome = GraphqlOutcome::network;
    r.messages.push_back("graphql: " + st.error().what);
    complete(*p, std::move(r));
    return;
  }
  ++active_;
}

void CurlGraphqlClient::finished(std::shared_ptr<Pending> p, CURL* easy, CURLcode rc) {
  p->wipe_headers();
  if (rc != CURLE_OK) {
    GraphqlResponse r;
    r.outcome = rc == CURLE_OPERATION_TIMEDOUT ? GraphqlOutcome::timeout : GraphqlOutcome::network;
    r.tls_failure = is_tls_error(rc);
    r.messages.push_back(std::string(curl_easy_strerror(rc)) + " (" + graphql_url_ + ")");
    complete(*p, std::move(r));
    return;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  GraphqlResponse r = classify_graphql_response(status, p->reply, p->retry_after);
  if (r.outcome == GraphqlOutcome::unauthorized && !p->retried) {
    // The token may have expired or been revoked server-side: renew once, retry once.
    hal::log::info(kLog, "401 from ION (" +
                             (r.messages.empty() ? std::string("no message") : r.messages.front()) +
                             "); renewing the token and retrying once");
    p->retried = true;
    tokens_.invalidate(p->token_generation);
    waiting_.push_front(std::move(p));
    dispatch_waiting();
    return;
  }
  complete(*p, std::move(r));
}

void CurlGraphqlClient::complete(Pending& p, GraphqlResponse r) {
  ready_.emplace_back(std::move(p.done), std::move(r));
}

void CurlGraphqlClient::perform() {
  multi_.perform();
  if (busy()) {
    tokens_.tick();  // renew ahead of expiry only for requests that need it
  }
  dispatch_waiting();
  // Deliver what finished; callbacks may submit more (delivered on a later round if pending).
  std::size_t n = ready_.size();
  while (n-- > 0 && !ready_.empty()) {
    auto [cb, r] = std::move(ready_.front());
    ready_.pop_front();
    if (cb) {
      cb(std::move(r));
    }
  }
}

std::chrono::milliseconds CurlGraphqlClient::timeout() const {
  if (!ready_.empty()) {
    return std::chrono::milliseconds(0);
  }
  // Renewing a token ahead of expiry is a deadline only while requests want it: an idle
  // client lets the token lapse and fetches a fresh one with the next request.
  auto token = busy() ? tokens_.next_due(max_idle_wait_) : max_idle_wait_;
  return std::min(multi_.timeout(max_idle_wait_), token);
}

hal::Status CurlGraphqlClient::wait(std::vector<curl_waitfd>& extra_fds, std::chrono::milliseconds max_wait) {
  return multi_.wait(extra_fds, std::min(max_wait, timeout()));
}

bool CurlGraphqlClient::run_until_idle(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<curl_waitfd> none;
  perform();
  while (in_flight() > 0 || tokens_.fetching()) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    hal::Status st = wait(none, left);
    (void)st;
    perform();
  }
  return true;
}

}  // namespace agent
