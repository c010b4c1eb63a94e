// SPDX-License-Identifier: Apache-2.0
// ion-agent check: proves, step by step, that this board can talk to ION with its sealed key:
//   1 vault   open <state-dir>/credentials.sealed
//   2 token   client-credentials exchange at the sealed token URL
//   3 me      `me { id name organization { id } }`
//   4 query   one `partInventories(first: 3)` with explicit fields
// Prints one line per step; the first failing step ends the check with its own exit code
// (commands.hpp) and a "fix:" line. Exit 0 only when every step passed.
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "agent/net/curl_graphql_client.hpp"
#include "agent/profile/profile.hpp"
#include "agent/vault/vault.hpp"
#include "commands.hpp"
#include "hal/clock.hpp"
#include "ion_connection.hpp"

namespace firmware {
namespace {

constexpr const char* kUsage =
    "Usage: ion-agent check [--state-dir DIR] [--config FILE [--profile-only]] [--ca-file FILE]\n"
    "                       [--tcti CONF]\n"
    "\n"
    "Opens the sealed API key, exchanges a token, runs the `me` query and one partInventories\n"
    "query, and prints what it found. Exit 0 only when every step passed; otherwise the exit\n"
    "code names the failing step (see README, \"Provisioning and checking\").\n"
    "  --state-dir DIR  where credentials.sealed lives (default " ION_AGENT_DEFAULT_STATE_DIR
    ")\n"
    "  --config FILE    station profile: validated in full first (every error with its JSON\n"
    "                   path); its \"ion\" network settings (CA, proxy, timeouts) are used\n"
    "  --profile-only   with --config: only validate the profile (no vault, no network)\n"
    "  --ca-file FILE   CA bundle to trust (overrides the profile and the provisioned one)\n"
    "  --tcti CONF      TPM for a tpm2-sealed key (default $TPM2TOOLS_TCTI, $TSS2_TCTI,\n"
    "                   device:/dev/tpmrm0)\n";

constexpr const char* kMeQuery = "query AgentCheckMe { me { id name organization { id } } }";
constexpr const char* kInventoryQuery =
    "query AgentCheckInventory($first: Int!) { partInventories(first: $first) { edges { node { id "
    "serialNumber lotNumber quantity status part { id partNumber } location { id name } } } pageInfo { "
    "hasNextPage } } }";

struct Args {
  std::string state_dir = agent::kDefaultStateDir;
  std::string config, ca_file, tcti;
  bool help = false;
  bool profile_only = false;
};

std::string text_of(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (cJSON_IsString(v)) {
    return v->valuestring;
  }
  if (cJSON_IsNumber(v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v->valuedouble);
    return buf;
  }
  return "-";
}

// The daemon's own loader: the whole profile, every problem listed.
int check_profile(const std::string& path) {
  auto p = agent::load_profile(path);
  if (!p.ok()) {
    std::printf("[FAIL] config %s\n", p.error().what.c_str());
    return kExitConfig;
  }
  std::printf("[ok]   config %s: %zu input(s), %zu output(s), %zu rule(s)\n", path.c_str(), p->inputs.size(),
              p->outputs.size(), p->rules.size());
  return kExitOk;
}

int step_failed(const char* step, const agent::GraphqlResponse& r, const agent::HttpSettings& http,
                int query_code) {
  std::printf("[FAIL] %-6s %s\n", step, r.summary().c_str());
  std::string hint = fix_hint(r, http);
  if (!hint.empty()) {
    std::printf("       fix: %s\n", hint.c_str());
  }
  return exit_code_for(r, query_code);
}

agent::GraphqlResponse run_query(agent::CurlGraphqlClient& client, agent::GraphqlRequest req) {
  agent::GraphqlResponse out;
  out.outcome = agent::GraphqlOutcome::timeout;
  out.messages.push_back("no answer within 120 s");
  client.submit(std::move(req), [&out](agent::GraphqlResponse r) { out = std::move(r); });
  client.run_until_idle(std::chrono::seconds(120));
  return out;
}

void print_inventory(const cJSON* data) {
  const cJSON* conn = cJSON_GetObjectItemCaseSensitive(data, "partInventories");
  const cJSON* edges = cJSON_GetObjectItemCaseSensitive(conn, "edges");
  int n = cJSON_IsArray(edges) ? cJSON_GetArraySize(edges) : 0;
  const cJSON* page = cJSON_GetObjectItemCaseSensitive(conn, "pageInfo");
  bool more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "hasNextPage"));
  std::printf("[ok]   query  partInventories: %d unit(s) shown%s\n", n, more ? ", more available" : "");
  const cJSON* e = nullptr;
  cJSON_ArrayForEach(e, edges) {
    const cJSON* node = cJSON_GetObjectItemCaseSensitive(e, "node");
    const cJSON* part = cJSON_GetObjectItemCaseSensitive(node, "part");
    const cJSON* loc = cJSON_GetObjectItemCaseSensitive(node, "location");
    std::string serial = text_of(node, "serialNumber");
    std::printf("         id %s  %s %s  qty %s  %s  at %s\n", text_of(node, "id").c_str(),
                text_of(part, "partNumber").c_str(),
                serial != "-" ? serial.c_str() : text_of(node, "lotNumber").c_str(),
                text_of(node, "quantity").c_str(), text_of(node, "status").c_str(),
                text_of(loc, "name").c_str());
  }
}

