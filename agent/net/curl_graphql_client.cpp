// SPDX-License-Identifier: Apache-2.0
#include "agent/net/curl_graphql_client.hpp"

#include <algorithm>
#include <cstring>

#include "agent/graphql/batch.hpp"
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

// Mutation bodies go through this read callback and no seek callback: libcurl cannot rewind
// them, so its silent resend of a request on a reused connection that died after the body
// left (Curl_retry_request) fails as CURLE_SEND_FAIL_REWIND instead of applying the mutation
// a second time behind our back.
struct BodyCursor {
  const std::string* body = nullptr;
  std::size_t sent = 0;
};

std::size_t read_body(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* c = static_cast<BodyCursor*>(user);
  std::size_t k = std::min(size * n, c->body->size() - c->sent);
  std::memcpy(buf, c->body->data() + c->sent, k);
  c->sent += k;
  return k;
}

bool is_mutation_document(const std::string& document) {
  return document.find("mutation") != std::string::npos;  // conservative, as the ops decide
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
  BodyCursor cursor;
  Callback done;                   // a lone request
  std::vector<Queued> members;     // a batch: the requests it carries ...
  std::vector<BatchMember> parts;  // ... and how each was rewritten
  bool retried = false;            // the one retry after a 401 has been used
  bool mutation = false;           // body through read_body (never resent by libcurl)
  std::uint64_t token_generation = 0;
  std::string reply;
  std::chrono::seconds retry_after{-1};
  CurlSlist headers;
  ~Pending() { wipe_headers(); }
  bool batch() const { return !members.empty(); }
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
      batch_max_(std::max<std::size_t>(1, o.batch_max)),
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
  // Queued until the loop turns (flush() from perform(), wait() or timeout() = 0): the
  // requests that ops submit in one turn of the loop travel together.
  queued_.push_back(Queued{std::move(request), std::move(done), false});
}

namespace {

std::string request_body(const std::string& document, const cJSON* variables, const std::string& name) {
  Json root(cJSON_CreateObject());
  cJSON_AddStringToObject(root.get(), "query", document.c_str());
  cJSON_AddItemToObject(root.get(), "variables",
                        variables != nullptr ? cJSON_Duplicate(variables, 1) : cJSON_CreateObject());
  if (!name.empty()) {
    cJSON_AddStringToObject(root.get(), "operationName", name.c_str());
  }
  JsonText text(cJSON_PrintUnformatted(root.get()));
  return text ? std::string(text.get()) : std::string();
}

}  // namespace

void CurlGraphqlClient::flush() {
  if (queued_.empty()) {
    return;
  }
  std::deque<Queued> q;
  q.swap(queued_);
  // Queries and mutations in separate documents (a document has one operation type); each
  // group in submission order, cut at batch_max_ members (one member = one op's request, an
  // alias per top-level field of it).
  struct Group {
    std::vector<Queued> members;
    std::vector<BatchMember> parts;
  };
  Group groups[2];
  std::size_t n = 0;  // member numbers are unique across both groups: b0_, b1_ ...
  for (auto& item : q) {
    std::optional<BatchMember> part;
    if (!item.solo && batch_max_ > 1) {
      part = prepare_member(item.request.document, "b" + std::to_string(n++) + "_");
    }
    if (!part) {
      start_single(std::move(item));
      continue;
    }
    Group& g = groups[part->mutation ? 1 : 0];
    if (g.members.size() == batch_max_) {
      start_batch(std::move(g.members), std::move(g.parts));
      g = Group{};
    }
    g.members.push_back(std::move(item));
    g.parts.push_back(std::move(*part));
  }
  for (auto& g : groups) {
    if (!g.members.empty()) {
      start_batch(std::move(g.members), std::move(g.parts));
    }
  }
  dispatch_waiting();
}

void CurlGraphqlClient::start_single(Queued item) {
  auto p = std::make_shared<Pending>();
  p->done = std::move(item.done);
  p->mutation = is_mutation_document(item.request.document);
  p->body = request_body(item.request.document, item.request.variables.get(), item.request.operation_name);
  if (p->body.empty()) {
    GraphqlResponse r;
    r.outcome = GraphqlOutcome::malformed;
    r.messages.push_back("graphql: cannot serialise the request");
    ready_.emplace_back(std::move(p->done), std::move(r));
    return;
  }
  ++requests_;
  waiting_.push_back(std::move(p));
}

