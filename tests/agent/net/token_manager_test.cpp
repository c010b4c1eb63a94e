// SPDX-License-Identifier: Apache-2.0
// TokenManager without a server: the form body, and the backoff after token-endpoint failures
// (a refused loopback port), with time owned by a FakeClock.
#include "agent/net/token_manager.hpp"

#include <CppUTest/TestHarness.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "hal/sim/fake_clock.hpp"

namespace {

// A loopback port with nothing listening (bound, then closed): connects are refused at once.
int refused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

void drive(agent::HttpMulti& multi, agent::TokenManager& tm) {
  std::vector<curl_waitfd> none;
  for (int i = 0; i < 200 && tm.fetching(); ++i) {
    CHECK_TRUE(multi.wait(none, std::chrono::milliseconds(50)).ok());
    multi.perform();
  }
  CHECK_FALSE(tm.fetching());
}

agent::Secret secret(const char* s) {
  agent::Secret out;
  CHECK_TRUE(out.assign(s));
  return out;
}

}  // namespace

TEST_GROUP(TokenManager){};

TEST(TokenManager, FormBodyIsUrlEncoded) {
  agent::Secret body;
  CHECK_TRUE(agent::TokenManager::form_body("id with space", "a+b/c=d&e~f", body));
  STRCMP_EQUAL("grant_type=client_credentials&client_id=id%20with%20space&client_secret=a%2Bb%2Fc%3Dd%26e~f",
               body.c_str());
}

TEST(TokenManager, EndpointFailuresBackOffExponentiallyWithoutHammering) {
  hal::sim::FakeClock clock;
  agent::HttpMulti multi;
  agent::TokenPolicy policy;
  policy.min_backoff = std::chrono::seconds(2);
  policy.max_backoff = std::chrono::seconds(60);
  const std::string url = "http://127.0.0.1:" + std::to_string(refused_port()) + "/token";
  agent::TokenManager tm(multi, {}, url, "id", secret("s"), clock, policy);
  int changes = 0;
  tm.set_on_change([&] { ++changes; });

  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::pending);
  CHECK_TRUE(tm.status().state == agent::TokenStatus::State::fetching);
  drive(multi, tm);
  CHECK_EQUAL(1, changes);
  CHECK_TRUE(tm.last_failure().outcome == agent::GraphqlOutcome::network);
  auto st = tm.status();
  CHECK_TRUE(st.state == agent::TokenStatus::State::failed);
  CHECK_EQUAL(1u, st.consecutive_failures);
  STRCMP_CONTAINS("token endpoint", st.last_error.c_str());
  // Equal jitter: between half and all of the 2 s base.
  CHECK_TRUE(st.retry_in >= std::chrono::seconds(1) && st.retry_in <= std::chrono::seconds(2));

  // In backoff: fails fast, starts no transfer.
  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::failed);
  CHECK_EQUAL(0u, multi.active());

  clock.advance(std::chrono::seconds(2));
  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::pending);
  drive(multi, tm);
  st = tm.status();
  CHECK_EQUAL(2u, st.consecutive_failures);
  CHECK_TRUE(st.retry_in >= std::chrono::seconds(2) && st.retry_in <= std::chrono::seconds(4));

  // Many failures later the delay is capped.
  for (int i = 0; i < 8; ++i) {
    clock.advance(std::chrono::minutes(2));
    CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::pending);
    drive(multi, tm);
  }
  st = tm.status();
  CHECK_EQUAL(10u, st.consecutive_failures);
  CHECK_TRUE(st.retry_in >= std::chrono::seconds(30) && st.retry_in <= std::chrono::seconds(60));
  CHECK_FALSE(st.credentials_rejected);

  // The network comes back: the backoff ends at the given time, not later (never earlier
  // than asked, so the dispatcher's jitter holds for the token too).
  tm.network_changed(clock.mono() + std::chrono::milliseconds(700));
  CHECK_TRUE(tm.status().retry_in == std::chrono::milliseconds(700));
  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::failed);
  clock.advance(std::chrono::milliseconds(700));
  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::pending);
  drive(multi, tm);
}

TEST(TokenManager, NonLoopbackPlainHttpIsRefusedBeforeAnyTraffic) {
  hal::sim::FakeClock clock;
  agent::HttpMulti multi;
  agent::TokenManager tm(multi, {}, "http://auth.example.com/token", "id", secret("s"), clock);
  CHECK_TRUE(tm.ensure() == agent::TokenManager::Ready::failed);
  CHECK_EQUAL(0u, multi.active());
  STRCMP_CONTAINS("refusing plain http://", tm.status().last_error.c_str());
}

TEST(TokenManager, StatusAsJsonForTheStatusCommand) {
  agent::TokenStatus s;
  s.state = agent::TokenStatus::State::rejected;
  s.credentials_rejected = true;
  s.last_error = "token endpoint: credentials rejected";
  s.consecutive_failures = 3;
  s.retry_in = std::chrono::milliseconds(900000);
  agent::Json j = agent::to_json(s);
  agent::JsonText text(cJSON_PrintUnformatted(j.get()));
  STRCMP_EQUAL(
      "{\"state\":\"credentials rejected\",\"lifetime_s\":0,\"last_error\":\"token endpoint: credentials "
      "rejected\",\"credentials_rejected\":true,\"consecutive_failures\":3,\"retry_in_ms\":900000,"
      "\"tokens_obtained\":0}",
      text.get());
  s = {};
  s.state = agent::TokenStatus::State::valid;
  s.valid_until = hal::Clock::WallTime(std::chrono::seconds(1700000300));
  j = agent::to_json(s);
  STRCMP_EQUAL("2023-11-14T22:18:20Z", cJSON_GetObjectItem(j.get(), "valid_until")->valuestring);
}
