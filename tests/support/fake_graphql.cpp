// SPDX-License-Identifier: Apache-2.0
#include "fake_graphql.hpp"

#include <CppUTest/TestHarness.h>

#include <cctype>

namespace testing_support {
namespace {

std::string op_name(const std::string& doc) {
  std::size_t p = doc.find_first_not_of(" \n\t");
  for (const char* kw : {"query", "mutation"}) {
    std::string k = kw;
    if (p != std::string::npos && doc.compare(p, k.size(), k) == 0) {
      std::size_t s = doc.find_first_not_of(' ', p + k.size());
      std::size_t e = s;
      while (e < doc.size() && (std::isalnum(static_cast<unsigned char>(doc[e])) || doc[e] == '_')) {
        ++e;
      }
      return doc.substr(s, e - s);
    }
  }
  return {};
}

}  // namespace

void FakeGraphqlClient::answer(const std::string& op, agent::GraphqlResponse r) {
  script_[op].push_back(std::move(r));
}

void FakeGraphqlClient::answer(const std::string& op, const std::string& data_json) {
  answer(op, ok(data_json));
}

void FakeGraphqlClient::use_script(bool unscripted_is_network) {
  handler = [this, unscripted_is_network](const SentRequest& s) {
    auto it = script_.find(s.op);
    if (it == script_.end() || it->second.empty()) {
      if (unscripted_is_network) {
        return fail(agent::GraphqlOutcome::network, "connection refused");
      }
      FAIL(("unexpected request " + s.op + " " + s.variables).c_str());
    }
    agent::GraphqlResponse r = std::move(it->second.front());
    it->second.pop_front();
    return r;
  };
}

void FakeGraphqlClient::submit(agent::GraphqlRequest request, Callback done) {
  SentRequest s;
  s.op = op_name(request.document);
  s.document = request.document;
  if (request.variables) {
    agent::JsonText t(cJSON_PrintUnformatted(request.variables.get()));
    s.variables = t.get();
  } else {
    s.variables = "{}";
  }
  log.push_back(s);
  queue_.push_back({std::move(s), std::move(done)});
}

void FakeGraphqlClient::upload(agent::UploadRequest request, UploadCallback done) {
  uploads.push_back(request);
  upload_queue_.emplace_back(std::move(request), std::move(done));
}

std::size_t FakeGraphqlClient::pump() {
  std::size_t u = upload_queue_.size();
  for (std::size_t i = 0; i < u; ++i) {
    auto q = std::move(upload_queue_.front());
    upload_queue_.pop_front();
    agent::UploadResponse r;
    r.message = "no upload handler";
    if (upload_handler) {
      r = upload_handler(q.first);
    }
    q.second(std::move(r));
  }
  std::size_t n = queue_.size();
  for (std::size_t i = 0; i < n; ++i) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    agent::GraphqlResponse r = handler ? handler(q.sent) : fail(agent::GraphqlOutcome::network, "no handler");
    q.done(std::move(r));
  }
  return n + u;
}

std::size_t FakeGraphqlClient::count(const std::string& op) const {
  std::size_t n = 0;
  for (const auto& s : log) {
    n += s.op == op ? 1 : 0;
  }
  return n;
}

agent::GraphqlResponse FakeGraphqlClient::ok(const std::string& data_json) {
  agent::GraphqlResponse r;
  r.outcome = agent::GraphqlOutcome::ok;
  r.http_status = 200;
  r.data = agent::Json(cJSON_Parse(data_json.c_str()));
  return r;
}

agent::GraphqlResponse FakeGraphqlClient::fail(agent::GraphqlOutcome outcome, const std::string& message,
                                               long http_status) {
  agent::GraphqlResponse r;
  r.outcome = outcome;
  r.http_status = http_status;
  r.messages.push_back(message);
  return r;
}

}  // namespace testing_support
