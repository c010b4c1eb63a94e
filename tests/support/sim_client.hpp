// SPDX-License-Identifier: Apache-2.0
// The real GraphQL client pointed at an ION simulator of the tests (IonSim): its URLs, its
// fixture key and CA (or another CA file), no proxy, a 20 s total timeout. Fails the test if
// the client cannot be made.
#pragma once

#include <CppUTest/TestHarness.h>

#include <memory>
#include <string>

#include "agent/net/curl_graphql_client.hpp"
#include "hal/clock.hpp"
#include "ion_sim.hpp"

namespace ion_test {

inline std::unique_ptr<agent::CurlGraphqlClient> make_client(const IonSim& sim, const hal::Clock& clock,
                                                             const char* secret = kSimClientSecret,
                                                             const std::string& ca = "use-sim") {
  agent::GraphqlClientOptions o;
  o.api_url = sim.api_url();
  o.token_url = sim.token_url();
  o.client_id = kSimClientId;
  CHECK_TRUE(o.client_secret.assign(secret));
  o.http.ca_file = ca == "use-sim" ? sim.ca() : ca;
  o.http.proxy = "direct";
  o.http.total_timeout = std::chrono::seconds(20);
  auto c = agent::CurlGraphqlClient::create(std::move(o), clock);
  CHECK_TRUE_TEXT(c.ok(), c.ok() ? "" : c.error().what.c_str());
  return std::move(c).value();
}

}  // namespace ion_test
