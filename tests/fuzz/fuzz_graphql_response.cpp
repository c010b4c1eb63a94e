// SPDX-License-Identifier: Apache-2.0
// Fuzz target: classifying an ION answer (any HTTP status, any body) and the Retry-After
// header parser, and the batching of documents and splitting of batch replies
// (agent/graphql/batch.hpp). Whatever arrives from the network or a proxy in between, classification must
// return one outcome with a printable summary, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/graphql/batch.hpp"
#include "agent/graphql/graphql.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  // First two bytes pick the status (100..611), the rest is the body.
  long status = 100 + ((data[0] << 8 | data[1]) % 512);
  std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  auto r = agent::classify_graphql_response(status, body, std::chrono::seconds(-1));
  (void)r.summary();
  (void)agent::to_string(r.outcome);
  std::chrono::seconds s{-1};
  (void)agent::parse_retry_after("Retry-After: " + body, s);
  // The body as a document to batch, and as a batch's reply for two members.
  auto m = agent::prepare_member(body, "b0_");
  if (m) {
    (void)agent::batch_document({&*m});
  }
  auto a = agent::prepare_member("mutation { createIssue(input: $i) { issue { id } } }", "b0_");
  auto b = agent::prepare_member("{ units: partInventories { edges { node { id } } } }", "b1_");
  if (a && b) {
    auto split = agent::split_batch_reply(body, {&*a, &*b});
    for (const auto& reply : split.bodies) {
      (void)agent::classify_graphql_response(200, reply, std::chrono::seconds(-1)).summary();
    }
  }
  return 0;
}