void CurlGraphqlClient::start_batch(std::vector<Queued> members, std::vector<BatchMember> parts) {
  if (members.size() == 1) {
    start_single(std::move(members.front()));  // sent as written, no aliases
    return;
  }
  auto p = std::make_shared<Pending>();
  std::vector<const BatchMember*> refs;
  std::vector<const cJSON*> vars;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    refs.push_back(&parts[i]);
    vars.push_back(members[i].request.variables.get());
  }
  p->mutation = parts.front().mutation;
  Json variables = batch_variables(refs, vars);
  p->body = request_body(batch_document(refs), variables.get(), "Batch");
  p->members = std::move(members);
  p->parts = std::move(parts);
  ++requests_;
  ++batches_;
  waiting_.push_back(std::move(p));
}

std::size_t CurlGraphqlClient::in_flight() const {
  return queued_.size() + waiting_.size() + active_ + ready_.size() + uploads_active_ + ready_uploads_.size();
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
    complete_all(*p, [&f] {
      GraphqlResponse r;
      r.outcome = f.outcome;
      r.http_status = f.http_status;
      r.messages = f.messages;
      r.retry_after = f.retry_after;
      r.token_stage = true;
      r.tls_failure = f.tls;
      return r;
    });
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
    const std::string what = "graphql: " + st.error().what;
    complete_all(*p, [&what] {
      GraphqlResponse r;
      r.outcome = GraphqlOutcome::http_status;
      r.messages.push_back(what);
      return r;
    });
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
  if (p->mutation) {
    // No silent resend (see read_body): on a reused connection that died after the body left,
    // libcurl fails with CURLE_SEND_FAIL_REWIND and the op looks before it acts again. A
    // query keeps libcurl's resend: reading twice changes nothing.
    p->headers.reset(curl_slist_append(p->headers.release(), "Expect:"));
    p->cursor = BodyCursor{&p->body, 0};
    curl_easy_setopt(easy.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(easy.get(), CURLOPT_READDATA, &p->cursor);
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(p->body.size()));
  } else {
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, p->body.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(p->body.size()));
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
    const std::string what = "graphql: " + st.error().what;
    complete_all(*p, [&what] {
      GraphqlResponse r;
      r.outcome = GraphqlOutcome::network;
      r.messages.push_back(what);
      return r;
    });
    return;
  }
  ++active_;
}

void CurlGraphqlClient::finished(std::shared_ptr<Pending> p, CURL* easy, CURLcode rc) {
  p->wipe_headers();
  if (rc != CURLE_OK) {
    std::string what = curl_easy_strerror(rc);
    if (rc == CURLE_SEND_FAIL_REWIND) {
      what = "the kept-alive connection closed after the mutation was sent; not resent (in doubt)";
    }
    what += " (" + graphql_url_ + ")";
    if (p->batch()) {
      what += " [batch of " + std::to_string(p->members.size()) + "]";
    }
    complete_all(*p, [rc, &what] {
      GraphqlResponse r;
      r.outcome = rc == CURLE_OPERATION_TIMEDOUT ? GraphqlOutcome::timeout : GraphqlOutcome::network;
      r.tls_failure = is_tls_error(rc);
      r.messages.push_back(what);
      return r;
    });
    return;
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status == 401 && !p->retried) {
    // The token may have expired or been revoked server-side: renew once, retry once.
    retry_after_401(std::move(p), "HTTP 401");
    return;
  }
  if (p->batch()) {
    finished_batch(*p, status);
    return;
  }
  GraphqlResponse r = classify_graphql_response(status, p->reply, p->retry_after);
  if (r.outcome == GraphqlOutcome::unauthorized && !p->retried) {
    retry_after_401(std::move(p), r.messages.empty() ? std::string("no message") : r.messages.front());
    return;
  }
  complete(*p, std::move(r));
}

void CurlGraphqlClient::retry_after_401(std::shared_ptr<Pending> p, const std::string& why) {
  hal::log::info(kLog, "401 from ION (" + why + "); renewing the token and retrying once");
  p->retried = true;
  tokens_.invalidate(p->token_generation);
  waiting_.push_front(std::move(p));
  dispatch_waiting();
}

