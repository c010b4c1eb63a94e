// SPDX-License-Identifier: Apache-2.0
// FakeGraphqlClient: a GraphqlClient for unit tests. submit() only queues; pump() answers the
// queued requests through `handler` (as a real client does from its loop), so callbacks never
// run inside submit(). Every request is logged with its operation name and variables.
#pragma once

#include <deque>
#include <functional>
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
};

}  // namespace testing_support
