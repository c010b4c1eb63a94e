// SPDX-License-Identifier: Apache-2.0
// Reading the key from stdin (pipes, as image builds and Ansible feed it), the profile's
// network settings, and the exit-code mapping of the provision/check commands.
#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "commands.hpp"
#include "ion_connection.hpp"
#include "secret_input.hpp"

namespace {

// A pipe whose read end holds `text` (write end closed: EOF after it).
int pipe_with(const std::string& text) {
  int p[2];
  CHECK_EQUAL(0, ::pipe(p));
  CHECK_EQUAL(static_cast<ssize_t>(text.size()), ::write(p[1], text.data(), text.size()));
  ::close(p[1]);
  return p[0];
}

std::string temp_file(const std::string& text) {
  char name[] = "/tmp/ion-profile-XXXXXX";
  int fd = ::mkstemp(name);
  CHECK_TRUE(fd >= 0);
  CHECK_EQUAL(static_cast<ssize_t>(text.size()), ::write(fd, text.data(), text.size()));
  ::close(fd);
  return name;
}

}  // namespace

TEST_GROUP(SecretInput){};

TEST(SecretInput, ReadsOneValuePerLineAndStopsAtTheNewline) {
  int fd = pipe_with("ion-agent-demo\r\nsecret-123\nleft-over\n");
  agent::Secret id, secret;
  CHECK_TRUE(firmware::read_secret_line(fd, "", "client id", id).ok());
  CHECK_TRUE(firmware::read_secret_line(fd, "", "client secret", secret).ok());
  STRCMP_EQUAL("ion-agent-demo", id.c_str());
  STRCMP_EQUAL("secret-123", secret.c_str());
  // Unbuffered: the next line is still in the pipe, not swallowed by a stdio buffer.
  char rest[16] = {};
  CHECK_EQUAL(10, ::read(fd, rest, sizeof rest));
  STRCMP_EQUAL("left-over\n", rest);
  ::close(fd);
}

TEST(SecretInput, LastLineWithoutNewlineIsAccepted) {
  int fd = pipe_with("only-line");
  agent::Secret s;
  CHECK_TRUE(firmware::read_secret_line(fd, "", "client secret", s).ok());
  STRCMP_EQUAL("only-line", s.c_str());
  auto st = firmware::read_secret_line(fd, "", "client secret", s);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("no client secret on stdin", st.error().what.c_str());
  CHECK_TRUE(s.empty());
  ::close(fd);
}

TEST(SecretInput, RejectsSpacesAndControlsWithoutEchoingTheValue) {
  int fd = pipe_with("abc def-SECRETPART\n");
  agent::Secret s;
  auto st = firmware::read_secret_line(fd, "", "client secret", s);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("client secret contains spaces", st.error().what.c_str());
  CHECK_TRUE(st.error().what.find("SECRETPART") == std::string::npos);
  CHECK_TRUE(s.empty());
  ::close(fd);
}

TEST(SecretInput, EmptyLineIsMissing) {
  int fd = pipe_with("\n");
  agent::Secret s;
  CHECK_FALSE(firmware::read_secret_line(fd, "", "client id", s).ok());
  ::close(fd);
}

TEST_GROUP(ProfileNetwork){};

TEST(ProfileNetwork, ReadsOnlyTheIonNetworkSettings) {
  std::string f = temp_file(
      R"({"ion": {"ca_file": "/etc/x.pem", "proxy": "http://proxy.plant:3128", "connect_timeout_ms": 2500,
          "timeout_ms": 45000}, "inputs": {"scanner": {}}})");
  agent::HttpSettings http;
  http.ca_path = "/keep";
  CHECK_TRUE(firmware::apply_profile_network(f, http).ok());
  STRCMP_EQUAL("/etc/x.pem", http.ca_file.c_str());
  STRCMP_EQUAL("http://proxy.plant:3128", http.proxy.c_str());
  STRCMP_EQUAL("/keep", http.ca_path.c_str());
  CHECK_EQUAL(2500, http.connect_timeout.count());
  CHECK_EQUAL(45000, http.total_timeout.count());
  ::unlink(f.c_str());
}

TEST(ProfileNetwork, ErrorsNameFileAndJsonPath) {
  std::string f = temp_file(R"({"ion": {"timeout_ms": -3}})");
  agent::HttpSettings http;
  auto st = firmware::apply_profile_network(f, http);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS(f.c_str(), st.error().what.c_str());
  STRCMP_CONTAINS("$.ion.timeout_ms", st.error().what.c_str());
  ::unlink(f.c_str());
  st = firmware::apply_profile_network("/nonexistent/profile.json", http);
  CHECK_FALSE(st.ok());
  STRCMP_CONTAINS("/nonexistent/profile.json", st.error().what.c_str());
}

TEST_GROUP(CheckExitCodes){};

TEST(CheckExitCodes, EachFailingStepHasItsOwnCode) {
  agent::GraphqlResponse r;
  r.outcome = agent::GraphqlOutcome::network;
  CHECK_EQUAL(firmware::kExitNetwork, firmware::exit_code_for(r, firmware::kExitQueryMe));
  r.tls_failure = true;
  CHECK_EQUAL(firmware::kExitTls, firmware::exit_code_for(r, firmware::kExitQueryMe));
  r = {};
  r.outcome = agent::GraphqlOutcome::credentials;
  r.token_stage = true;
  CHECK_EQUAL(firmware::kExitCredentials, firmware::exit_code_for(r, firmware::kExitQueryMe));
  r = {};
  r.outcome = agent::GraphqlOutcome::unauthorized;
  r.messages.push_back("Unable to find appropriate RSA key");
  CHECK_EQUAL(firmware::kExitUnauthorized, firmware::exit_code_for(r, firmware::kExitQueryMe));
  STRCMP_CONTAINS("another ION environment", firmware::fix_hint(r, {}).c_str());
  r = {};
  r.outcome = agent::GraphqlOutcome::graphql_errors;
  CHECK_EQUAL(firmware::kExitQueryInventory, firmware::exit_code_for(r, firmware::kExitQueryInventory));
  r.outcome = agent::GraphqlOutcome::server_error;
  CHECK_EQUAL(firmware::kExitServer, firmware::exit_code_for(r, firmware::kExitQueryInventory));
  CHECK_EQUAL(firmware::kExitNotProvisioned, firmware::exit_code_for(agent::VaultFailure::missing));
  CHECK_EQUAL(firmware::kExitVaultPermissions, firmware::exit_code_for(agent::VaultFailure::loose_mode));
  CHECK_EQUAL(firmware::kExitVaultFormat, firmware::exit_code_for(agent::VaultFailure::unknown_format));
  CHECK_EQUAL(firmware::kExitVaultAuth, firmware::exit_code_for(agent::VaultFailure::auth_failed));
}