int run_check(const Args& a) {
  if (!a.config.empty()) {
    int rc = check_profile(a.config);
    if (rc != kExitOk || a.profile_only) {
      return rc;
    }
  }
  hal::SystemClock clock;
  IonConnectOptions opts;
  opts.state_dir = a.state_dir;
  opts.profile_path = a.config;
  opts.ca_file = a.ca_file;
  opts.tcti = a.tcti;
  int code = kExitFailure;
  auto conn = connect_ion(opts, clock, &code);
  if (!conn.ok()) {
    std::printf("[FAIL] %-6s %s\n", code == kExitConfig ? "config" : "vault", conn.error().what.c_str());
    return code;
  }
  char when[32] = "?";
  std::time_t t = static_cast<std::time_t>(conn->sealed_at);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  std::printf("[ok]   vault  client %s, %s, sealed %s, key protected by %s\n", conn->client_id.c_str(),
              conn->region.empty() ? conn->api_url.c_str() : conn->region.c_str(), when,
              conn->key_provider.c_str());
  const agent::HttpSettings& http = conn->http;
  auto& client = conn->client;
  agent::GraphqlRequest me;
  me.document = kMeQuery;
  agent::GraphqlResponse r = run_query(*client, std::move(me));
  agent::TokenStatus ts = client->token_status();
  if (r.token_stage || ts.tokens_obtained == 0) {
    return step_failed("token", r, http, kExitTokenEndpoint);
  }
  std::printf("[ok]   token  from %s (valid %lld s)\n", conn->token_url.c_str(),
              static_cast<long long>(ts.lifetime.count()));
  if (r.outcome != agent::GraphqlOutcome::ok) {
    return step_failed("me", r, http, kExitQueryMe);
  }
  const cJSON* user = cJSON_GetObjectItemCaseSensitive(r.data.get(), "me");
  if (!cJSON_IsObject(user)) {
    r.outcome = agent::GraphqlOutcome::malformed;
    r.messages.push_back("`me` returned no user");
    return step_failed("me", r, http, kExitQueryMe);
  }
  std::printf("[ok]   me     user %s \"%s\", organization %s\n", text_of(user, "id").c_str(),
              text_of(user, "name").c_str(),
              text_of(cJSON_GetObjectItemCaseSensitive(user, "organization"), "id").c_str());
  agent::GraphqlRequest inv;
  inv.document = kInventoryQuery;
  inv.variables = agent::Json(cJSON_CreateObject());
  cJSON_AddNumberToObject(inv.variables.get(), "first", 3);
  r = run_query(*client, std::move(inv));
  if (r.outcome != agent::GraphqlOutcome::ok) {
    return step_failed("query", r, http, kExitQueryInventory);
  }
  print_inventory(r.data.get());
  std::printf("all checks passed\n");
  return kExitOk;
}

}  // namespace

int cmd_check(int argc, char** argv) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--profile-only") {
      a.profile_only = true;
    } else if (!(take_option_value(argc, argv, i, "--state-dir", a.state_dir) ||
                 take_option_value(argc, argv, i, "--config", a.config) ||
                 take_option_value(argc, argv, i, "--ca-file", a.ca_file) ||
                 take_option_value(argc, argv, i, "--tcti", a.tcti))) {
      std::fprintf(stderr, "ion-agent check: unknown option or missing value: %s\n\n%s", argv[i], kUsage);
      return kExitUsage;
    }
  }
  if (a.help) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return run_check(a);
}

}  // namespace firmware
