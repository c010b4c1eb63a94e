// SPDX-License-Identifier: Apache-2.0
// FakeGraphqlClient: a GraphqlClient for unit tests. submit() only queues; pump() answers the
// queued requests through `handler` (as a real client does from its loop), so callbacks never
// run inside submit(). Every request is logged with its operation name and variables.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/graphql/graphql.hpp"

namespace testing_support {

struct SentRequest {
  std::string op;  // operation name from the document, e.g. "FindUnit"
  std::string document;
  std::string variables;  // compact JSON
};

class FakeGraphqlClient final : public agent::GraphqlClient {
 public:
  using Handler = std::function<agent::GraphqlResponse(const SentRequest&)>;

  Handler handler;
  std::vector<SentRequest> log;
  // Uploads: logged, answered by pump() through upload_handler (default: network).
  std::function<agent::UploadResponse(const agent::UploadRequest&)> upload_handler;
  std::vector<agent::UploadRequest> uploads;

  void submit(agent::GraphqlRequest request, Callback done) override;
  void upload(agent::UploadRequest request, UploadCallback done) override;
  std::size_t in_flight() const override { return queue_.size() + upload_queue_.size(); }
  // Answers the requests queued before the call; returns how many.
  std::size_t pump();
  std::size_t count(const std::string& op) const;

  // Scripted answers: a request named `op` takes the next answer queued for it. use_script()
  // installs the handler; a request with nothing queued fails the test (or, with
  // unscripted_is_network, gets a refused connection).
  void answer(const std::string& op, agent::GraphqlResponse r);
  void answer(const std::string& op, const std::string& data_json);
  void use_script(bool unscripted_is_network = false);

  static agent::GraphqlResponse ok(const std::string& data_json);
  static agent::GraphqlResponse fail(agent::GraphqlOutcome outcome, const std::string& message,
                                     long http_status = 0);

 private:
  struct Queued {
    SentRequest sent;
    Callback done;
  };
  std::deque<Queued> queue_;
  std::deque<std::pair<agent::UploadRequest, UploadCallback>> upload_queue_;
  std::map<std::string, std::deque<agent::GraphqlResponse>> script_;  // op -> answers in turn
};

}  // namespace testing_support