void CurlGraphqlClient::finished_batch(Pending& p, long status) {
  std::vector<const BatchMember*> refs;
  for (const auto& part : p.parts) {
    refs.push_back(&part);
  }
  BatchSplit split = split_batch_reply(p.reply, refs);
  const bool ok_status = status >= 200 && status < 300;
  // Only ION's own refusal of the document (200, or 400 for validation) means nothing ran: a
  // 5xx or 429 with an errors-only body goes to every member as one reply (retried later,
  // looking first), never straight back to a server that may have applied it behind a gateway.
  const bool refused = split.kind == BatchSplit::Kind::refused && (ok_status || status == 400);
  if (refused || (split.kind == BatchSplit::Kind::unattributed && !p.mutation && ok_status)) {
    // Nothing executed (no data), or a query: safe to send each on its own, where any error
    // is its own.
    hal::log::info(kLog, "ION refused a batch of " + std::to_string(p.members.size()) + " (HTTP " +
                             std::to_string(status) + "); sending them one by one");
    ++refused_batches_;
    for (auto& m : p.members) {
      m.solo = true;
      queued_.push_back(std::move(m));
    }
    p.members.clear();
    return;
  }
  if (split.kind == BatchSplit::Kind::per_member) {
    for (std::size_t i = 0; i < p.members.size(); ++i) {
      // A member whose fields came back without errors executed fine, whatever status another
      // member's error gave the batch (ION answers 409 for an etag conflict).
      const bool own_errors = split.with_errors[i];
      GraphqlResponse r =
          classify_graphql_response(own_errors ? status : 200, split.bodies[i], p.retry_after);
      ready_.emplace_back(std::move(p.members[i].done), std::move(r));
    }
    p.members.clear();
    return;
  }
  if (split.kind == BatchSplit::Kind::unattributed && ok_status) {
    // data null as a whole (or an error naming no member) after executing mutations: any of
    // them may have applied. Each op looks before it acts again.
    const std::string what = "batched mutation in doubt: " + split.detail;
    complete_all(p, [&what, status] {
      GraphqlResponse r;
      r.outcome = GraphqlOutcome::network;
      r.http_status = status;
      r.messages.push_back(what);
      return r;
    });
    return;
  }
  // Not a GraphQL reply at all (a proxy's error page, a 5xx): the same for every member.
  const std::string reply = p.reply;
  const auto retry_after = p.retry_after;
  complete_all(
      p, [&reply, status, retry_after] { return classify_graphql_response(status, reply, retry_after); });
}

void CurlGraphqlClient::complete(Pending& p, GraphqlResponse r) {
  ready_.emplace_back(std::move(p.done), std::move(r));
}

void CurlGraphqlClient::complete_all(Pending& p, const std::function<GraphqlResponse()>& make) {
  if (!p.batch()) {
    complete(p, make());
    return;
  }
  for (auto& m : p.members) {
    ready_.emplace_back(std::move(m.done), make());
  }
  p.members.clear();
}

void CurlGraphqlClient::perform() {
  flush();
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
  std::size_t u = ready_uploads_.size();
  while (u-- > 0 && !ready_uploads_.empty()) {
    auto [cb, r] = std::move(ready_uploads_.front());
    ready_uploads_.pop_front();
    if (cb) {
      cb(std::move(r));
    }
  }
}

std::chrono::milliseconds CurlGraphqlClient::timeout() const {
  if (!ready_.empty() || !queued_.empty() || !ready_uploads_.empty()) {
    return std::chrono::milliseconds(0);
  }
  // Renewing a token ahead of expiry is a deadline only while requests want it: an idle
  // client lets the token lapse and fetches a fresh one with the next request.
  auto token = busy() ? tokens_.next_due(max_idle_wait_) : max_idle_wait_;
  return std::min(multi_.timeout(max_idle_wait_), token);
}

hal::Status CurlGraphqlClient::wait(std::vector<curl_waitfd>& extra_fds, std::chrono::milliseconds max_wait) {
  flush();  // what the last turn submitted leaves now, batched
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
