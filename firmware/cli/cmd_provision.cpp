// SPDX-License-Identifier: Apache-2.0
// ion-agent provision: seals an ION API key on this board (agent/vault.hpp). The client id
// and secret come from stdin only (one per line; no-echo prompts on a TTY). With --verify a
// token is exchanged first and nothing is written unless that works. Provisioning again
// replaces the sealed file atomically (key rotation).
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "agent/ion/regions.hpp"
#include "agent/net/curl_graphql_client.hpp"
#include "agent/vault/file_key_provider.hpp"
#include "agent/vault/secure_file.hpp"
#include "agent/vault/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "ion_connection.hpp"
#include "secret_input.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent provision [--state-dir DIR] (--region NAME | --api-url URL --token-url URL)\n"
    "                           [--ca-file FILE] [--pinned-public-key PIN] [--verify]\n"
    "\n"
    "Reads the ION API key's client id, then its client secret, one per line from stdin\n"
    "(no-echo prompts on a terminal), and seals them with the ION environment in\n"
    "DIR/credentials.sealed (default " ION_AGENT_DEFAULT_STATE_DIR
    "). Never pass secrets as arguments.\n"
    "  --region NAME        production, staging, gov, gov-staging, aus, aus-staging\n"
    "  --api-url URL        API base (GraphQL at URL/graphql), with --token-url URL\n"
    "  --ca-file FILE       CA bundle to trust for this environment (stored with the key)\n"
    "  --pinned-public-key  libcurl pin, e.g. sha256//BASE64 (stored with the key)\n"
    "  --verify             exchange a token first; save only if that works\n";

struct Args {
  std::string state_dir = agent::kDefaultStateDir;
  std::string region, api_url, token_url, ca_file, pin;
  bool verify = false;
  bool help = false;
};

bool parse(int argc, char** argv, Args& a, std::string& err) {
  for (int i = 0; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--verify") {
      a.verify = true;
    } else if (!(take_option_value(argc, argv, i, "--state-dir", a.state_dir) ||
                 take_option_value(argc, argv, i, "--region", a.region) ||
                 take_option_value(argc, argv, i, "--api-url", a.api_url) ||
                 take_option_value(argc, argv, i, "--token-url", a.token_url) ||
                 take_option_value(argc, argv, i, "--ca-file", a.ca_file) ||
                 take_option_value(argc, argv, i, "--pinned-public-key", a.pin))) {
      err = "unknown option or missing value: " + std::string(s) +
            (s.find("secret") != std::string_view::npos ? " (secrets are read from stdin only)" : "");
      return false;
    }
  }
  return true;
}

// Fills the environment from --region or the explicit URLs; returns an error text or "".
std::string resolve_environment(const Args& a, agent::Credentials& c) {
  if (!a.region.empty()) {
    if (!a.api_url.empty() || !a.token_url.empty()) {
      return "give either --region or --api-url/--token-url, not both";
    }
    const agent::IonRegion* r = agent::find_ion_region(a.region);
    if (r == nullptr) {
      return "unknown region '" + a.region + "' (known: " + agent::ion_region_names() + ")";
    }
    c.region = a.region;
    c.api_url = std::string(r->api_url);
    c.token_url = std::string(r->token_url);
  } else if (!a.api_url.empty() && !a.token_url.empty()) {
    c.api_url = a.api_url;
    c.token_url = a.token_url;
  } else {
    return "say which ION environment: --region NAME, or both --api-url and --token-url";
  }
  for (const std::string* u : {&c.api_url, &c.token_url}) {
    hal::Status st = agent::check_url_allowed(*u);
    if (!st.ok()) {
      return st.error().what;
    }
  }
  if (!a.ca_file.empty() && ::access(a.ca_file.c_str(), R_OK) != 0) {
    return "cannot read CA file " + a.ca_file;
  }
  c.ca_file = a.ca_file;
  c.pinned_public_key = a.pin;
  return "";
}

// Exchanges one token with the given key; returns the exit code (kExitOk on success).
int verify_key(const agent::Credentials& c) {
  agent::GraphqlClientOptions o;
  o.api_url = c.api_url;
  o.token_url = c.token_url;
  o.client_id = c.client_id;
  if (!o.client_secret.assign(c.client_secret.reveal())) {
    return kExitFailure;
  }
  o.http.ca_file = c.ca_file;
  o.http.pinned_public_key = c.pinned_public_key;
  o.http.user_agent = user_agent();
  hal::SystemClock clock;
  auto client = agent::CurlGraphqlClient::create(std::move(o), clock);
  if (!client.ok()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", client.error().what.c_str());
    return kExitConfig;
  }
  auto& tokens = (*client)->tokens();
  if (tokens.ensure() == agent::TokenManager::Ready::pending) {
    (*client)->run_until_idle(std::chrono::seconds(60));
  }
  if (tokens.ensure() == agent::TokenManager::Ready::yes) {
    std::printf("verified: the token endpoint accepted the key\n");
    return kExitOk;
  }
  const agent::TokenFailure& f = tokens.last_failure();
  agent::GraphqlResponse r;
  r.outcome = f.outcome;
  r.http_status = f.http_status;
  r.messages = f.messages;
  r.tls_failure = f.tls;
  r.token_stage = true;
  r.retry_after = f.retry_after;
  agent::HttpSettings http;
  http.ca_file = c.ca_file;
  std::fprintf(stderr, "ion-agent provision: verify failed: %s\n  fix: %s\nNothing was saved.\n",
               r.summary().c_str(), fix_hint(r, http).c_str());
  return exit_code_for(r, kExitTokenEndpoint);
}

}  // namespace

int cmd_provision(int argc, char** argv) {
  Args a;
  std::string err;
  if (!parse(argc, argv, a, err)) {
    std::fprintf(stderr, "ion-agent provision: %s\n\n%s", err.c_str(), kUsage);
    return kExitUsage;
  }
  if (a.help) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  agent::Credentials c;
  err = resolve_environment(a, c);
  if (!err.empty()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", err.c_str());
    return a.region.empty() && a.api_url.empty() && a.token_url.empty() ? kExitUsage : kExitConfig;
  }
  agent::Secret id;
  hal::Status st = read_secret_line(STDIN_FILENO, "ION client id: ", "client id", id);
  if (st.ok()) {
    st = read_secret_line(STDIN_FILENO, "ION client secret: ", "client secret", c.client_secret);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ion-agent %s\n", st.error().what.c_str());
    return kExitUsage;
  }
  c.client_id = std::string(id.reveal());
  id.clear();
  if (a.verify) {
    int rc = verify_key(c);
    if (rc != kExitOk) {
      return rc;
    }
  }
  st = agent::ensure_private_dir(a.state_dir);
  agent::FileKeyProvider keys(device_key_path(a.state_dir));
  agent::FileBoardIdentity board;
  agent::Vault vault(sealed_path(a.state_dir), keys, board);
  if (st.ok()) {
    st = vault.seal(c);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "ion-agent provision: %s\n", st.error().what.c_str());
    int code = exit_code_for(vault.last_failure());
    return code == kExitVaultIo || code == kExitFailure ? kExitCantSave : code;
  }
  std::printf("provisioned: client %s for %s (%s), sealed in %s\n", c.client_id.c_str(),
              c.region.empty() ? "explicit URLs" : c.region.c_str(), c.api_url.c_str(), vault.path().c_str());
  return kExitOk;
}

}  // namespace firmware
